ALTER TABLE applications DROP COLUMN portrait_at;
DROP TABLE portraits;
