-- Audit keys and prunes are trusted for what signs them, not for being rows. Anyone who can insert rows (the services'
-- role, and so whoever steals its password) could otherwise add an audit key of their own, sign a checkpoint with it,
-- record a prune at that checkpoint and delete a tenant's oldest events behind it.
--   * A key row carries an endorsement: HMAC-SHA256, under a key derived from the master key, of its id, algorithm and
--     public key. Only a process holding the master key file (a control silo, the gateway, the admin CLI) can make one;
--     verification trusts only endorsed keys.
--   * A prune row carries a signature by an endorsed audit key over the tenant, tree size and compact range.
--   * Keys and prunes recorded before this migration have neither; they are listed here, as they are now, in tables
--     only the owner (who runs migrations) can write, and are trusted as long as they still match.

ALTER TABLE outpost_audit_keys ADD COLUMN IF NOT EXISTS endorsement bytea NULL;
ALTER TABLE outpost_audit_prunes ADD COLUMN IF NOT EXISTS key_id text NULL;
ALTER TABLE outpost_audit_prunes ADD COLUMN IF NOT EXISTS signature bytea NULL;

CREATE TABLE IF NOT EXISTS outpost_audit_legacy_keys
(
    key_id     text  NOT NULL,
    public_key bytea NOT NULL,
    CONSTRAINT pk_outpost_audit_legacy_keys PRIMARY KEY (key_id)
);
INSERT INTO outpost_audit_legacy_keys (key_id, public_key)
SELECT key_id, public_key FROM outpost_audit_keys
ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS outpost_audit_legacy_prunes
(
    tenant_id     text   NOT NULL,
    tree_size     bigint NOT NULL,
    compact_range bytea  NOT NULL,
    CONSTRAINT pk_outpost_audit_legacy_prunes PRIMARY KEY (tenant_id, tree_size)
);
INSERT INTO outpost_audit_legacy_prunes (tenant_id, tree_size, compact_range)
SELECT tenant_id, tree_size, compact_range FROM outpost_audit_prunes
ON CONFLICT DO NOTHING;

REVOKE ALL ON outpost_audit_legacy_keys, outpost_audit_legacy_prunes FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'outpost_app') THEN
        GRANT SELECT ON outpost_audit_legacy_keys, outpost_audit_legacy_prunes TO outpost_app;
    END IF;
END
$$;
