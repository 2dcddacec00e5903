-- The dashboard lists each user's payouts that wait on somebody: a customer
-- in the cashier, a manager's approval or decision. Partial, so that
-- payouts passing through other statuses (nearly all of them, under load)
-- never touch it.
CREATE INDEX payouts_attention ON payouts (created_by, status, id)
	WHERE status IN ('awaiting_customer', 'unknown', 'pending_approval');
-- And those that failed lately, by when they failed: a payout unknown for
-- days may fail today.
CREATE INDEX payouts_failed ON payouts (created_by, finished_at) WHERE status = 'failed';
