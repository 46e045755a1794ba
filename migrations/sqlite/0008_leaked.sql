-- A token reported as leaked is revoked with the reason `leaked`. SQLite
-- cannot change a column's CHECK, so the table is built again with it, in
-- the order the earlier migrations left its columns.
CREATE TABLE tokenkeep_tokens_next (
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
    replaced_by    BLOB,
    created_by     TEXT,
    revoked_by     TEXT,
    revoke_reason  TEXT
        CHECK (revoke_reason IN ('revoked', 'revoke_all', 'rotated', 'rotation_grace', 'reuse_detected', 'leaked')),
    metadata       TEXT,
    rate_limit     TEXT,
    usage          TEXT,
    allowed_ips    TEXT
) STRICT;

INSERT INTO tokenkeep_tokens_next
    SELECT id, owner, name, description, hash, display_prefix, scopes, profile, kind,
           created_at, expires_at, last_used_at, revoked_at, replaced_by, created_by,
           revoked_by, revoke_reason, metadata, rate_limit, usage, allowed_ips
    FROM tokenkeep_tokens;

DROP TABLE tokenkeep_tokens;
ALTER TABLE tokenkeep_tokens_next RENAME TO tokenkeep_tokens;

CREATE INDEX tokenkeep_tokens_owner ON tokenkeep_tokens (owner, name);
CREATE INDEX tokenkeep_tokens_expiry ON tokenkeep_tokens (expires_at)
    WHERE revoked_at IS NULL AND expires_at IS NOT NULL;
