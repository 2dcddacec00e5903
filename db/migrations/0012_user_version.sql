-- Counts changes to an account (a new password, disabled, enabled), so
-- that an admin's form acts only on the account as its page showed it: a
-- second click, or another admin's change meanwhile, is refused.
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
