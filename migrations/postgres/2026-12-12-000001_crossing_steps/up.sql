-- A trip is recorded by the crossing that makes it, not by rewriting the permit. `step` is the
-- permit's movement count after the crossing (an exit makes it odd, its return entry even), NULL
-- for a crossing that moved nothing. A permit's trip state is the larger of its row's (the state
-- before this migration, and at the end of its last allowed trip, when the row is written with
-- status 'used') and its highest step. The batch's UPDATE of its permits was half the scan
-- writer's statement time (pg_stat_statements, ops/bench/scan.sh).
ALTER TABLE crossings ADD COLUMN step INTEGER;
-- One admit per movement as a rule of the database: two deciders that read the same state write
-- the same step, and the second is refused. NULLs are distinct, so the index still lists a
-- permit's crossings (it replaces crossings_permit, and costs no extra entry per scan).
DROP INDEX crossings_permit;
CREATE UNIQUE INDEX crossings_permit_step ON crossings (permit_number, step);
-- A trip changes what offline verifiers and other scan writers know of the permit: logged under
-- the version its transaction holds (every writer of a trip takes one first, as the scan writer
-- and the offline upload do; the counter row is theirs until commit), as the permits' triggers
-- log a stamp. Once per statement: a batch of scans inserts its crossings in one.
CREATE FUNCTION trust_changes_trips() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO trust_changes (version, permit_number)
    SELECT DISTINCT (SELECT version FROM trust_version WHERE id = 1), permit_number
    FROM added WHERE step IS NOT NULL
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER trust_changes_trips AFTER INSERT ON crossings
REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION trust_changes_trips();
