-- Personal API tokens carry scopes and an expiry. scopes holds the names of
-- the parts of the API a token may use, space-separated; expires_at is when
-- it stops working, at most 90 days after it was made.
--
-- Tokens made before this change could use the whole API. They keep what a
-- member's token may carry, every scope but staff, since the staff scope is
-- given only to staff with two-step sign-in who ask for it; and they live 90
-- days from the upgrade, as a new token would.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;
UPDATE api_tokens SET scopes = 'account:read account:write meetings orgs privacy',
    expires_at = CURRENT_TIMESTAMP + INTERVAL '90 days';
-- Retention deletes expired tokens by this column.
CREATE INDEX api_tokens_expires_at ON api_tokens (expires_at);
