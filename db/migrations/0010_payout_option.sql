-- The payout option a Kibramoa customer picked in the cashier (SPEI, PIX,
-- a wallet…), as the provider reports it: until then the agent only knows
-- that the beneficiary's account is "chosen in cashier".
ALTER TABLE payouts ADD COLUMN payout_option TEXT NOT NULL DEFAULT '';
