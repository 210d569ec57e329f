-- Outpost's own authorization server: tenants, OAuth clients, tenant admins, signing keys, device codes,
-- and which tenant each edge device serves. Secrets are stored as hashes, private keys encrypted with the master key.

CREATE TABLE IF NOT EXISTS outpost_tenants
(
    tenant_id    text        NOT NULL,
    display_name text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_outpost_tenants PRIMARY KEY (tenant_id),
    -- Tenant ids appear in grain keys, cache keys and URLs: keep them to one safe, lower-case shape.
    CONSTRAINT ck_outpost_tenants_id CHECK (tenant_id ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$')
);

-- The operators' tenant exists from the start, so that its first admin can be created.
INSERT INTO outpost_tenants (tenant_id, display_name) VALUES ('system', 'Outpost operators')
ON CONFLICT (tenant_id) DO NOTHING;

CREATE TABLE IF NOT EXISTS outpost_clients
(
    client_id              text        NOT NULL,
    tenant_id              text        NOT NULL,
    name                   text        NOT NULL,
    kind                   text        NOT NULL,
    -- SHA-256 of a 256-bit random secret; null for public clients, which cannot keep one.
    secret_hash            bytea       NULL,
    allowed_scopes         text[]      NOT NULL DEFAULT '{}',
    -- SHA-256 of the client certificate (DER), upper-case hex, for mTLS client authentication.
    certificate_thumbprint text        NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    disabled_at            timestamptz NULL,
    CONSTRAINT pk_outpost_clients PRIMARY KEY (client_id),
    CONSTRAINT fk_outpost_clients_tenant FOREIGN KEY (tenant_id) REFERENCES outpost_tenants (tenant_id),
    CONSTRAINT ux_outpost_clients_thumbprint UNIQUE (certificate_thumbprint),
    CONSTRAINT ck_outpost_clients_kind CHECK (kind IN ('public', 'confidential')),
    CONSTRAINT ck_outpost_clients_public_secret CHECK (kind = 'confidential' OR secret_hash IS NULL),
    CONSTRAINT ck_outpost_clients_thumbprint CHECK (certificate_thumbprint ~ '^[0-9A-F]{64}$')
);

CREATE INDEX IF NOT EXISTS ix_outpost_clients_tenant ON outpost_clients (tenant_id);

CREATE TABLE IF NOT EXISTS outpost_tenant_admins
(
    tenant_id     text        NOT NULL,
    username      text        NOT NULL,
    -- pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_outpost_tenant_admins PRIMARY KEY (tenant_id, username),
    CONSTRAINT fk_outpost_tenant_admins_tenant FOREIGN KEY (tenant_id) REFERENCES outpost_tenants (tenant_id)
);

CREATE TABLE IF NOT EXISTS outpost_signing_keys
(
    kid                   text        NOT NULL,
    algorithm             text        NOT NULL,
    -- Public parts only: this is what /.well-known/jwks.json publishes.
    public_jwk            jsonb       NOT NULL,
    -- The private key (PKCS#8 DER) sealed with AES-256-GCM under the master key, tag appended, kid as associated
    -- data; emptied when the key is removed.
    private_key_encrypted bytea       NOT NULL,
    nonce                 bytea       NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    -- Retired: no longer signs, still verifies the tokens it signed until they have expired.
    retired_at            timestamptz NULL,
    -- Removed: verifies nothing.
    removed_at            timestamptz NULL,
    CONSTRAINT pk_outpost_signing_keys PRIMARY KEY (kid)
);

-- At most one key signs at a time.
CREATE UNIQUE INDEX IF NOT EXISTS ux_outpost_signing_keys_active ON outpost_signing_keys ((true))
    WHERE retired_at IS NULL AND removed_at IS NULL;

-- RFC 8628 device authorization requests. The device code is a bearer secret: only its SHA-256 is kept.
CREATE TABLE IF NOT EXISTS outpost_device_codes
(
    device_code_hash bytea       NOT NULL,
    user_code        text        NOT NULL,
    client_id        text        NOT NULL,
    -- Set by the tenant admin who approves the code.
    tenant_id        text        NULL,
    scopes           text[]      NOT NULL,
    status           text        NOT NULL DEFAULT 'pending',
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    interval_seconds integer     NOT NULL,
    last_polled_at   timestamptz NULL,
    approved_by      text        NULL,
    CONSTRAINT pk_outpost_device_codes PRIMARY KEY (device_code_hash),
    CONSTRAINT ux_outpost_device_codes_user_code UNIQUE (user_code),
    CONSTRAINT fk_outpost_device_codes_client FOREIGN KEY (client_id) REFERENCES outpost_clients (client_id) ON DELETE CASCADE,
    CONSTRAINT fk_outpost_device_codes_tenant FOREIGN KEY (tenant_id) REFERENCES outpost_tenants (tenant_id) ON DELETE CASCADE,
    CONSTRAINT ck_outpost_device_codes_status CHECK (status IN ('pending', 'approved', 'denied', 'consumed')),
    CONSTRAINT ck_outpost_device_codes_interval CHECK (interval_seconds > 0)
);

CREATE INDEX IF NOT EXISTS ix_outpost_device_codes_expires ON outpost_device_codes (expires_at);

-- Which tenant an edge device serves; a null tenant (or no row at all) means the device is shared.
CREATE TABLE IF NOT EXISTS outpost_device_assignments
(
    device_id  text        NOT NULL,
    tenant_id  text        NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_outpost_device_assignments PRIMARY KEY (device_id),
    CONSTRAINT fk_outpost_device_assignments_tenant FOREIGN KEY (tenant_id) REFERENCES outpost_tenants (tenant_id)
);
