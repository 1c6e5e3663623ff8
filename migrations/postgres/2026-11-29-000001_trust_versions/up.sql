-- Offline verifiers fetch what changed since the version they hold. Each change that matters to
-- them (revoked, used up, out of the country, materials outstanding or supplied) stamps the
-- permit with the next version, taken from this one-row counter inside the same transaction:
-- the row lock orders commits, so a reader never skips a version that commits later.
CREATE TABLE trust_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO trust_version (id, version) VALUES (1, 1);

ALTER TABLE permits ADD COLUMN trust_version BIGINT NOT NULL DEFAULT 0;
-- Permits already carrying something a verifier must know start at version 1.
UPDATE permits SET trust_version = 1
WHERE status IN ('revoked', 'used')
   OR last_direction = 'exit'
   OR application_id IN (SELECT application_id FROM application_materials WHERE provided = FALSE);
CREATE INDEX permits_trust_version ON permits (trust_version);
