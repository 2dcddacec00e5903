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

-- Each event is stored as canon, its canonical encoding: a JSON array of
-- strings [seq, at, actor_type, actor_id, actor_email, actor_role, action,
-- target_type, target_id, outcome, ip, user_agent, request_id, reason,
-- details] (plus the provider, when set, from migration 4), and
-- hash = SHA-256(previous event's hash ‖ canon). The readable columns are
-- generated from canon, so they can never say something the hash does not
-- cover, and checking the chain reads only seq, canon and hash.
CREATE TABLE audit_events (
	seq         INTEGER PRIMARY KEY,
	canon       TEXT NOT NULL,
	hash        TEXT NOT NULL,
	at          TEXT GENERATED ALWAYS AS (json_extract(canon, '$[1]')) VIRTUAL,
	actor_type  TEXT GENERATED ALWAYS AS (json_extract(canon, '$[2]')) VIRTUAL,
	actor_id    TEXT GENERATED ALWAYS AS (json_extract(canon, '$[3]')) VIRTUAL,
	actor_email TEXT GENERATED ALWAYS AS (json_extract(canon, '$[4]')) VIRTUAL,
	actor_role  TEXT GENERATED ALWAYS AS (json_extract(canon, '$[5]')) VIRTUAL,
	action      TEXT GENERATED ALWAYS AS (json_extract(canon, '$[6]')) VIRTUAL,
	target_type TEXT GENERATED ALWAYS AS (json_extract(canon, '$[7]')) VIRTUAL,
	target_id   TEXT GENERATED ALWAYS AS (json_extract(canon, '$[8]')) VIRTUAL,
	outcome     TEXT GENERATED ALWAYS AS (json_extract(canon, '$[9]')) VIRTUAL,
	ip          TEXT GENERATED ALWAYS AS (json_extract(canon, '$[10]')) VIRTUAL,
	user_agent  TEXT GENERATED ALWAYS AS (json_extract(canon, '$[11]')) VIRTUAL,
	request_id  TEXT GENERATED ALWAYS AS (json_extract(canon, '$[12]')) VIRTUAL,
	reason      TEXT GENERATED ALWAYS AS (json_extract(canon, '$[13]')) VIRTUAL,
	details     TEXT GENERATED ALWAYS AS (json_extract(canon, '$[14]')) VIRTUAL
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
