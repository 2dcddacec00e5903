-- Audit search and verifiable history: the provider an event concerns (the
-- canonical encoding's 16th element, present only when set), indexes for
-- the audit log's filters, a full-text index over details, and signed
-- checkpoints of the chain.

ALTER TABLE audit_events ADD COLUMN provider TEXT GENERATED ALWAYS AS (coalesce(json_extract(canon, '$[15]'), '')) VIRTUAL;

CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_provider ON audit_events (provider, seq);
CREATE INDEX audit_events_outcome ON audit_events (outcome, seq);
CREATE INDEX audit_events_at ON audit_events (at);

-- Contentless: the index only finds sequence numbers; the text stays in
-- audit_events, whose rows are never updated or deleted. It is filled in
-- batches (db.Audit.IndexText), not by a trigger: one event at a time costs
-- FTS5 about fifteen times as much.
CREATE VIRTUAL TABLE audit_text USING fts5 (details, actor_email, content = '');

-- The last seq in audit_text.
CREATE TABLE audit_text_position (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	seq INTEGER NOT NULL
) STRICT;

INSERT INTO audit_text_position (id, seq) VALUES (1, 0);

-- A checkpoint: the chain's head at seq, signed with the server's Ed25519
-- key. The same lines are appended to a file outside the database.
CREATE TABLE audit_checkpoints (
	seq       INTEGER PRIMARY KEY,
	hash      TEXT NOT NULL,
	at        TEXT NOT NULL,
	key_id    TEXT NOT NULL,
	signature TEXT NOT NULL
) STRICT;

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
	SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;

CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
	SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
