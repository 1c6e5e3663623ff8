-- The trips recorded only by steps go back onto the permits' rows before the steps go.
UPDATE permits SET
    entries_used = (SELECT (MAX(step) + 1) / 2 FROM crossings c WHERE c.permit_number = permits.number),
    last_direction = CASE (SELECT MAX(step) FROM crossings c WHERE c.permit_number = permits.number) % 2
        WHEN 1 THEN 'exit' ELSE 'entry' END
WHERE (SELECT MAX(step) FROM crossings c WHERE c.permit_number = permits.number)
    > 2 * entries_used - CASE last_direction WHEN 'exit' THEN 1 ELSE 0 END;
DROP TRIGGER trust_changes_trips;
DROP INDEX crossings_permit_step;
CREATE INDEX crossings_permit ON crossings (permit_number);
ALTER TABLE crossings DROP COLUMN step;
