-- Schema v3: findings of the spec diff (package infer/diff), per run: each
-- row is the run's cumulative finding for one fingerprint (JSON of
-- diff.Finding), replaced at every checkpoint; readers merge the rows of
-- all runs by fingerprint (counts add, first/last seen widen).
CREATE TABLE findings (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    kind        TEXT NOT NULL,
    last_seen   TEXT,
    finding     TEXT NOT NULL,
    PRIMARY KEY (run_id, fingerprint)
);
CREATE INDEX findings_fingerprint ON findings (fingerprint);
