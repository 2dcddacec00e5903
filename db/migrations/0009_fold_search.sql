-- The payouts list's text box ignores accents: payouts.search is stored
-- folded (lowercased, accents removed; Go's db.foldText, registered as
-- payoutdesk_fold), and so is the text searched. Existing rows are folded
-- here, and the trigram index is rebuilt from them by the indexing worker
-- (searches read the table meanwhile, as after migration 0007).
UPDATE payouts SET search = payoutdesk_fold(search) WHERE search != payoutdesk_fold(search);

DROP TABLE payout_text;
CREATE VIRTUAL TABLE payout_text USING fts5 (search, content = '', tokenize = 'trigram case_sensitive 1');
UPDATE payout_text_position SET payout_id = 0;
