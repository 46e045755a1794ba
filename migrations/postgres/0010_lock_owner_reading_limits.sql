-- The owner's change lock, held until the transaction ends: the changes
-- of one owner queue across every instance.
CREATE FUNCTION tokenkeep_lock_owner(who TEXT) RETURNS VOID
LANGUAGE sql VOLATILE AS $$
    SELECT pg_advisory_xact_lock(
        hashtextextended('tokenkeep:' || current_schema() || ':' || who, 0));
$$;

-- The lock, then the owner's shared limits: one round trip where a
-- change that stamps them (an issue) made two. VOLATILE, so the read
-- takes its snapshot after the lock is held, and sees a change of the
-- limits committed while this one waited for it.
CREATE FUNCTION tokenkeep_lock_owner_reading_limits(who TEXT) RETURNS TEXT
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM tokenkeep_lock_owner(who);
    RETURN (SELECT limits FROM tokenkeep_owner_limits WHERE owner = who FOR UPDATE);
END
$$;
