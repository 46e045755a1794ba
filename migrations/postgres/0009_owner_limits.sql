-- Limits every token of an owner shares: one row per owner that has any,
-- JSON `{"rate_limit": "100/1m", "usage": {...}}`, read and written under
-- the owner's change.
CREATE TABLE tokenkeep_owner_limits (
    owner TEXT PRIMARY KEY,
    limits TEXT NOT NULL
);
-- What each token carries of its owner's limits (JSON `{"rate_limit",
-- "uses"}`), so verification knows without a lookup; NULL for none.
ALTER TABLE tokenkeep_tokens ADD COLUMN owner_limits TEXT;
