ALTER TABLE crossings ADD CONSTRAINT crossings_client_id_key UNIQUE (client_id);
DROP INDEX crossings_client;
