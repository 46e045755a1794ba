-- Token records: hashes and metadata, never a plaintext.
CREATE TABLE tokenkeep_tokens (
    id             BYTEA       PRIMARY KEY CHECK (octet_length(id) = 16),
    owner          TEXT        NOT NULL,
    name           TEXT        NOT NULL,
    description    TEXT,
    hash           BYTEA       NOT NULL UNIQUE CHECK (octet_length(hash) = 32),
    display_prefix TEXT        NOT NULL,
    scopes         TEXT        NOT NULL,
    profile        TEXT,
    kind           TEXT        NOT NULL CHECK (kind IN ('persistent', 'temporary')),
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ,
    last_used_at   TIMESTAMPTZ,
    revoked_at     TIMESTAMPTZ,
    replaced_by    BYTEA
);

CREATE INDEX tokenkeep_tokens_owner ON tokenkeep_tokens (owner, name);

-- One row, 'ever_held', once the store has held any token: setup stays claimed.
CREATE TABLE tokenkeep_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
