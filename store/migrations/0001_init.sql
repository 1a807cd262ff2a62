-- Schema v1: services with their serialized inference state, endpoint
-- summary rows, runs.
PRAGMA application_id = 1397773394; -- "SPTR"

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE services (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	count      INTEGER NOT NULL DEFAULT 0,
	first_seen TEXT,
	last_seen  TEXT,
	-- JSON of infer.Service: path trie evidence, operations, samplers.
	state      TEXT NOT NULL
);

CREATE TABLE endpoints (
	service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
	method     TEXT NOT NULL,
	template   TEXT NOT NULL,
	count      INTEGER NOT NULL DEFAULT 0,
	first_seen TEXT,
	last_seen  TEXT,
	statuses   TEXT,    -- JSON {"200": n}
	auth       TEXT,    -- comma-separated scheme names
	sensitive  TEXT,    -- comma-separated tag names
	unauth_2xx INTEGER NOT NULL DEFAULT 0,
	from_spec  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (service_id, method, template)
);

CREATE TABLE runs (
	id            INTEGER PRIMARY KEY,
	started_at    TEXT NOT NULL,
	finished_at   TEXT,
	status        TEXT NOT NULL CHECK (status IN ('running', 'complete', 'incomplete')),
	inputs        TEXT,    -- JSON array of files
	interface     TEXT,
	capture_start TEXT,
	capture_end   TEXT,
	packets       INTEGER NOT NULL DEFAULT 0,
	bytes         INTEGER NOT NULL DEFAULT 0,
	exchanges     INTEGER NOT NULL DEFAULT 0,
	drops         INTEGER NOT NULL DEFAULT 0,
	errors        INTEGER NOT NULL DEFAULT 0,
	version       TEXT,
	pid           INTEGER
);
