-- Each restore from a backup. What happened between the backup and the restore is lost to the
-- database but not to the world: permits were printed and handed out, devices took trust
-- bundles. So a restore moves every serial counter past a gap (numbers the lost permits may
-- carry are never given again) and the trust version past a gap (a device holding a version
-- from the lost stretch gets a full bundle, never a delta built on versions it never saw).
CREATE TABLE restores (
    id TEXT PRIMARY KEY,
    restored_at TIMESTAMP NOT NULL,
    backup_taken_at TIMESTAMP NOT NULL,
    -- Trust versions never issued by this database: a `since` in [trust_from, trust_to] is a
    -- version of the lost stretch.
    trust_from BIGINT NOT NULL,
    trust_to BIGINT NOT NULL,
    serial_gap BIGINT NOT NULL,
    CHECK (trust_to >= trust_from AND serial_gap >= 0)
);
