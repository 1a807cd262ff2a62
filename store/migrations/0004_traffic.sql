-- Schema v4: exchanges per service per minute of capture time, for the
-- report's traffic-over-time chart. Bounded: each checkpoint keeps the
-- newest MaxTrafficWindows minutes of each service and counts the rows it
-- deletes in meta 'traffic_windows_pruned'.
CREATE TABLE traffic (
    service   TEXT NOT NULL,
    minute    INTEGER NOT NULL, -- Unix time / 60 of the exchanges' requests
    exchanges INTEGER NOT NULL,
    PRIMARY KEY (service, minute)
) WITHOUT ROWID;
