-- The dashboard lists each user's payouts that wait on somebody: a customer
-- in the cashier, a manager's approval or decision, or the agent after a
-- failure. Partial, so that payouts passing through other statuses (nearly
-- all of them, under load) never touch it.
CREATE INDEX payouts_attention ON payouts (created_by, status, id)
	WHERE status IN ('awaiting_customer', 'unknown', 'pending_approval', 'failed');
