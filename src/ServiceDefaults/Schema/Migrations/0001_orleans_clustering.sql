-- Orleans ADO.NET clustering for Outpost.
-- The provider reads every statement it runs from orleansquery, binds parameters by name (@DeploymentId, ...)
-- and reads result columns by name, so those names are the contract; everything else here is ours.

CREATE TABLE IF NOT EXISTS orleansquery
(
    querykey  varchar(64) NOT NULL,
    querytext text        NOT NULL,
    CONSTRAINT pk_orleansquery PRIMARY KEY (querykey)
);

-- One row per cluster. Its version is the membership table's optimistic-concurrency token: inserting or
-- updating a member row moves it forward by one in the same statement (heartbeats alone leave it be).
CREATE TABLE IF NOT EXISTS orleansmembershipversiontable
(
    deploymentid varchar(150)   NOT NULL,
    timestamp    timestamptz(3) NOT NULL DEFAULT now(),
    version      integer        NOT NULL DEFAULT 0,
    CONSTRAINT pk_orleansmembershipversiontable PRIMARY KEY (deploymentid)
);

-- One row per silo incarnation (address, port and generation together name it).
CREATE TABLE IF NOT EXISTS orleansmembershiptable
(
    deploymentid varchar(150)   NOT NULL,
    address      varchar(45)    NOT NULL,
    port         integer        NOT NULL,
    generation   integer        NOT NULL,
    siloname     varchar(150)   NOT NULL,
    hostname     varchar(150)   NOT NULL,
    status       integer        NOT NULL,
    proxyport    integer        NULL,
    suspecttimes varchar(8000)  NULL,
    starttime    timestamptz(3) NOT NULL,
    iamalivetime timestamptz(3) NOT NULL,
    CONSTRAINT pk_orleansmembershiptable PRIMARY KEY (deploymentid, address, port, generation),
    CONSTRAINT fk_orleansmembershiptable_version FOREIGN KEY (deploymentid)
        REFERENCES orleansmembershipversiontable (deploymentid)
);

-- Returns 1 when the silo row was added and the version moved on, 0 when the caller's version is stale
-- or the row is already there; in that case nothing is changed.
CREATE OR REPLACE FUNCTION outpost_membership_insert(
    p_deployment_id    text,
    p_address          text,
    p_port             integer,
    p_generation       integer,
    p_silo_name        text,
    p_host_name        text,
    p_status           integer,
    p_proxy_port       integer,
    p_start_time       timestamptz,
    p_i_am_alive_time  timestamptz,
    p_expected_version integer)
RETURNS integer
LANGUAGE plpgsql
AS $body$
BEGIN
    -- Lock the cluster's version row first: all writers queue here, so the existence check below cannot race.
    PERFORM 1
       FROM orleansmembershipversiontable
      WHERE deploymentid = p_deployment_id
        AND version = p_expected_version
        FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    IF EXISTS (SELECT 1
                 FROM orleansmembershiptable
                WHERE deploymentid = p_deployment_id
                  AND address = p_address
                  AND port = p_port
                  AND generation = p_generation) THEN
        RETURN 0;
    END IF;

    INSERT INTO orleansmembershiptable
        (deploymentid, address, port, generation, siloname, hostname, status, proxyport, starttime, iamalivetime)
    VALUES
        (p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status, p_proxy_port,
         p_start_time, p_i_am_alive_time);

    UPDATE orleansmembershipversiontable
       SET version = version + 1,
           timestamp = now()
     WHERE deploymentid = p_deployment_id;

    RETURN 1;
END;
$body$;

-- Returns 1 when the silo row was changed and the version moved on, 0 (and no change) otherwise.
CREATE OR REPLACE FUNCTION outpost_membership_update(
    p_deployment_id    text,
    p_address          text,
    p_port             integer,
    p_generation       integer,
    p_status           integer,
    p_suspect_times    text,
    p_i_am_alive_time  timestamptz,
    p_expected_version integer)
RETURNS integer
LANGUAGE plpgsql
AS $body$
BEGIN
    PERFORM 1
       FROM orleansmembershipversiontable
      WHERE deploymentid = p_deployment_id
        AND version = p_expected_version
        FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    UPDATE orleansmembershiptable
       SET status = p_status,
           suspecttimes = p_suspect_times,
           iamalivetime = p_i_am_alive_time
     WHERE deploymentid = p_deployment_id
       AND address = p_address
       AND port = p_port
       AND generation = p_generation;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    UPDATE orleansmembershipversiontable
       SET version = version + 1,
           timestamp = now()
     WHERE deploymentid = p_deployment_id;

    RETURN 1;
END;
$body$;

INSERT INTO orleansquery (querykey, querytext) VALUES
('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO orleansmembershipversiontable (deploymentid)
    VALUES (@DeploymentId)
    ON CONFLICT (deploymentid) DO NOTHING
    RETURNING 1
)
SELECT count(*)::integer AS inserted FROM created;
$q$),
('InsertMembershipKey', $q$
SELECT outpost_membership_insert(
    @DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort,
    @StartTime, @IAmAliveTime, @Version) AS inserted;
$q$),
('UpdateMembershipKey', $q$
SELECT outpost_membership_update(
    @DeploymentId, @Address, @Port, @Generation, @Status, @SuspectTimes, @IAmAliveTime, @Version) AS updated;
$q$),
('UpdateIAmAlivetimeKey', $q$
UPDATE orleansmembershiptable
   SET iamalivetime = @IAmAliveTime
 WHERE deploymentid = @DeploymentId
   AND address = @Address
   AND port = @Port
   AND generation = @Generation;
$q$),
('MembershipReadRowKey', $q$
SELECT v.deploymentid AS DeploymentId,
       m.address      AS Address,
       m.port         AS Port,
       m.generation   AS Generation,
       m.siloname     AS SiloName,
       m.hostname     AS HostName,
       m.status       AS Status,
       m.proxyport    AS ProxyPort,
       m.suspecttimes AS SuspectTimes,
       m.starttime    AS StartTime,
       m.iamalivetime AS IAmAliveTime,
       v.version      AS Version
  FROM orleansmembershipversiontable AS v
  LEFT JOIN orleansmembershiptable AS m
         ON m.deploymentid = v.deploymentid
        AND m.address = @Address
        AND m.port = @Port
        AND m.generation = @Generation
 WHERE v.deploymentid = @DeploymentId;
$q$),
('MembershipReadAllKey', $q$
SELECT v.deploymentid AS DeploymentId,
       m.address      AS Address,
       m.port         AS Port,
       m.generation   AS Generation,
       m.siloname     AS SiloName,
       m.hostname     AS HostName,
       m.status       AS Status,
       m.proxyport    AS ProxyPort,
       m.suspecttimes AS SuspectTimes,
       m.starttime    AS StartTime,
       m.iamalivetime AS IAmAliveTime,
       v.version      AS Version
  FROM orleansmembershipversiontable AS v
  LEFT JOIN orleansmembershiptable AS m
         ON m.deploymentid = v.deploymentid
 WHERE v.deploymentid = @DeploymentId;
$q$),
('DeleteMembershipTableEntriesKey', $q$
DELETE FROM orleansmembershiptable WHERE deploymentid = @DeploymentId;
DELETE FROM orleansmembershipversiontable WHERE deploymentid = @DeploymentId;
$q$),
('GatewaysQueryKey', $q$
SELECT address    AS Address,
       proxyport  AS ProxyPort,
       generation AS Generation
  FROM orleansmembershiptable
 WHERE deploymentid = @DeploymentId
   AND status = @Status
   AND proxyport > 0;
$q$),
('CleanupDefunctSiloEntriesKey', $q$
-- Status 3 is Active: a silo that is still a member is never swept, however stale its heartbeat.
DELETE FROM orleansmembershiptable
 WHERE deploymentid = @DeploymentId
   AND iamalivetime < @IAmAliveTime
   AND status <> 3;
$q$)
ON CONFLICT (querykey) DO UPDATE SET querytext = EXCLUDED.querytext;
