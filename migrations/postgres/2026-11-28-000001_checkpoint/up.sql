-- Checkpoint scans: every attempt recorded, admitted or not; trips tracked on the permit.

-- exit or entry: the direction of the last admitted crossing (a trip is an exit then an entry).
ALTER TABLE permits ADD COLUMN last_direction TEXT;

CREATE TABLE crossings (
    id TEXT PRIMARY KEY,
    -- Set by offline devices so that a batch sent twice is recorded once.
    client_id TEXT UNIQUE,
    permit_number TEXT,
    -- SHA-256 of what was scanned: enough to match repeats without keeping personal data.
    code_hash TEXT NOT NULL,
    lane TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('exit', 'entry')),
    device TEXT NOT NULL REFERENCES officers (id),
    at TIMESTAMP NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('admit', 'reject')),
    reason TEXT NOT NULL,
    -- When the officer marked the vehicle cleared; otherwise the check ends at the lane's next scan.
    cleared_at TIMESTAMP
);
CREATE INDEX crossings_lane_at ON crossings (lane, at);
CREATE INDEX crossings_permit ON crossings (permit_number);

-- The trust bundle lists revoked and used permits still in force, and needs to know which keys
-- still have permits in force: indexed, so building it does not scan every permit.
CREATE INDEX permits_status_until ON permits (status, valid_until);
CREATE INDEX permits_key_until ON permits (key_id, valid_until);
-- Outstanding (容缺) items, for pending and suspended permits.
CREATE INDEX application_materials_outstanding ON application_materials (provided, application_id);
