-- Which permits each trust version changed, as an append-only log. Readers of "what changed
-- since version v" (the scan index of every instance, offline verifiers' deltas) read it instead
-- of an index on permits.trust_version, so that no column a trip changes is indexed: a trip's
-- update can then stay on its page (a HOT update) and write no index entry at all, where it
-- wrote one in each of the permits' seven indexes. Triggers write the log in the changing
-- statement's transaction, so no code path can stamp a permit without logging it.
CREATE TABLE trust_changes (
    version BIGINT NOT NULL,
    permit_number TEXT NOT NULL,
    PRIMARY KEY (version, permit_number)
);
INSERT INTO trust_changes (version, permit_number)
SELECT trust_version, number FROM permits WHERE trust_version > 0;

-- Once per statement, over its changed rows (a batch of scans updates its permits in one
-- statement). A permit stamped twice with one version keeps one row.
CREATE FUNCTION trust_changes_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO trust_changes (version, permit_number)
    SELECT n.trust_version, n.number FROM changed_new n JOIN changed_old o ON o.number = n.number
    WHERE n.trust_version <> o.trust_version
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE FUNCTION trust_changes_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO trust_changes (version, permit_number)
    SELECT trust_version, number FROM changed_new WHERE trust_version > 0
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER trust_changes_update AFTER UPDATE ON permits
REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
FOR EACH STATEMENT EXECUTE FUNCTION trust_changes_update();
CREATE TRIGGER trust_changes_insert AFTER INSERT ON permits
REFERENCING NEW TABLE AS changed_new
FOR EACH STATEMENT EXECUTE FUNCTION trust_changes_insert();

DROP INDEX permits_trust_version;
-- Room on each page for a trip's new row version beside the old one.
ALTER TABLE permits SET (fillfactor = 85);
