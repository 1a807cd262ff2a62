-- Schema v4: the sensors whose inventory deltas an aggregator merged
-- (specter aggregate), with the sequence of the last delta applied, so
-- that a delta delivered again (a redelivery, a resend after the
-- transport's de-duplication window) is never merged twice.
CREATE TABLE sensors (
    sensor        TEXT PRIMARY KEY,
    hostname      TEXT,
    version       TEXT,
    first_seen    TEXT,                      -- when the first delta was applied
    last_seen     TEXT,                      -- when the last delta was applied
    last_sent     TEXT,                      -- when the sensor sent the last delta applied
    last_seq      INTEGER NOT NULL,
    deltas        INTEGER NOT NULL DEFAULT 0,
    exchanges     INTEGER NOT NULL DEFAULT 0,
    duplicates    INTEGER NOT NULL DEFAULT 0,
    spool_dropped INTEGER NOT NULL DEFAULT 0, -- deltas the sensor's spool dropped, as it last reported
    lag_ms        INTEGER                     -- last_seen - last_sent of the last delta
);
