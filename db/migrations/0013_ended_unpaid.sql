-- The dashboard lists each user's payouts that ended without paying lately,
-- whatever ended them: the provider (failed), a manager (rejected), the
-- approval's time (expired), the customer or the agent (cancelled).
DROP INDEX payouts_failed;
CREATE INDEX payouts_ended_unpaid ON payouts (created_by, finished_at)
	WHERE status IN ('failed', 'rejected', 'expired', 'cancelled');
