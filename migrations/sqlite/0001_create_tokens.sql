-- Token records: hashes and metadata, never a plaintext.
-- Instants are UTC milliseconds since the Unix epoch.
CREATE TABLE tokenkeep_tokens (
    id             BLOB    PRIMARY KEY CHECK (length(id) = 16),
    owner          TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    description    TEXT,
    hash           BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
    display_prefix TEXT    NOT NULL,
    scopes         TEXT    NOT NULL,
    profile        TEXT,
    kind           TEXT    NOT NULL CHECK (kind IN ('persistent', 'temporary')),
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER,
    last_used_at   INTEGER,
    revoked_at     INTEGER,
    replaced_by    BLOB
) STRICT;

CREATE INDEX tokenkeep_tokens_owner ON tokenkeep_tokens (owner, name);

-- One row, 'ever_held', once the store has held any token: setup stays claimed.
CREATE TABLE tokenkeep_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
