-- The whole schema of this release, for MySQL 8 and MariaDB 10.6 or later.
-- Text compares byte for byte (utf8mb4_bin): an owner or a name matches
-- only itself, as on PostgreSQL and SQLite. Instants are UTC.
CREATE TABLE tokenkeep_tokens (
    id             VARBINARY(16)  NOT NULL PRIMARY KEY,
    owner          VARCHAR(256)   NOT NULL,
    name           VARCHAR(255)   NOT NULL,
    description    TEXT,
    hash           VARBINARY(32)  NOT NULL,
    display_prefix VARCHAR(255)   NOT NULL,
    scopes         MEDIUMTEXT     NOT NULL,
    profile        TEXT,
    kind           VARCHAR(16)    NOT NULL,
    created_at     DATETIME(6)    NOT NULL,
    expires_at     DATETIME(6),
    last_used_at   DATETIME(6),
    revoked_at     DATETIME(6),
    replaced_by    VARBINARY(16),
    created_by     TEXT,
    revoked_by     TEXT,
    revoke_reason  VARCHAR(32),
    metadata       MEDIUMTEXT,
    rate_limit     VARCHAR(64),
    `usage`        TEXT,
    allowed_ips    TEXT,
    owner_limits   TEXT,
    UNIQUE KEY tokenkeep_tokens_hash (hash),
    KEY tokenkeep_tokens_owner (owner, name),
    KEY tokenkeep_tokens_expiry (expires_at),
    CONSTRAINT tokenkeep_tokens_kind CHECK (kind IN ('persistent', 'temporary')),
    CONSTRAINT tokenkeep_tokens_revoke_reason CHECK (revoke_reason IN
        ('revoked', 'revoke_all', 'rotated', 'rotation_grace', 'reuse_detected', 'leaked'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One row per owner that has changed anything: a change locks it first, so
-- the changes of one owner queue across every instance.
CREATE TABLE tokenkeep_owners (
    owner   VARCHAR(256) NOT NULL PRIMARY KEY,
    changes BIGINT UNSIGNED NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Limits every token of an owner shares (JSON), read and written under the
-- owner's lock.
CREATE TABLE tokenkeep_owner_limits (
    owner  VARCHAR(256) NOT NULL PRIMARY KEY,
    limits TEXT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE tokenkeep_meta (
    `key` VARCHAR(64) NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The change feed: one row per record a change wrote, numbered in the
-- order written, which the other instances' caches poll.
CREATE TABLE tokenkeep_changes (
    seq        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    hash       VARBINARY(32)   NOT NULL,
    changed_at DATETIME(6)     NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    KEY tokenkeep_changes_at (changed_at)
) ENGINE = InnoDB;
