-- The dashboard lists each user's payouts whose provider later contradicted
-- their final status: paid, then reported back (Kibramoa's REFUNDED after
-- COMPLETED), or ended unpaid, then reported paid. Rare, so the index is
-- tiny, and only such payouts ever enter it.
CREATE INDEX payouts_contradicted ON payouts (created_by, updated_at)
	WHERE error_code IN ('reversed_after_paid', 'paid_after_end');
