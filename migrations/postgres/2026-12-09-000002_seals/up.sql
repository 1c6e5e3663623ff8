-- The register of official seals (业务用章) and digital certificates (the permit-signing keys),
-- who holds each (授权登记: granted and withdrawn, by whom and when), and each use of a seal on
-- a document the service prints.
CREATE TABLE seals (
    id TEXT PRIMARY KEY,
    office TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('seal', 'certificate')),
    name TEXT NOT NULL,
    -- The seal's number as engraved, or the certificate's key id.
    reference TEXT NOT NULL,
    -- The printed document that bears the seal; a certificate bears none.
    applies_to TEXT CHECK (applies_to IN ('permit', 'notice')),
    registered_at TIMESTAMP NOT NULL,
    registered_by TEXT NOT NULL REFERENCES officers (id),
    retired_at TIMESTAMP,
    retired_by TEXT REFERENCES officers (id),
    retire_reason TEXT,
    CHECK (kind = 'seal' OR applies_to IS NULL),
    CHECK ((retired_at IS NULL) = (retired_by IS NULL))
);
CREATE UNIQUE INDEX seals_reference ON seals (office, kind, reference);
-- One seal in use per document and office: a print knows which seal it bears.
CREATE UNIQUE INDEX seals_in_use ON seals (office, applies_to)
    WHERE retired_at IS NULL AND applies_to IS NOT NULL;

CREATE TABLE seal_grants (
    id TEXT PRIMARY KEY,
    seal_id TEXT NOT NULL REFERENCES seals (id),
    holder TEXT NOT NULL REFERENCES officers (id),
    granted_at TIMESTAMP NOT NULL,
    granted_by TEXT NOT NULL REFERENCES officers (id),
    note TEXT,
    withdrawn_at TIMESTAMP,
    withdrawn_by TEXT REFERENCES officers (id),
    withdraw_reason TEXT,
    CHECK ((withdrawn_at IS NULL) = (withdrawn_by IS NULL))
);
-- One holder at a time.
CREATE UNIQUE INDEX seal_grants_one_holder ON seal_grants (seal_id) WHERE withdrawn_at IS NULL;
CREATE INDEX seal_grants_by_seal ON seal_grants (seal_id, granted_at);

CREATE TABLE seal_uses (
    id TEXT PRIMARY KEY,
    seal_id TEXT NOT NULL REFERENCES seals (id),
    used_at TIMESTAMP NOT NULL,
    used_by TEXT NOT NULL REFERENCES officers (id),
    -- Who held the seal then; none when it was used while nobody held it (flagged).
    holder TEXT REFERENCES officers (id),
    document TEXT NOT NULL CHECK (document IN ('permit', 'notice')),
    -- The permit number, or the application the notice is for.
    document_ref TEXT NOT NULL
);
CREATE INDEX seal_uses_by_seal ON seal_uses (seal_id, used_at);
