-- The applicant's lookup code for the public progress page (issue 9, defect 7), printed on the
-- receipt and kept only as a hash, and the wrong tries that lock the lookup. In the database,
-- not in memory, so every instance counts the same tries. Applications taken before this
-- migration have no row: their lookup stays closed until the desk prints a receipt.
CREATE TABLE progress_access (
    application_id TEXT PRIMARY KEY REFERENCES applications (id),
    code_hash TEXT NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    issued_by TEXT NOT NULL REFERENCES officers (id),
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP
);
