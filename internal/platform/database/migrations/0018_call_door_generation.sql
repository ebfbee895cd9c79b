-- The door of a call is checked again by the video server's webhooks,
-- since a LiveKit token stays valid after the door closes and LiveKit
-- hands connected clients refreshed copies of it. door_generation counts
-- how many times a host turned the person away or removed them; each token
-- carries the count it was minted at, and a connection whose token carries
-- an older count is ended, even after a host let the person in again.
ALTER TABLE meeting_participants ADD COLUMN door_generation INTEGER NOT NULL DEFAULT 0;
