-- Remote execution: content-addressed artifacts (chunked, per-tenant references), the control plane's long-term
-- task-signing keys (private parts sealed by the master key, endorsed like the audit keys), and an index of task runs
-- per tenant and status (the runs themselves are TaskRun grains; this is what lists and approval queues read).

CREATE TABLE IF NOT EXISTS outpost_artifact_blobs
(
    blob_id    bigserial   NOT NULL,
    digest     text        NOT NULL,
    size       bigint      NOT NULL,
    chunk_size integer     NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_outpost_artifact_blobs PRIMARY KEY (blob_id),
    CONSTRAINT uq_outpost_artifact_blobs_digest UNIQUE (digest),
    CONSTRAINT ck_outpost_artifact_blobs_size CHECK (size >= 0)
);

CREATE TABLE IF NOT EXISTS outpost_artifact_chunks
(
    blob_id bigint  NOT NULL REFERENCES outpost_artifact_blobs (blob_id) ON DELETE CASCADE,
    seq     integer NOT NULL,
    data    bytea   NOT NULL,
    CONSTRAINT pk_outpost_artifact_chunks PRIMARY KEY (blob_id, seq)
);

-- A tenant sees an artifact only once it uploaded it or one of its runs produced it: a digest alone opens nothing.
CREATE TABLE IF NOT EXISTS outpost_artifact_refs
(
    tenant_id  text        NOT NULL,
    digest     text        NOT NULL REFERENCES outpost_artifact_blobs (digest),
    origin     text        NOT NULL,
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_outpost_artifact_refs PRIMARY KEY (tenant_id, digest)
);

CREATE TABLE IF NOT EXISTS outpost_task_keys
(
    key_id      text        NOT NULL,
    algorithm   text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    public_key  bytea       NOT NULL,
    private_key bytea       NOT NULL,
    nonce       bytea       NOT NULL,
    endorsement bytea       NOT NULL,
    CONSTRAINT pk_outpost_task_keys PRIMARY KEY (key_id)
);

CREATE TABLE IF NOT EXISTS outpost_task_runs
(
    run_id       text        NOT NULL,
    tenant_id    text        NOT NULL,
    status       text        NOT NULL,
    kind         text        NOT NULL,
    requested_by text        NOT NULL,
    client_id    text        NOT NULL,
    device_id    text        NULL,
    approval     text        NOT NULL,
    policy_rule  text        NOT NULL,
    approval_expires_at timestamptz NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT pk_outpost_task_runs PRIMARY KEY (run_id)
);

-- A live run's log as its device sends it, so that the log survives the run's grain being moved or its control silo
-- dying; once the run ends the log is stored as an artifact and these rows go.
CREATE TABLE IF NOT EXISTS outpost_task_log_chunks
(
    run_id     text    NOT NULL,
    attempt    integer NOT NULL,
    log_offset bigint  NOT NULL,
    data       bytea   NOT NULL,
    CONSTRAINT pk_outpost_task_log_chunks PRIMARY KEY (run_id, attempt, log_offset)
);

CREATE INDEX IF NOT EXISTS ix_outpost_task_runs_tenant_status ON outpost_task_runs (tenant_id, status, created_at DESC);
CREATE INDEX IF NOT EXISTS ix_outpost_task_runs_tenant_created ON outpost_task_runs (tenant_id, created_at DESC);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'outpost_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON outpost_artifact_blobs, outpost_artifact_chunks, outpost_artifact_refs,
            outpost_task_runs, outpost_task_log_chunks TO outpost_app;
        -- Keys are append-only for the services, as audit keys are.
        GRANT SELECT, INSERT ON outpost_task_keys TO outpost_app;
        GRANT USAGE, SELECT ON SEQUENCE outpost_artifact_blobs_blob_id_seq TO outpost_app;
    END IF;
END
$$;
