-- Outpost's spend ledger: one row per committed charge, written by the TenantQuota grain before it acknowledges a
-- commit. The grain's counters reset every budget period; this table keeps the history for chargeback.
-- Append-only: rows are never updated or removed.

CREATE TABLE IF NOT EXISTS outpost_spend_ledger
(
    id                 bigserial   NOT NULL,
    tenant_id          text        NOT NULL,
    client_id          text        NOT NULL,
    kind               text        NOT NULL,
    target             text        NOT NULL,
    request_id         text        NOT NULL,
    reservation_id     text        NOT NULL,
    -- What was charged against the budgets (micro-dollars); at most the budget could absorb.
    cost_micros        bigint      NOT NULL,
    -- What the caller reported; above cost_micros only when the charge was capped.
    actual_cost_micros bigint      NOT NULL,
    input_tokens       integer     NOT NULL,
    output_tokens      integer     NOT NULL,
    paid               boolean     NOT NULL,
    period_start       timestamptz NOT NULL,
    committed_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_outpost_spend_ledger PRIMARY KEY (id),
    -- A reservation is charged once: a commit retried after a crash finds its earlier row.
    CONSTRAINT uq_outpost_spend_ledger_reservation UNIQUE (reservation_id),
    CONSTRAINT ck_outpost_spend_ledger_amounts CHECK (cost_micros >= 0 AND actual_cost_micros >= 0 AND input_tokens >= 0 AND output_tokens >= 0)
);

-- GET /v1/spend reads one tenant's rows over a time range.
CREATE INDEX IF NOT EXISTS ix_outpost_spend_ledger_tenant_time ON outpost_spend_ledger (tenant_id, committed_at);

-- Privileges do not bind the table's owner or a superuser, so a trigger refuses changes to existing rows as well.
REVOKE UPDATE, DELETE, TRUNCATE ON outpost_spend_ledger FROM PUBLIC;

CREATE OR REPLACE FUNCTION outpost_spend_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS
$fn$
BEGIN
    RAISE EXCEPTION 'outpost_spend_ledger is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Record a correction as a new row.';
END;
$fn$;

-- Statement-level, so that a change is refused even when it matches no rows, and TRUNCATE is covered too.
DROP TRIGGER IF EXISTS trg_outpost_spend_ledger_append_only ON outpost_spend_ledger;
CREATE TRIGGER trg_outpost_spend_ledger_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON outpost_spend_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION outpost_spend_ledger_append_only();

-- ALWAYS: the trigger fires even with session_replication_role = replica, which silences ordinary triggers.
ALTER TABLE outpost_spend_ledger ENABLE ALWAYS TRIGGER trg_outpost_spend_ledger_append_only;
