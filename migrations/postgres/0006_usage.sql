-- Uses left and refills, as JSON (`{"remaining": 10, ...}`), consumed by
-- the store in one atomic section per verification.
ALTER TABLE tokenkeep_tokens ADD COLUMN usage TEXT;
