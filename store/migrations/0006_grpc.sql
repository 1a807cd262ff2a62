-- Schema v6: the gRPC methods of each service (infer.GRPCMethodSummary),
-- summary rows beside the endpoints: a gRPC call is recorded under its
-- gRPC service and method, never as a path template. The full state
-- (message shapes, latency histogram) is in services.state, as for the
-- endpoints; the rows are recomputed from it at every checkpoint.
CREATE TABLE grpc_methods (
    service_id   INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    path         TEXT NOT NULL,    -- "/pkg.Service/Method"
    grpc_service TEXT NOT NULL,    -- "pkg.Service"
    rpc          TEXT NOT NULL,    -- "Method"
    kind         TEXT NOT NULL,    -- unary, client_streaming, server_streaming, bidi_streaming
    count        INTEGER NOT NULL DEFAULT 0,
    first_seen   TEXT,
    last_seen    TEXT,
    statuses     TEXT,             -- JSON {"OK": n, "NOT_FOUND": n}
    sensitive    TEXT,             -- comma-separated tag names
    p50_ms       REAL,
    p90_ms       REAL,
    p99_ms       REAL,
    summary      TEXT NOT NULL,    -- JSON of infer.GRPCMethodSummary
    PRIMARY KEY (service_id, path)
);
