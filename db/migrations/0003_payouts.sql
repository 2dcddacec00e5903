-- Payouts, their outbox, and every request and answer exchanged with a
-- provider. Amounts are integer minor units of currency.

CREATE TABLE payouts (
	id                  INTEGER PRIMARY KEY,
	provider            TEXT NOT NULL,
	status              TEXT NOT NULL,
	amount_minor        INTEGER NOT NULL CHECK (amount_minor > 0),
	currency            TEXT NOT NULL CHECK (length(currency) = 3),
	idempotency_key     TEXT NOT NULL UNIQUE,
	reference           TEXT NOT NULL UNIQUE,
	-- The form's values as submitted, a JSON object; account numbers are
	-- replaced by their masked form once the payout is final.
	fields              TEXT NOT NULL,
	beneficiary_name    TEXT NOT NULL,
	beneficiary_account TEXT NOT NULL,
	beneficiary_country TEXT NOT NULL,
	provider_id         TEXT NOT NULL DEFAULT '',
	payment_id          TEXT NOT NULL DEFAULT '',
	provider_reference  TEXT NOT NULL DEFAULT '',
	raw_status          TEXT NOT NULL DEFAULT '',
	error_code          TEXT NOT NULL DEFAULT '',
	error_message       TEXT NOT NULL DEFAULT '',
	cashier_url         TEXT NOT NULL DEFAULT '',
	created_by          INTEGER NOT NULL REFERENCES users (id),
	created_at          TEXT NOT NULL,
	updated_at          TEXT NOT NULL,
	-- When the last attempt to send started (before its HTTP call).
	submitted_at        TEXT,
	confirmed_at        TEXT,
	finished_at         TEXT,
	-- When reconciliation next asks the provider; NULL when nothing to ask.
	next_check_at       TEXT,
	checks              INTEGER NOT NULL DEFAULT 0,
	-- Lower-cased reference and beneficiary, for the list's text filter.
	search              TEXT NOT NULL
) STRICT;

CREATE INDEX payouts_creator ON payouts (created_by, id);
CREATE INDEX payouts_status ON payouts (status, id);
CREATE INDEX payouts_provider ON payouts (provider, id);
CREATE INDEX payouts_created_at ON payouts (created_at, id);
CREATE INDEX payouts_provider_id ON payouts (provider, provider_id) WHERE provider_id != '';
CREATE INDEX payouts_payment_id ON payouts (provider, payment_id) WHERE payment_id != '';
CREATE INDEX payouts_due ON payouts (next_check_at) WHERE next_check_at IS NOT NULL;

-- A payout waiting to be sent. The row stays while the attempt runs and
-- goes when its outcome is recorded.
CREATE TABLE outbox (
	payout_id    INTEGER PRIMARY KEY REFERENCES payouts (id),
	available_at TEXT NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX outbox_available ON outbox (available_at);

CREATE TABLE provider_exchanges (
	id              INTEGER PRIMARY KEY,
	payout_id       INTEGER NOT NULL REFERENCES payouts (id),
	at              TEXT NOT NULL,
	op              TEXT NOT NULL,
	method          TEXT NOT NULL,
	url             TEXT NOT NULL,
	request_headers TEXT NOT NULL,
	request_body    TEXT NOT NULL,
	status          INTEGER NOT NULL,
	response_body   TEXT NOT NULL,
	duration_ms     INTEGER NOT NULL,
	error           TEXT NOT NULL
) STRICT;

CREATE INDEX provider_exchanges_payout ON provider_exchanges (payout_id, id);

-- A payout's timeline reads its audit events by target.
CREATE INDEX audit_events_target ON audit_events (target_type, target_id, seq);
