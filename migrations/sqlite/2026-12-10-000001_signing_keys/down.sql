-- An older binary reads its keys from DATA_DIR/keys: rename DATA_DIR/keys.imported back to
-- DATA_DIR/keys before downgrading (keys created after the upgrade exist only in the database).
DROP TABLE service_secrets;
DROP TABLE key_ring_version;
DROP TABLE signing_keys;
