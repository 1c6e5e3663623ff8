-- Only offline devices' crossings carry a client_id (the key that makes an upload sent twice
-- count once). The inline UNIQUE indexed every crossing, the scanner's NULLs included: one more
-- index entry for every scan. A partial unique index keeps the rule for the crossings that have
-- one (and still serves `client_id = ?`).
CREATE UNIQUE INDEX crossings_client ON crossings (client_id) WHERE client_id IS NOT NULL;
ALTER TABLE crossings DROP CONSTRAINT crossings_client_id_key;
