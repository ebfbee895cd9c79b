-- The time zone a member sees meeting times in: an IANA name their
-- browser reported or they chose, '' until either happens (times are then
-- shown in UTC). It lives with the rest of what the member keeps in their
-- profile and goes with it.
ALTER TABLE profiles ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
