-- The role Outpost's processes should run as: outpost_app, a group role that cannot log in and owns nothing. A login
-- role for the services is made a member of it (run.sh makes outpost_service); the owner of the tables (whoever runs
-- the migrations) stays outside the running system.
--
-- It gets exactly what the code does with each table. The append-only tables get no UPDATE and no TRUNCATE, so they
-- are refused by privilege before the triggers of 0005 and 0006 are even asked; DELETE on the audit events and
-- checkpoints is granted for retention only, and their triggers still refuse it for anything a recorded prune has not
-- released.
--
-- Roles belong to the whole server, not to one database. When the migrating role may not create roles, the group role
-- is left to the operator (CREATE ROLE outpost_app NOLOGIN) and this migration grants to it once it exists.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'outpost_app')
        AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolcreaterole)) THEN
        BEGIN
            CREATE ROLE outpost_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            -- Another database's migration on the same server created it a moment ago.
            NULL;
        END;
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'outpost_app') THEN
        RAISE NOTICE 'role outpost_app does not exist and % may not create it; no privileges granted', current_user;
        RETURN;
    END IF;

    EXECUTE 'GRANT USAGE ON SCHEMA ' || quote_ident(current_schema()) || ' TO outpost_app';

    -- Orleans: the stored queries are read-only; membership, grain state and reminders are read and written.
    GRANT SELECT ON orleansquery, outpost_schema_version TO outpost_app;
    GRANT SELECT, INSERT, UPDATE, DELETE
        ON orleansmembershipversiontable, orleansmembershiptable, orleansstorage, orleansreminderstable TO outpost_app;

    -- Identity and tenancy: administered through the gateway, so read and written.
    GRANT SELECT, INSERT, UPDATE, DELETE
        ON outpost_tenants, outpost_clients, outpost_tenant_admins, outpost_signing_keys, outpost_device_codes,
           outpost_device_assignments, outpost_audit_settings
        TO outpost_app;

    -- Append-only records.
    GRANT SELECT, INSERT ON outpost_spend_ledger, outpost_audit_prunes, outpost_audit_keys TO outpost_app;
    GRANT SELECT, INSERT, DELETE ON outpost_audit_events, outpost_audit_checkpoints TO outpost_app;
    EXECUTE 'GRANT USAGE ON ALL SEQUENCES IN SCHEMA ' || quote_ident(current_schema()) || ' TO outpost_app';
END
$$;
