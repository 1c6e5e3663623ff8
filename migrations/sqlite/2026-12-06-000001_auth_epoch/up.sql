-- Every instance remembers who a token or session belongs to, and trusts that memory only while
-- this counter stands where it stood when the memory was read. Whatever could withdraw or alter
-- a sign-in (an officer changed, disabled or removed, a token revoked, a session ended, a
-- driver's language changed) moves it in the same transaction. Triggers do it, so that no code
-- path and no operator's hand-written SQL can forget to.
CREATE TABLE auth_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO auth_epoch (id, version) VALUES (1, 1);

CREATE TRIGGER auth_epoch_officers_update AFTER UPDATE ON officers
BEGIN UPDATE auth_epoch SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_officers_delete AFTER DELETE ON officers
BEGIN UPDATE auth_epoch SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_tokens_update AFTER UPDATE ON api_tokens
BEGIN UPDATE auth_epoch SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_tokens_delete AFTER DELETE ON api_tokens
BEGIN UPDATE auth_epoch SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_sessions_update AFTER UPDATE ON sessions
BEGIN UPDATE auth_epoch SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_sessions_delete AFTER DELETE ON sessions
BEGIN UPDATE auth_epoch SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_driver_sessions_update AFTER UPDATE ON driver_sessions
BEGIN UPDATE auth_epoch SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_driver_sessions_delete AFTER DELETE ON driver_sessions
BEGIN UPDATE auth_epoch SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_drivers_lang AFTER UPDATE OF lang ON drivers
BEGIN UPDATE auth_epoch SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER auth_epoch_drivers_delete AFTER DELETE ON drivers
BEGIN UPDATE auth_epoch SET version = version + 1 WHERE id = 1; END;
