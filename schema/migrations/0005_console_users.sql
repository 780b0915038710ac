-- 0005_console_users: the web console's local accounts, their sessions
-- and the failed logins that slow down password guessing.
--
-- console_users.password_hash is a PHC-format argon2id string (the hash is
-- made by the console, the ledger only keeps it). console_sessions.id_hash
-- is the hex SHA-256 of the random session id held in the browser's
-- cookie: a copy of the database does not let anyone take over a session.
-- A session dies with its user (ON DELETE CASCADE). login_failures keeps
-- one row per failed attempt, keyed by "user:NAME" or "addr:IP", pruned
-- by the console as they age out of the throttling window.

CREATE TABLE console_users (
	name          TEXT PRIMARY KEY,
	role          TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
	password_hash TEXT NOT NULL,
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL
);

CREATE TABLE console_sessions (
	id_hash    TEXT PRIMARY KEY,
	user_name  TEXT NOT NULL REFERENCES console_users (name) ON DELETE CASCADE,
	created_at TEXT NOT NULL,
	last_seen  TEXT NOT NULL,
	remote     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX console_sessions_user ON console_sessions (user_name);

CREATE TABLE login_failures (
	key       TEXT NOT NULL,
	failed_at TEXT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, failed_at);
