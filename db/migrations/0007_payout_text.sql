-- The payouts list's text box, by trigram: a pasted reference or part of a
-- name is found without reading every payout. Filled in batches
-- (db.Payouts.IndexText), as the audit log's text index is; payouts.search
-- never changes once written.
-- case_sensitive 1: payouts.search and the searched text are both lowered
-- by Go; the tokenizer's own folding (ς → σ, ſ → s) would find more than
-- the substrings.
CREATE VIRTUAL TABLE payout_text USING fts5 (search, content = '', tokenize = 'trigram case_sensitive 1');

-- The last payout id in payout_text.
CREATE TABLE payout_text_position (
	id        INTEGER PRIMARY KEY CHECK (id = 1),
	payout_id INTEGER NOT NULL
) STRICT;

INSERT INTO payout_text_position (id, payout_id) VALUES (1, 0);
