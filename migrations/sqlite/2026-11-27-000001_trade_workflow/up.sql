-- Border-trade workflow, 容缺 materials, passport review hand-off, and the working-day calendar.

CREATE TABLE calendar_days (
    day DATE PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT
);

ALTER TABLE applications ADD COLUMN number TEXT;
CREATE UNIQUE INDEX applications_number ON applications (number);
ALTER TABLE applications ADD COLUMN enterprise_name TEXT;
ALTER TABLE applications ADD COLUMN credit_code TEXT;
ALTER TABLE applications ADD COLUMN plates TEXT;
ALTER TABLE applications ADD COLUMN validity_option TEXT;
ALTER TABLE applications ADD COLUMN fee_waived BOOLEAN;
ALTER TABLE applications ADD COLUMN photo_ref TEXT;
ALTER TABLE applications ADD COLUMN accepted_at TIMESTAMP;
ALTER TABLE applications ADD COLUMN accepted_by TEXT;
-- The SLA deadline in force: decision due (trade) or review result due (passport).
ALTER TABLE applications ADD COLUMN due_at TIMESTAMP;
ALTER TABLE applications ADD COLUMN decided_at TIMESTAMP;
ALTER TABLE applications ADD COLUMN decided_by TEXT;
ALTER TABLE applications ADD COLUMN reason TEXT;
-- Why the application is back in the officers' queue (e.g. a missing item was supplied).
ALTER TABLE applications ADD COLUMN attention TEXT;
ALTER TABLE applications ADD COLUMN export_batch TEXT;
CREATE INDEX applications_status ON applications (status, kind);

CREATE TABLE application_materials (
    application_id TEXT NOT NULL REFERENCES applications (id),
    item TEXT NOT NULL,
    provided BOOLEAN NOT NULL,
    due_date DATE,
    provided_at TIMESTAMP,
    provided_by TEXT,
    PRIMARY KEY (application_id, item)
);

CREATE TABLE export_batches (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    payload TEXT NOT NULL,
    signature TEXT NOT NULL,
    acked_at TIMESTAMP
);
