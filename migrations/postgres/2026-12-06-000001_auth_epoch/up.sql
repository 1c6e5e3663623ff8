-- Every instance remembers who a token or session belongs to, and trusts that memory only while
-- this counter stands where it stood when the memory was read. Whatever could withdraw or alter
-- a sign-in (an officer changed, disabled or removed, a token revoked, a session ended, a
-- driver's language changed) moves it in the same transaction. Triggers do it, so that no code
-- path and no operator's hand-written SQL can forget to. Row triggers, not statement triggers:
-- a sweep of expired sessions that finds none must not empty every instance's memory.
CREATE TABLE auth_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO auth_epoch (id, version) VALUES (1, 1);

CREATE FUNCTION auth_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE auth_epoch SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER auth_epoch_officers AFTER UPDATE OR DELETE ON officers
    FOR EACH ROW EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER auth_epoch_tokens AFTER UPDATE OR DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER auth_epoch_sessions AFTER UPDATE OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER auth_epoch_driver_sessions AFTER UPDATE OR DELETE ON driver_sessions
    FOR EACH ROW EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER auth_epoch_drivers_lang AFTER UPDATE OF lang ON drivers
    FOR EACH ROW EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER auth_epoch_drivers_delete AFTER DELETE ON drivers
    FOR EACH ROW EXECUTE FUNCTION auth_epoch_bump();
