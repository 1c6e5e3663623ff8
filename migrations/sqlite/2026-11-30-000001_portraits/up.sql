-- The holder's ID photo (33×48 mm), taken at the hall, possibly after issuing (容缺). Stored
-- normalised (cropped, resized, re-encoded as JPEG without metadata), a few tens of KB each.
CREATE TABLE portraits (
    application_id TEXT PRIMARY KEY REFERENCES applications (id),
    jpeg BLOB NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    taken_at TIMESTAMP NOT NULL,
    taken_by TEXT NOT NULL REFERENCES officers (id)
);
-- Whether there is a portrait, without a second query on the scan path.
ALTER TABLE applications ADD COLUMN portrait_at TIMESTAMP;
