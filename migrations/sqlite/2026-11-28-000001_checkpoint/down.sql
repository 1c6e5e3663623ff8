DROP TABLE crossings;
ALTER TABLE permits DROP COLUMN last_direction;
