-- The text indexes no longer merge their segments in the transaction that
-- writes one: a merge held the only writer, and so everyone's request, for
-- up to 26 ms at a time. The indexer merges in small steps of its own
-- instead (db.merge). FTS5 keeps these settings in the index itself.
INSERT INTO audit_text (audit_text, rank) VALUES ('automerge', 0);
INSERT INTO payout_text (payout_text, rank) VALUES ('automerge', 0);
