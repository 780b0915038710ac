-- 0001_init: velqbo's initial schema.
--
-- Timestamps are RFC 3339 UTC text with a fixed nine-digit fraction
-- ("2006-01-02T15:04:05.000000000Z") so that text comparison orders them;
-- the empty string means "not set".

CREATE TABLE settings (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- Links from Velocity customers/products to QBO customers/items. The
-- velocity_id primary key (WITHOUT ROWID: the row lives in the key's b-tree)
-- makes batched IN lookups one index probe per id.
CREATE TABLE customer_links (
	velocity_id TEXT PRIMARY KEY,
	qbo_id      TEXT NOT NULL,
	qbo_name    TEXT NOT NULL DEFAULT '',
	method      TEXT NOT NULL CHECK (method IN ('manual', 'match', 'create')),
	linked_at   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX customer_links_qbo_id ON customer_links (qbo_id);

CREATE TABLE product_links (
	velocity_id TEXT PRIMARY KEY,
	qbo_id      TEXT NOT NULL,
	qbo_name    TEXT NOT NULL DEFAULT '',
	method      TEXT NOT NULL CHECK (method IN ('manual', 'match', 'create')),
	linked_at   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX product_links_qbo_id ON product_links (qbo_id);

-- OAuth tokens, sealed with AES-256-GCM (nonce || ciphertext, the realm and
-- column name as additional data). Never stored in the clear.
CREATE TABLE tokens (
	realm              TEXT PRIMARY KEY,
	refresh_token_enc  BLOB NOT NULL,
	access_token_enc   BLOB NOT NULL,
	access_expires_at  TEXT NOT NULL DEFAULT '',
	refresh_expires_at TEXT NOT NULL DEFAULT '',
	refresh_rotated_at TEXT NOT NULL DEFAULT '',
	hard_expires_at    TEXT NOT NULL DEFAULT '',
	updated_at         TEXT NOT NULL
) WITHOUT ROWID;

-- The ledger: one row per Velocity object that maps to a QBO document.
--
-- pending_* is the write intent recorded BEFORE a QBO write and cleared when
-- its outcome is recorded. A row that still carries an intent (after a crash,
-- a timeout, a lost response) means "outcome unknown: look the document up
-- in QBO before writing again".
--
-- state is validated in Go rather than by a CHECK constraint, so that a new
-- state never needs a table rebuild (SQLite cannot ALTER a CHECK).
CREATE TABLE documents (
	source_kind         TEXT NOT NULL,
	source_id           TEXT NOT NULL,
	order_number        TEXT NOT NULL DEFAULT '',
	generation          INTEGER NOT NULL DEFAULT 0,
	qbo_type            TEXT NOT NULL DEFAULT '',
	qbo_id              TEXT NOT NULL DEFAULT '',
	sync_token          TEXT NOT NULL DEFAULT '',
	doc_number          TEXT NOT NULL DEFAULT '',
	fingerprint         TEXT NOT NULL DEFAULT '',
	state               TEXT NOT NULL DEFAULT 'pending',
	pending_request_id  TEXT,
	pending_action      TEXT,
	pending_fingerprint TEXT,
	pending_at          TEXT,
	last_error          TEXT NOT NULL DEFAULT '',
	attempts            INTEGER NOT NULL DEFAULT 0,
	blocked_runs        INTEGER NOT NULL DEFAULT 0,
	blocked_run_id      TEXT NOT NULL DEFAULT '',
	extra               TEXT NOT NULL DEFAULT '{}',
	first_seen_at       TEXT NOT NULL,
	updated_at          TEXT NOT NULL,
	PRIMARY KEY (source_kind, source_id)
) WITHOUT ROWID;
CREATE INDEX documents_state ON documents (state, source_kind);
CREATE INDEX documents_order_number ON documents (order_number);
CREATE INDEX documents_pending ON documents (pending_request_id)
	WHERE pending_request_id IS NOT NULL;

CREATE TABLE runs (
	id          TEXT PRIMARY KEY,
	mode        TEXT NOT NULL,
	started_at  TEXT NOT NULL,
	finished_at TEXT NOT NULL DEFAULT '',
	status      TEXT NOT NULL DEFAULT 'running'
		CHECK (status IN ('running', 'ok', 'partial', 'failed', 'interrupted')),
	counts      TEXT NOT NULL DEFAULT '{}',
	error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_started_at ON runs (started_at);

CREATE TABLE run_items (
	id           INTEGER PRIMARY KEY,
	run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	kind         TEXT NOT NULL,
	source_id    TEXT NOT NULL,
	order_number TEXT NOT NULL DEFAULT '',
	action       TEXT NOT NULL,
	qbo_type     TEXT NOT NULL DEFAULT '',
	qbo_id       TEXT NOT NULL DEFAULT '',
	doc_number   TEXT NOT NULL DEFAULT '',
	reason       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX run_items_run_id ON run_items (run_id);

CREATE TABLE cursors (
	name       TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- Append-only log of QBO writes. AUTOINCREMENT: ids are never reused.
CREATE TABLE audit (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	at          TEXT NOT NULL,
	run_id      TEXT NOT NULL DEFAULT '',
	request_id  TEXT NOT NULL DEFAULT '',
	entity      TEXT NOT NULL DEFAULT '',
	operation   TEXT NOT NULL DEFAULT '',
	source_kind TEXT NOT NULL DEFAULT '',
	source_id   TEXT NOT NULL DEFAULT '',
	qbo_id      TEXT NOT NULL DEFAULT '',
	intuit_tid  TEXT NOT NULL DEFAULT '',
	http_status INTEGER NOT NULL DEFAULT 0,
	outcome     TEXT NOT NULL DEFAULT '',
	detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_source ON audit (source_kind, source_id);
CREATE INDEX audit_run_id ON audit (run_id);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit is append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit is append-only');
END;

-- One row per named lease; a second daemon or run must not overlap.
CREATE TABLE lease (
	name        TEXT PRIMARY KEY,
	holder      TEXT NOT NULL,
	pid         INTEGER NOT NULL,
	hostname    TEXT NOT NULL,
	acquired_at TEXT NOT NULL,
	expires_at  TEXT NOT NULL
) WITHOUT ROWID;
