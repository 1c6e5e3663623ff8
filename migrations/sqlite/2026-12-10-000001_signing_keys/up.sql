-- The permit-signing keys, shared by every instance on the database. The private part is sealed
-- (ChaCha20-Poly1305) under the key-encryption key each instance is given (BORDERDESK_KEK or
-- BORDERDESK_KEK_FILE), so a copy of the database or a backup alone cannot sign a permit.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    -- Nonce and ciphertext, base64; emptied when the key is removed (a compromise).
    sealed_secret TEXT NOT NULL,
    -- Which key-encryption key sealed it, to say so plainly when an instance has another.
    kek_id TEXT NOT NULL,
    -- The permit kinds it may sign, comma-separated.
    kinds TEXT NOT NULL,
    not_before TIMESTAMP NOT NULL,
    not_after TIMESTAMP NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'retired', 'removed')),
    created_at TIMESTAMP NOT NULL,
    removed_at TIMESTAMP,
    CHECK ((state = 'removed') = (removed_at IS NOT NULL))
);
-- New permits are signed with one key.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state) WHERE state = 'active';

-- Each instance keeps the ring in memory and reloads it when this counter has moved: a rotation
-- or a removal on one instance holds on every other at its next use of the ring. Triggers move
-- it, so hand-written SQL cannot forget to.
CREATE TABLE key_ring_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO key_ring_version (id, version) VALUES (1, 1);
CREATE TRIGGER key_ring_insert AFTER INSERT ON signing_keys
BEGIN UPDATE key_ring_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER key_ring_update AFTER UPDATE ON signing_keys
BEGIN UPDATE key_ring_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER key_ring_delete AFTER DELETE ON signing_keys
BEGIN UPDATE key_ring_version SET version = version + 1 WHERE id = 1; END;

-- The service's other secrets (the drivers' sign-in code secret), sealed the same way, so that
-- instances on one database share them without copying files.
CREATE TABLE service_secrets (
    name TEXT PRIMARY KEY,
    sealed TEXT NOT NULL,
    kek_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
