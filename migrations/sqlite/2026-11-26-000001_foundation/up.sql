-- Foundation: officers and their access, travellers, applications, permits, audit.
-- Portable types only (TEXT, BIGINT, INTEGER, BOOLEAN, DATE, TIMESTAMP as naive UTC) so the
-- SQLite and PostgreSQL folders stay the same schema.

CREATE TABLE officers (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('officer', 'supervisor', 'checkpoint', 'admin')),
    grants TEXT NOT NULL DEFAULT '',
    office TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    officer_id TEXT NOT NULL REFERENCES officers (id),
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_officer ON sessions (officer_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    officer_id TEXT NOT NULL REFERENCES officers (id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX api_tokens_officer ON api_tokens (officer_id);

CREATE TABLE travellers (
    id TEXT PRIMARY KEY,
    name_zh TEXT,
    name_latin TEXT NOT NULL,
    nationality TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_date DATE NOT NULL,
    id_type TEXT NOT NULL,
    id_number TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX travellers_document ON travellers (id_type, id_number);

CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    traveller_id TEXT NOT NULL REFERENCES travellers (id),
    office TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES officers (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX applications_created ON applications (created_at);

-- One row per serial series; incremented inside the issuing transaction so serials are gapless
-- (a sequence would leave gaps on rollback).
CREATE TABLE serial_counters (
    series TEXT PRIMARY KEY,
    last_value BIGINT NOT NULL
);

CREATE TABLE permits (
    number TEXT PRIMARY KEY,
    series TEXT NOT NULL,
    serial BIGINT NOT NULL,
    application_id TEXT NOT NULL UNIQUE REFERENCES applications (id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('issued', 'used', 'revoked')),
    traveller_id TEXT NOT NULL REFERENCES travellers (id),
    office TEXT NOT NULL,
    valid_from TIMESTAMP NOT NULL,
    valid_until TIMESTAMP NOT NULL,
    entries_allowed INTEGER NOT NULL,
    entries_used INTEGER NOT NULL DEFAULT 0,
    key_id TEXT NOT NULL,
    signed_code TEXT NOT NULL,
    issued_by TEXT NOT NULL REFERENCES officers (id),
    issued_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_by TEXT REFERENCES officers (id),
    revoke_reason TEXT,
    UNIQUE (series, serial)
);
CREATE INDEX permits_issued ON permits (issued_at);

-- One permit per idempotency key and principal, whatever the concurrency.
CREATE TABLE idempotency_keys (
    officer_id TEXT NOT NULL REFERENCES officers (id),
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    permit_number TEXT NOT NULL REFERENCES permits (number),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (officer_id, idem_key)
);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor TEXT,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX audit_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_at ON audit_log (at);
