-- Who issued a token, who revoked or rotated it, and why. Rows written
-- before this migration keep NULL: their history did not record it.
ALTER TABLE tokenkeep_tokens ADD COLUMN created_by TEXT;
ALTER TABLE tokenkeep_tokens ADD COLUMN revoked_by TEXT;
ALTER TABLE tokenkeep_tokens ADD COLUMN revoke_reason TEXT
    CHECK (revoke_reason IN ('revoked', 'revoke_all', 'rotated', 'rotation_grace', 'reuse_detected'));
