CREATE INDEX permits_trust_version ON permits (trust_version);
DROP TRIGGER trust_changes_insert;
DROP TRIGGER trust_changes_update;
DROP TABLE trust_changes;
