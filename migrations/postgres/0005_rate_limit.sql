-- A token's request rate as written (`100/1m`), enforced by each process.
ALTER TABLE tokenkeep_tokens ADD COLUMN rate_limit TEXT;
