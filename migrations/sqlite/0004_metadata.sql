-- The application's own JSON object per token, as compact JSON text.
ALTER TABLE tokenkeep_tokens ADD COLUMN metadata TEXT;
