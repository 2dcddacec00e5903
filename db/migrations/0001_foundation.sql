-- Users, sessions, login throttling, settings and the append-only audit chain.
-- Timestamps are TEXT in db.TimeLayout (UTC, fixed width).

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
	role          TEXT NOT NULL CHECK (role IN ('agent', 'manager', 'admin')),
	password_hash TEXT NOT NULL,
	created_at    TEXT NOT NULL,
	disabled_at   TEXT
) STRICT;

-- The cookie carries a random session id; only its SHA-256 is stored, so a
-- copy of the database does not hand out live sessions.
CREATE TABLE sessions (
	id_hash      BLOB PRIMARY KEY,
	user_id      INTEGER REFERENCES users (id) ON DELETE CASCADE,
	data         BLOB NOT NULL,
	created_at   TEXT NOT NULL,
	last_seen_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_throttle (
	key          TEXT PRIMARY KEY,
	failures     INTEGER NOT NULL,
	window_start TEXT NOT NULL,
	locked_until TEXT
) STRICT, WITHOUT ROWID;

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
) STRICT, WITHOUT ROWID;

-- hash = SHA-256(previous event's hash ‖ canonical encoding of this event);
-- see db/audit.go for the encoding.
CREATE TABLE audit_events (
	seq         INTEGER PRIMARY KEY,
	at          TEXT NOT NULL,
	actor_type  TEXT NOT NULL,
	actor_id    TEXT NOT NULL,
	actor_email TEXT NOT NULL,
	actor_role  TEXT NOT NULL,
	action      TEXT NOT NULL,
	target_type TEXT NOT NULL,
	target_id   TEXT NOT NULL,
	outcome     TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
	ip          TEXT NOT NULL,
	user_agent  TEXT NOT NULL,
	request_id  TEXT NOT NULL,
	reason      TEXT NOT NULL,
	details     TEXT NOT NULL,
	hash        TEXT NOT NULL
) STRICT;

CREATE INDEX audit_events_actor ON audit_events (actor_type, actor_id, seq);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
	SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
	SELECT RAISE(ABORT, 'audit_events is append-only');
END;
