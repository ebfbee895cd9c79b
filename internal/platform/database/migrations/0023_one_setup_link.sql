-- The first-administrator setup link is one per database, not one per
-- process: every instance that starts while no administrator exists hands
-- out the link that is open rather than voiding it with a new one. This
-- index lets at most one unused link exist, so instances starting together
-- agree on it with INSERT ... ON CONFLICT DO NOTHING.
--
-- Links issued before this change had random tokens that other instances
-- cannot reproduce; they are voided here, and the next start issues one
-- that every instance sharing the secret key can write out.
DELETE FROM staff_setup_tokens WHERE used_at IS NULL;
CREATE UNIQUE INDEX staff_setup_tokens_one_open ON staff_setup_tokens ((used_at IS NULL)) WHERE used_at IS NULL;
