CREATE TABLE crossings_rebuilt (
    id TEXT PRIMARY KEY,
    client_id TEXT UNIQUE,
    permit_number TEXT,
    code_hash TEXT NOT NULL,
    lane TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('exit', 'entry')),
    device TEXT NOT NULL REFERENCES officers (id),
    at TIMESTAMP NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('admit', 'reject')),
    reason TEXT NOT NULL,
    cleared_at TIMESTAMP
);
INSERT INTO crossings_rebuilt (id, client_id, permit_number, code_hash, lane, direction, device, at, verdict, reason, cleared_at)
SELECT id, client_id, permit_number, code_hash, lane, direction, device, at, verdict, reason, cleared_at FROM crossings;
DROP TABLE crossings;
ALTER TABLE crossings_rebuilt RENAME TO crossings;
CREATE INDEX crossings_lane_at ON crossings (lane, at);
CREATE INDEX crossings_permit ON crossings (permit_number);
