-- Providers that cap payouts to one recipient (FedaPay: 3 to a number in 24
-- hours) are checked against the payouts already made. The recipient is kept
-- as a hash, and only while it can count (db.Payouts.ForgetRecipients):
-- the account itself is masked once a payout is final.
ALTER TABLE payouts ADD COLUMN recipient_key TEXT NOT NULL DEFAULT '';

-- 1 once the provider may have received the payout: it was with the
-- provider, paid, or its outcome unknown. A payout that failed without
-- ever being so provably never reached the provider.
ALTER TABLE payouts ADD COLUMN maybe_received INTEGER NOT NULL DEFAULT 0;

CREATE INDEX payouts_recipient ON payouts (provider, recipient_key) WHERE recipient_key != '';
