-- The role edge silos run as: outpost_edge_app, a group role that cannot log in and owns nothing. An edge device is
-- outside the trust boundary (a Pi's disk can be read by whoever holds the Pi), so its login gets only what an Orleans
-- member that hosts one device grain needs:
--   * membership: every member writes its own row, votes on others and reads the table (Orleans' protocol);
--   * reminders: Orleans spreads the reminder ring over every silo, so an edge silo serves its share of the ring and
--     reads and writes those rows (the worst a compromised one can do there is delay a periodic check);
--   * grain state: only rows stored under the device grain's state name ('device'), enforced by row-level security,
--     so it can neither read nor write a quota, directory or task state.
-- Nothing of identity, audit, the ledger or tasks: no grant at all, so any statement on them fails with
-- "permission denied".
--
-- When the migrating role may not create roles, the group role is left to the operator
-- (CREATE ROLE outpost_edge_app NOLOGIN, then the grants at the end of this file); the row-level security below is in
-- place either way.

-- True when the session's user is a member of outpost_edge_app (false when that role does not exist yet).
CREATE OR REPLACE FUNCTION outpost_session_is_edge() RETURNS boolean
LANGUAGE sql STABLE
AS $body$
    SELECT EXISTS (SELECT 1 FROM pg_roles AS r
                    WHERE r.rolname = 'outpost_edge_app'
                      AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                      AND pg_has_role(current_user, r.oid, 'MEMBER'));
$body$;

-- Grain state rows: everyone but an edge session sees and writes every row; an edge session only the device state.
-- The table's owner (the migrations) and superusers are not subject to row-level security.
ALTER TABLE orleansstorage ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS outpost_storage_rows ON orleansstorage;
CREATE POLICY outpost_storage_rows ON orleansstorage
    USING (NOT (SELECT outpost_session_is_edge()) OR graintypestring = 'device')
    WITH CHECK (NOT (SELECT outpost_session_is_edge()) OR graintypestring = 'device');

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'outpost_edge_app')
        AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolcreaterole)) THEN
        BEGIN
            CREATE ROLE outpost_edge_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            -- Another database's migration on the same server created it a moment ago.
            NULL;
        END;
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'outpost_edge_app') THEN
        RAISE NOTICE 'role outpost_edge_app does not exist and % may not create it; no privileges granted', current_user;
        RETURN;
    END IF;

    EXECUTE 'GRANT USAGE ON SCHEMA ' || quote_ident(current_schema()) || ' TO outpost_edge_app';
    GRANT SELECT ON orleansquery, outpost_schema_version TO outpost_edge_app;
    GRANT SELECT, INSERT, UPDATE, DELETE
        ON orleansmembershipversiontable, orleansmembershiptable, orleansreminderstable TO outpost_edge_app;
    GRANT SELECT, INSERT, UPDATE ON orleansstorage TO outpost_edge_app;
END
$$;
