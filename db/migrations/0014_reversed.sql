-- The dashboard lists each user's paid payouts whose provider later said
-- the money came back (Kibramoa's REFUNDED after COMPLETED): rare, so the
-- index is tiny, and only such payouts ever enter it.
CREATE INDEX payouts_reversed ON payouts (created_by, updated_at)
	WHERE status = 'paid' AND error_code = 'reversed_after_paid';
