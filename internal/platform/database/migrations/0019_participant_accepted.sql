-- accepted_at is when an invited person first came through the meeting's
-- door (joined its call, or arrived by their personal link). Until then the
-- participant list shows them like every other invitee, so that inviting an
-- address does not tell whether it belongs to an account. The host, who
-- made the meeting, counts as accepted from the start; so does everyone who
-- has come through the door before, which a guest's name, a lobby state or
-- an attendance record shows.
ALTER TABLE meeting_participants ADD COLUMN accepted_at TIMESTAMPTZ;
UPDATE meeting_participants SET accepted_at = created_at
WHERE role = 'host' OR name IS NOT NULL OR lobby_state IS NOT NULL
   OR id IN (SELECT participant_id FROM meeting_attendance);
