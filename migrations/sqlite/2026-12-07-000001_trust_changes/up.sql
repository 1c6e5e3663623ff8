-- Which permits each trust version changed, as an append-only log. Readers of "what changed
-- since version v" (the scan index of every instance, offline verifiers' deltas) read it instead
-- of an index on permits.trust_version: that index lost an entry on a random page with every
-- trip a scan records, where the log only grows at its end. Triggers write it in the changing
-- statement's transaction, so no code path can stamp a permit without logging it.
CREATE TABLE trust_changes (
    version BIGINT NOT NULL,
    permit_number TEXT NOT NULL,
    PRIMARY KEY (version, permit_number)
) WITHOUT ROWID;
INSERT INTO trust_changes (version, permit_number)
SELECT trust_version, number FROM permits WHERE trust_version > 0;

-- A batch of scans stamps every permit it changes with one version, twice if a permit crosses
-- twice in it: the log keeps one row.
CREATE TRIGGER trust_changes_update AFTER UPDATE OF trust_version ON permits
WHEN NEW.trust_version <> OLD.trust_version
BEGIN
    INSERT OR IGNORE INTO trust_changes (version, permit_number) VALUES (NEW.trust_version, NEW.number);
END;
CREATE TRIGGER trust_changes_insert AFTER INSERT ON permits
WHEN NEW.trust_version > 0
BEGIN
    INSERT OR IGNORE INTO trust_changes (version, permit_number) VALUES (NEW.trust_version, NEW.number);
END;

DROP INDEX permits_trust_version;
