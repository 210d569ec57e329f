-- Orleans ADO.NET reminders for Outpost.
-- grainhash is the grain's uniform hash as a signed integer; the reminder service asks for hash ranges of it.

CREATE TABLE IF NOT EXISTS orleansreminderstable
(
    serviceid    varchar(150)   NOT NULL,
    grainid      varchar(512)   NOT NULL,
    remindername varchar(150)   NOT NULL,
    starttime    timestamptz(3) NOT NULL,
    period       bigint         NOT NULL,
    grainhash    integer        NOT NULL,
    version      integer        NOT NULL,
    CONSTRAINT pk_orleansreminderstable PRIMARY KEY (serviceid, grainid, remindername)
);

-- Each silo periodically loads the reminders of its ring range.
CREATE INDEX IF NOT EXISTS ix_orleansreminderstable_hash ON orleansreminderstable (serviceid, grainhash);

INSERT INTO orleansquery (querykey, querytext) VALUES
('UpsertReminderRowKey', $q$
INSERT INTO orleansreminderstable AS r
    (serviceid, grainid, remindername, starttime, period, grainhash, version)
VALUES
    (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
ON CONFLICT (serviceid, grainid, remindername) DO UPDATE
   SET starttime = EXCLUDED.starttime,
       period = EXCLUDED.period,
       grainhash = EXCLUDED.grainhash,
       version = r.version + 1
RETURNING r.version AS Version;
$q$),
('ReadReminderRowsKey', $q$
SELECT grainid AS GrainId, remindername AS ReminderName, starttime AS StartTime, period AS Period, version AS Version
  FROM orleansreminderstable
 WHERE serviceid = @ServiceId
   AND grainid = @GrainId;
$q$),
('ReadReminderRowKey', $q$
SELECT grainid AS GrainId, remindername AS ReminderName, starttime AS StartTime, period AS Period, version AS Version
  FROM orleansreminderstable
 WHERE serviceid = @ServiceId
   AND grainid = @GrainId
   AND remindername = @ReminderName;
$q$),
-- The range (BeginHash, EndHash] does not wrap around.
('ReadRangeRows1Key', $q$
SELECT grainid AS GrainId, remindername AS ReminderName, starttime AS StartTime, period AS Period, version AS Version
  FROM orleansreminderstable
 WHERE serviceid = @ServiceId
   AND grainhash > @BeginHash
   AND grainhash <= @EndHash;
$q$),
-- The range wraps around the end of the ring: everything above BeginHash plus everything up to EndHash.
('ReadRangeRows2Key', $q$
SELECT grainid AS GrainId, remindername AS ReminderName, starttime AS StartTime, period AS Period, version AS Version
  FROM orleansreminderstable
 WHERE serviceid = @ServiceId
   AND (grainhash > @BeginHash OR grainhash <= @EndHash);
$q$),
('DeleteReminderRowKey', $q$
WITH removed AS (
    DELETE FROM orleansreminderstable
     WHERE serviceid = @ServiceId
       AND grainid = @GrainId
       AND remindername = @ReminderName
       AND version = @Version
    RETURNING 1
)
SELECT count(*)::integer AS removed FROM removed;
$q$),
('DeleteReminderRowsKey', $q$
DELETE FROM orleansreminderstable WHERE serviceid = @ServiceId;
$q$)
ON CONFLICT (querykey) DO UPDATE SET querytext = EXCLUDED.querytext;
