-- The audit log's time filters find their bounds by bisecting the sequence
-- numbers (times rise with seq: Append keeps them so), not through an
-- index on the time: every event appended wrote that index, the largest of
-- the log's, and its JSON-extracted key.
DROP INDEX IF EXISTS audit_events_at;
