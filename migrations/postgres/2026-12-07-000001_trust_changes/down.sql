ALTER TABLE permits RESET (fillfactor);
CREATE INDEX permits_trust_version ON permits (trust_version);
DROP TRIGGER trust_changes_insert ON permits;
DROP TRIGGER trust_changes_update ON permits;
DROP FUNCTION trust_changes_insert();
DROP FUNCTION trust_changes_update();
DROP TABLE trust_changes;
