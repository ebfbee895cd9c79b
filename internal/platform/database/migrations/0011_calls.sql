-- Video calls: the chat and questions written in a meeting, who was in its
-- call and when (from LiveKit's webhooks), whether its call is running, and
-- the webhook deliveries already handled. Written in PostgreSQL's dialect;
-- see migrate.go for the rewrites applied on SQLite.

-- Chat messages and questions (Q&A) of a meeting. seq numbers a meeting's
-- messages 1, 2, 3… in the order they were stored; pages poll with the
-- last seq they saw. author_name is the name shown when the message was
-- written, kept so the conversation still reads after the author leaves
-- the meeting. Erasing the author clears participant_id and account_id,
-- blanks the body and sets author_name to "Former participant", keeping
-- the row so the others' conversation keeps its shape.
CREATE TABLE meeting_messages (
    id             TEXT PRIMARY KEY,
    meeting_id     TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    seq            BIGINT NOT NULL,
    participant_id TEXT REFERENCES meeting_participants (id) ON DELETE SET NULL,
    account_id     TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    author_name    TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('chat', 'question')),
    body           TEXT NOT NULL,
    answered_at    TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL,
    UNIQUE (meeting_id, seq)
);
CREATE INDEX meeting_messages_participant ON meeting_messages (participant_id);
CREATE INDEX meeting_messages_account ON meeting_messages (account_id);

-- One row per connection a participant made to the meeting's call.
-- connection_id is LiveKit's id for that one connection: a person can hold
-- two for a moment (a reload, a second device), and webhooks arrive in any
-- order, so joined_at and left_at are matched by connection and either may
-- come first.
CREATE TABLE meeting_attendance (
    id             TEXT PRIMARY KEY,
    meeting_id     TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    participant_id TEXT NOT NULL REFERENCES meeting_participants (id) ON DELETE CASCADE,
    connection_id  TEXT NOT NULL,
    joined_at      TIMESTAMPTZ,
    left_at        TIMESTAMPTZ,
    UNIQUE (meeting_id, connection_id)
);
CREATE INDEX meeting_attendance_participant ON meeting_attendance (participant_id);

-- Whether a meeting's call is running: started_at and ended_at of its
-- latest call, from the room_started and room_finished webhooks.
CREATE TABLE meeting_live (
    meeting_id TEXT PRIMARY KEY REFERENCES meetings (id) ON DELETE CASCADE,
    started_at TIMESTAMPTZ NOT NULL,
    ended_at   TIMESTAMPTZ
);

-- LiveKit retries a webhook it thinks was not delivered; the ids of the
-- events already handled make a retry change nothing. Rows older than a day
-- are deleted as new ones arrive.
CREATE TABLE livekit_webhook_events (
    id          TEXT PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX livekit_webhook_events_received ON livekit_webhook_events (received_at);
