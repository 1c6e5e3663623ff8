DROP TRIGGER auth_epoch_officers ON officers;
DROP TRIGGER auth_epoch_tokens ON api_tokens;
DROP TRIGGER auth_epoch_sessions ON sessions;
DROP TRIGGER auth_epoch_driver_sessions ON driver_sessions;
DROP TRIGGER auth_epoch_drivers_lang ON drivers;
DROP TRIGGER auth_epoch_drivers_delete ON drivers;
DROP FUNCTION auth_epoch_bump();
DROP TABLE auth_epoch;
