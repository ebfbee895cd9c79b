-- A message to someone else may name the member whose action caused it:
-- the host of a meeting invitation (in its text and as the calendar
-- file's organiser), the member who invited someone to an organisation.
-- about_id links such a message to that member as well as to its
-- recipient, so that the member's export lists it and their erasure
-- removes it; the index serves that lookup. Messages queued before this
-- migration cannot be linked after the fact (nothing records who caused
-- them) and leave the outbox with the 90-day rule.
ALTER TABLE mail_outbox ADD COLUMN about_id TEXT;
CREATE INDEX mail_outbox_about ON mail_outbox (about_id);
