-- The audit intake: where a gateway makes a request's event durable before it sends the response, with one round trip
-- to PostgreSQL and no control silo on the way. The tenant's AuditLog grain then logs each staged event (gives it its
-- position and leaf in the Merkle log) and removes it from here in the same transaction, usually within milliseconds;
-- a control silo's sweeper logs whatever a crash left behind. Certificate Transparency works the same way: a log
-- promises inclusion at once and merges within a bounded delay.
--
-- Append-only until logged: UPDATE and TRUNCATE are refused outright, and a row may be deleted only once its event is
-- in outpost_audit_events, so the application's role cannot make a staged event vanish before it is logged.

CREATE TABLE IF NOT EXISTS outpost_audit_intake
(
    tenant_id  text        NOT NULL,
    request_id text        NOT NULL,
    staged_at  timestamptz NOT NULL DEFAULT now(),
    -- The event as the gateway described it, normalized, in UTF-8 JSON (convert_from(event, 'UTF8')::jsonb reads it);
    -- the grain hashes it when it logs it. Kept as bytes so that staging costs PostgreSQL no parsing.
    event      bytea       NOT NULL,
    CONSTRAINT pk_outpost_audit_intake PRIMARY KEY (tenant_id, request_id)
);

REVOKE UPDATE, DELETE, TRUNCATE ON outpost_audit_intake FROM PUBLIC;

-- Checked once per statement over all the rows it removed (the grain removes a whole batch at once); raising here
-- undoes the statement.
CREATE OR REPLACE FUNCTION outpost_audit_allow_logged_intake_delete() RETURNS trigger
LANGUAGE plpgsql AS
$fn$
DECLARE
    unlogged record;
BEGIN
    SELECT r.tenant_id, r.request_id INTO unlogged FROM removed r
    WHERE NOT EXISTS (SELECT 1 FROM outpost_audit_events e WHERE e.request_id = r.request_id AND e.tenant_id = r.tenant_id)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'outpost_audit_intake: event % of tenant % is not logged yet, so it cannot be deleted',
            unlogged.request_id, unlogged.tenant_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;

    RETURN NULL;
END;
$fn$;

DROP TRIGGER IF EXISTS trg_outpost_audit_intake_append_only ON outpost_audit_intake;
CREATE TRIGGER trg_outpost_audit_intake_append_only
    BEFORE UPDATE OR TRUNCATE ON outpost_audit_intake
    FOR EACH STATEMENT EXECUTE FUNCTION outpost_audit_refuse_change();
ALTER TABLE outpost_audit_intake ENABLE ALWAYS TRIGGER trg_outpost_audit_intake_append_only;

DROP TRIGGER IF EXISTS trg_outpost_audit_intake_logged_only ON outpost_audit_intake;
CREATE TRIGGER trg_outpost_audit_intake_logged_only
    AFTER DELETE ON outpost_audit_intake
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION outpost_audit_allow_logged_intake_delete();
ALTER TABLE outpost_audit_intake ENABLE ALWAYS TRIGGER trg_outpost_audit_intake_logged_only;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'outpost_app') THEN
        GRANT SELECT, INSERT, DELETE ON outpost_audit_intake TO outpost_app;
    END IF;
END
$$;
