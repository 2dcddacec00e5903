-- Verified webhook deliveries, one row per provider event, so that a
-- delivery seen twice is recognised and acted on once.
CREATE TABLE webhook_deliveries (
	provider    TEXT NOT NULL,
	event_id    TEXT NOT NULL,
	received_at TEXT NOT NULL,
	PRIMARY KEY (provider, event_id)
) STRICT, WITHOUT ROWID;
