-- The client address ranges a token may be used from, comma-separated
-- (`10.0.0.0/8,2001:db8::/32`); NULL for any address.
ALTER TABLE tokenkeep_tokens ADD COLUMN allowed_ips TEXT;
