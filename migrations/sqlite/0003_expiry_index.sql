-- Tokens about to expire, found without a scan: the owners are told in time.
CREATE INDEX tokenkeep_tokens_expiry ON tokenkeep_tokens (expires_at)
    WHERE revoked_at IS NULL AND expires_at IS NOT NULL;
