DROP INDEX application_materials_outstanding;
DROP INDEX permits_key_until;
DROP INDEX permits_status_until;
DROP TABLE crossings;
ALTER TABLE permits DROP COLUMN last_direction;
