-- Outpost's tamper-evident audit log: one row per request or decision, one Merkle log per tenant (RFC 9162 style),
-- signed checkpoints over it, and the record of every retention prune. Only the AuditLog grain writes these tables.
--
-- Append-only: privileges are revoked and triggers (enabled ALWAYS, so session_replication_role does not silence them)
-- refuse UPDATE and TRUNCATE outright. DELETE is refused too, except for rows that a recorded prune has released:
-- events, and checkpoints, that lie wholly before the signed checkpoint a prune row names. Anyone able to disable the
-- triggers can still change rows; verification (GET /v1/audit/verify) then finds the first changed event.

CREATE TABLE IF NOT EXISTS outpost_audit_events
(
    tenant_id       text        NOT NULL,
    -- The event's leaf index in its tenant's Merkle log: dense from 0, never reused.
    seq             bigint      NOT NULL,
    -- The random 128-bit id the gateway returned in X-Request-Id (32 hex digits).
    request_id      text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    subject         text        NOT NULL,
    client_id       text        NOT NULL,
    source_address  text        NOT NULL,
    action          text        NOT NULL,
    scopes          text        NOT NULL,
    -- allowed or denied; rule names what decided, reason says why in words.
    decision        text        NOT NULL,
    rule            text        NOT NULL,
    reason          text        NOT NULL,
    -- Where the work ran: target is edge:<device>, cloud:<model> or empty; silo the edge silo's address.
    target          text        NOT NULL,
    device          text        NOT NULL,
    silo            text        NOT NULL,
    model           text        NOT NULL,
    cost_micros     bigint      NOT NULL,
    status          integer     NOT NULL,
    outcome         text        NOT NULL,
    request_sha256  bytea       NOT NULL,
    response_sha256 bytea       NOT NULL,
    -- The bodies themselves, only for tenants that store them; outside the leaf, checked against the digests.
    request_body    bytea       NULL,
    response_body   bytea       NULL,
    -- SHA-256(0x00 || canonical event): lets a grain reload its tree without re-encoding every event.
    leaf_hash       bytea       NOT NULL,
    CONSTRAINT pk_outpost_audit_events PRIMARY KEY (tenant_id, seq),
    CONSTRAINT uq_outpost_audit_events_request UNIQUE (request_id),
    CONSTRAINT ck_outpost_audit_events_seq CHECK (seq >= 0),
    CONSTRAINT ck_outpost_audit_events_digests CHECK (octet_length(request_sha256) = 32 AND octet_length(response_sha256) = 32 AND octet_length(leaf_hash) = 32)
);

CREATE INDEX IF NOT EXISTS ix_outpost_audit_events_tenant_time ON outpost_audit_events (tenant_id, occurred_at, seq);

CREATE TABLE IF NOT EXISTS outpost_audit_checkpoints
(
    tenant_id  text        NOT NULL,
    tree_size  bigint      NOT NULL,
    root_hash  bytea       NOT NULL,
    signed_at  timestamptz NOT NULL,
    key_id     text        NOT NULL,
    -- ECDSA P-256 over SHA-256 of the checkpoint's text, r || s (64 bytes).
    signature  bytea       NOT NULL,
    CONSTRAINT pk_outpost_audit_checkpoints PRIMARY KEY (tenant_id, tree_size),
    CONSTRAINT ck_outpost_audit_checkpoints_size CHECK (tree_size >= 0 AND octet_length(root_hash) = 32)
);

-- A prune removed the events before tree_size, which a signed checkpoint covers; compact_range keeps the hashes of the
-- maximal perfect subtrees over the removed leaves, so the rest of the log still recomputes to every remaining root.
CREATE TABLE IF NOT EXISTS outpost_audit_prunes
(
    tenant_id     text        NOT NULL,
    tree_size     bigint      NOT NULL,
    compact_range bytea       NOT NULL,
    pruned_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_outpost_audit_prunes PRIMARY KEY (tenant_id, tree_size),
    CONSTRAINT fk_outpost_audit_prunes_checkpoint FOREIGN KEY (tenant_id, tree_size)
        REFERENCES outpost_audit_checkpoints (tenant_id, tree_size),
    CONSTRAINT ck_outpost_audit_prunes_range CHECK (octet_length(compact_range) % 32 = 0)
);

-- The control plane's checkpoint signing keys; private parts sealed with the master key (AES-256-GCM, key_id bound).
CREATE TABLE IF NOT EXISTS outpost_audit_keys
(
    key_id      text        NOT NULL,
    algorithm   text        NOT NULL,
    public_key  bytea       NOT NULL,
    private_key bytea       NOT NULL,
    nonce       bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_outpost_audit_keys PRIMARY KEY (key_id)
);

-- Per-tenant audit settings. No row: keep events forever, store no bodies.
CREATE TABLE IF NOT EXISTS outpost_audit_settings
(
    tenant_id      text        NOT NULL,
    retention_days integer     NULL,
    store_bodies   boolean     NOT NULL DEFAULT false,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_outpost_audit_settings PRIMARY KEY (tenant_id),
    CONSTRAINT ck_outpost_audit_settings_retention CHECK (retention_days IS NULL OR retention_days >= 1)
);

REVOKE UPDATE, DELETE, TRUNCATE ON outpost_audit_events, outpost_audit_checkpoints, outpost_audit_prunes, outpost_audit_keys FROM PUBLIC;

CREATE OR REPLACE FUNCTION outpost_audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS
$fn$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$fn$;

-- A row may go only when a recorded prune covers it: its seq (or, for a checkpoint, its tree size) lies before the
-- tree size of one of its tenant's prunes. The checkpoint a prune names stays, held by the foreign key.
CREATE OR REPLACE FUNCTION outpost_audit_allow_pruned_delete() RETURNS trigger
LANGUAGE plpgsql AS
$fn$
DECLARE
    leaf_position bigint;
BEGIN
    IF TG_TABLE_NAME = 'outpost_audit_events' THEN
        leaf_position := OLD.seq;
    ELSE
        leaf_position := OLD.tree_size;
    END IF;

    IF NOT EXISTS (SELECT 1 FROM outpost_audit_prunes p WHERE p.tenant_id = OLD.tenant_id AND p.tree_size > leaf_position) THEN
        RAISE EXCEPTION '% is append-only: only rows released by a recorded prune can be deleted (tenant %, position %)',
            TG_TABLE_NAME, OLD.tenant_id, leaf_position
            USING ERRCODE = 'insufficient_privilege';
    END IF;

    RETURN OLD;
END;
$fn$;

DROP TRIGGER IF EXISTS trg_outpost_audit_events_append_only ON outpost_audit_events;
CREATE TRIGGER trg_outpost_audit_events_append_only
    BEFORE UPDATE OR TRUNCATE ON outpost_audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION outpost_audit_refuse_change();
ALTER TABLE outpost_audit_events ENABLE ALWAYS TRIGGER trg_outpost_audit_events_append_only;

DROP TRIGGER IF EXISTS trg_outpost_audit_events_prune_only ON outpost_audit_events;
CREATE TRIGGER trg_outpost_audit_events_prune_only
    BEFORE DELETE ON outpost_audit_events
    FOR EACH ROW EXECUTE FUNCTION outpost_audit_allow_pruned_delete();
ALTER TABLE outpost_audit_events ENABLE ALWAYS TRIGGER trg_outpost_audit_events_prune_only;

DROP TRIGGER IF EXISTS trg_outpost_audit_checkpoints_append_only ON outpost_audit_checkpoints;
CREATE TRIGGER trg_outpost_audit_checkpoints_append_only
    BEFORE UPDATE OR TRUNCATE ON outpost_audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION outpost_audit_refuse_change();
ALTER TABLE outpost_audit_checkpoints ENABLE ALWAYS TRIGGER trg_outpost_audit_checkpoints_append_only;

DROP TRIGGER IF EXISTS trg_outpost_audit_checkpoints_prune_only ON outpost_audit_checkpoints;
CREATE TRIGGER trg_outpost_audit_checkpoints_prune_only
    BEFORE DELETE ON outpost_audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION outpost_audit_allow_pruned_delete();
ALTER TABLE outpost_audit_checkpoints ENABLE ALWAYS TRIGGER trg_outpost_audit_checkpoints_prune_only;

DROP TRIGGER IF EXISTS trg_outpost_audit_prunes_append_only ON outpost_audit_prunes;
CREATE TRIGGER trg_outpost_audit_prunes_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON outpost_audit_prunes
    FOR EACH STATEMENT EXECUTE FUNCTION outpost_audit_refuse_change();
ALTER TABLE outpost_audit_prunes ENABLE ALWAYS TRIGGER trg_outpost_audit_prunes_append_only;

DROP TRIGGER IF EXISTS trg_outpost_audit_keys_append_only ON outpost_audit_keys;
CREATE TRIGGER trg_outpost_audit_keys_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON outpost_audit_keys
    FOR EACH STATEMENT EXECUTE FUNCTION outpost_audit_refuse_change();
ALTER TABLE outpost_audit_keys ENABLE ALWAYS TRIGGER trg_outpost_audit_keys_append_only;
