-- Schema v2: the full endpoint summary (latency, order) on each endpoint
-- row, so that listing needs no state decoding; the sampling counters
-- apart from the state; run host and merge source. Rows of v1 get their
-- summaries recomputed from the state after the migration (summary NULL).
ALTER TABLE endpoints ADD COLUMN ord INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN p50_ms REAL;
ALTER TABLE endpoints ADD COLUMN p90_ms REAL;
ALTER TABLE endpoints ADD COLUMN p99_ms REAL;
ALTER TABLE endpoints ADD COLUMN summary TEXT; -- JSON of infer.EndpointSummary
CREATE INDEX endpoints_order ON endpoints (service_id, ord);
CREATE INDEX endpoints_last_seen ON endpoints (last_seen);

ALTER TABLE services ADD COLUMN samplers TEXT; -- JSON, copy of state.samplers

ALTER TABLE runs ADD COLUMN hostname TEXT;
ALTER TABLE runs ADD COLUMN source TEXT; -- database a merged run came from
ALTER TABLE runs ADD COLUMN error_text TEXT;
CREATE INDEX runs_status ON runs (status);
