-- Blank permit cards as controlled stock: batches received by serial range, one row per blank
-- (its serial is the supplier's, printed on the card), each print of a permit on one blank.
-- The primary key on the serial refuses a range overlapping an earlier one, whatever office
-- received it; the unique blank of a print refuses a blank printed twice.
CREATE TABLE blank_batches (
    id TEXT PRIMARY KEY NOT NULL,
    office TEXT NOT NULL,
    first_serial BIGINT NOT NULL,
    last_serial BIGINT NOT NULL,
    received_from TEXT NOT NULL,
    received_by TEXT NOT NULL REFERENCES officers (id),
    received_at TIMESTAMP NOT NULL,
    CHECK (first_serial >= 1 AND last_serial >= first_serial)
);
CREATE INDEX blank_batches_office ON blank_batches (office, received_at);

CREATE TABLE blanks (
    serial BIGINT PRIMARY KEY NOT NULL,
    office TEXT NOT NULL,
    batch_id TEXT NOT NULL REFERENCES blank_batches (id),
    received_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('unused', 'used', 'void')),
    used_at TIMESTAMP,
    voided_at TIMESTAMP,
    void_reason TEXT,
    void_note TEXT,
    voided_by TEXT REFERENCES officers (id),
    CHECK ((status = 'unused') = (used_at IS NULL AND voided_at IS NULL)),
    CHECK ((status = 'void') = (voided_at IS NOT NULL))
);
-- The office's next blank (the lowest unused serial) and its reconciliation read this.
CREATE INDEX blanks_office_status ON blanks (office, status, serial);

CREATE TABLE permit_prints (
    id TEXT PRIMARY KEY NOT NULL,
    permit_number TEXT NOT NULL REFERENCES permits (number),
    office TEXT NOT NULL,
    blank_serial BIGINT NOT NULL UNIQUE REFERENCES blanks (serial),
    printed_by TEXT NOT NULL REFERENCES officers (id),
    printed_at TIMESTAMP NOT NULL,
    -- A reprint names the print it replaces; a print is replaced once at most, and a permit
    -- has one first print: two windows printing one permit at once cannot both succeed.
    replaces TEXT UNIQUE REFERENCES permit_prints (id),
    replace_reason TEXT,
    replace_note TEXT
);
CREATE UNIQUE INDEX permit_prints_first ON permit_prints (permit_number) WHERE replaces IS NULL;
CREATE INDEX permit_prints_office ON permit_prints (office, printed_at);

-- The blanks an officer counted in the drawer, beside what the records say should be there;
-- a difference stays open until a supervisor explains it.
CREATE TABLE blank_counts (
    office TEXT NOT NULL,
    day DATE NOT NULL,
    counted BIGINT NOT NULL,
    expected BIGINT NOT NULL,
    counted_by TEXT NOT NULL REFERENCES officers (id),
    counted_at TIMESTAMP NOT NULL,
    explanation TEXT,
    explained_by TEXT REFERENCES officers (id),
    explained_at TIMESTAMP,
    PRIMARY KEY (office, day)
);
