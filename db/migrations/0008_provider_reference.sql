-- A support agent pastes the provider's own reference (FedaPay's pyt_…,
-- Monime's transaction reference) into the payouts list's text box.
CREATE INDEX payouts_provider_reference ON payouts (provider_reference) WHERE provider_reference != '';
