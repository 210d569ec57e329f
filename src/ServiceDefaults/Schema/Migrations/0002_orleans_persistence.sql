-- Orleans ADO.NET grain storage for Outpost.
-- A grain's state is found by its hashes first (the index), then confirmed on the full identity:
-- service, grain type, the two numeric key halves and the optional string key or key extension.

CREATE TABLE IF NOT EXISTS orleansstorage
(
    grainidhash            integer      NOT NULL,
    grainidn0              bigint       NOT NULL,
    grainidn1              bigint       NOT NULL,
    graintypehash          integer      NOT NULL,
    graintypestring        varchar(512) NOT NULL,
    grainidextensionstring varchar(512) NULL,
    serviceid              varchar(150) NOT NULL,
    payloadbinary          bytea        NULL,
    modifiedon             timestamptz  NOT NULL DEFAULT now(),
    version                integer      NULL
);

CREATE INDEX IF NOT EXISTS ix_orleansstorage_hashes ON orleansstorage (grainidhash, graintypehash);

-- Returns the state's new version, or NULL when nothing was written: the caller's version is stale, or
-- (first write) another activation of the same grain got there first. The provider turns NULL into a
-- version conflict.
CREATE OR REPLACE FUNCTION outpost_storage_write(
    p_grain_id_hash    integer,
    p_grain_id_n0      bigint,
    p_grain_id_n1      bigint,
    p_grain_type_hash  integer,
    p_grain_type       text,
    p_key_extension    text,
    p_service_id       text,
    p_expected_version integer,
    p_payload          bytea)
RETURNS integer
LANGUAGE plpgsql
AS $body$
DECLARE
    v_written integer;
BEGIN
    IF p_expected_version IS NOT NULL THEN
        UPDATE orleansstorage AS s
           SET payloadbinary = p_payload,
               modifiedon = now(),
               version = s.version + 1
         WHERE s.grainidhash = p_grain_id_hash
           AND s.graintypehash = p_grain_type_hash
           AND s.grainidn0 = p_grain_id_n0
           AND s.grainidn1 = p_grain_id_n1
           AND s.graintypestring = p_grain_type
           AND s.grainidextensionstring IS NOT DISTINCT FROM p_key_extension
           AND s.serviceid = p_service_id
           AND s.version = p_expected_version
        RETURNING s.version INTO v_written;
        RETURN v_written;
    END IF;

    -- There is no unique key to lean on (the nullable extension and long strings rule one out), so two first
    -- writes of the same grain are serialized on its hashes until the end of the transaction.
    PERFORM pg_advisory_xact_lock(p_grain_id_hash, p_grain_type_hash);

    IF EXISTS (SELECT 1
                 FROM orleansstorage AS s
                WHERE s.grainidhash = p_grain_id_hash
                  AND s.graintypehash = p_grain_type_hash
                  AND s.grainidn0 = p_grain_id_n0
                  AND s.grainidn1 = p_grain_id_n1
                  AND s.graintypestring = p_grain_type
                  AND s.grainidextensionstring IS NOT DISTINCT FROM p_key_extension
                  AND s.serviceid = p_service_id) THEN
        RETURN NULL;
    END IF;

    INSERT INTO orleansstorage
        (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring, grainidextensionstring,
         serviceid, payloadbinary, modifiedon, version)
    VALUES
        (p_grain_id_hash, p_grain_id_n0, p_grain_id_n1, p_grain_type_hash, p_grain_type, p_key_extension,
         p_service_id, p_payload, now(), 1);

    RETURN 1;
END;
$body$;

INSERT INTO orleansquery (querykey, querytext) VALUES
('ReadFromStorageKey', $q$
SELECT payloadbinary AS PayloadBinary,
       modifiedon    AS ModifiedOn,
       version       AS Version
  FROM orleansstorage
 WHERE grainidhash = @GrainIdHash
   AND graintypehash = @GrainTypeHash
   AND grainidn0 = @GrainIdN0
   AND grainidn1 = @GrainIdN1
   AND graintypestring = @GrainTypeString
   AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
   AND serviceid = @ServiceId;
$q$),
('WriteToStorageKey', $q$
SELECT outpost_storage_write(
    @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString,
    @ServiceId, @GrainStateVersion, @PayloadBinary) AS NewGrainStateVersion;
$q$),
('ClearStorageKey', $q$
UPDATE orleansstorage
   SET payloadbinary = NULL,
       modifiedon = now(),
       version = version + 1
 WHERE grainidhash = @GrainIdHash
   AND graintypehash = @GrainTypeHash
   AND grainidn0 = @GrainIdN0
   AND grainidn1 = @GrainIdN1
   AND graintypestring = @GrainTypeString
   AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
   AND serviceid = @ServiceId
   AND version = @GrainStateVersion
RETURNING version AS NewGrainStateVersion;
$q$),
-- Used when the storage is configured with DeleteStateOnClear. The provider expects the deleted row's
-- version plus one back, to tell success from a stale version.
('DeleteStorageKey', $q$
DELETE FROM orleansstorage
 WHERE grainidhash = @GrainIdHash
   AND graintypehash = @GrainTypeHash
   AND grainidn0 = @GrainIdN0
   AND grainidn1 = @GrainIdN1
   AND graintypestring = @GrainTypeString
   AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
   AND serviceid = @ServiceId
   AND version = @GrainStateVersion
RETURNING version + 1 AS NewGrainStateVersion;
$q$)
ON CONFLICT (querykey) DO UPDATE SET querytext = EXCLUDED.querytext;
