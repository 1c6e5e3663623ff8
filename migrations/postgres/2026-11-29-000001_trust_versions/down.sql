DROP INDEX permits_trust_version;
ALTER TABLE permits DROP COLUMN trust_version;
DROP TABLE trust_version;
