-- Providers that cap payouts to one recipient (FedaPay: 3 to a number in 24
-- hours) are checked against the payouts already made. The recipient is kept
-- as a hash: the account itself is masked once a payout is final.
ALTER TABLE payouts ADD COLUMN recipient_key TEXT NOT NULL DEFAULT '';

CREATE INDEX payouts_recipient ON payouts (provider, recipient_key) WHERE recipient_key != '';
