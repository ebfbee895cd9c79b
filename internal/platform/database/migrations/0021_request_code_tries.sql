-- The tries of a request's e-mailed code are counted in auth_throttle,
-- with every other guess that leads to a lockout, by one statement that
-- counts a try before the code is compared. The request's own counter was
-- read, then written, so concurrent tries all passed its limit; it goes.
ALTER TABLE account_requests DROP COLUMN code_attempts;
