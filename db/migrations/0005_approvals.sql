-- Maker-checker: who approved a payout, when, and the hash of exactly what
-- they saw; the worker sends nothing that differs from it.
ALTER TABLE payouts ADD COLUMN approval_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE payouts ADD COLUMN approved_by INTEGER REFERENCES users (id);
ALTER TABLE payouts ADD COLUMN approved_at TEXT;
