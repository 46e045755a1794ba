-- A token reported as leaked is revoked with the reason `leaked`.
ALTER TABLE tokenkeep_tokens DROP CONSTRAINT IF EXISTS tokenkeep_tokens_revoke_reason_check;
ALTER TABLE tokenkeep_tokens ADD CONSTRAINT tokenkeep_tokens_revoke_reason_check
    CHECK (revoke_reason IN ('revoked', 'revoke_all', 'rotated', 'rotation_grace', 'reuse_detected', 'leaked'));
