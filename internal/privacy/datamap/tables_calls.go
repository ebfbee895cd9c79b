package datamap

// callTables are what video calls leave behind: the chat and questions of
// a meeting, who was in its call and when, whether the call is running,
// and the webhook deliveries already handled. Raise hand and reactions
// travel between browsers through the video server and are not stored.
func callTables() []Table {
	return []Table{meetingMessages(), meetingAttendance(), meetingLive(), livekitWebhookEvents()}
}

// formerParticipant replaces the name on messages whose author was erased.
var formerParticipant = "Former participant"

// removedMessage replaces the body of a message whose author was erased.
var removedMessage = ""

func meetingMessages() Table {
	col := func(name, note string, source Source, erasure *Erasure, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: meetingUses(),
			Source: source, Retention: "with-meeting", Erasure: erasure, Recipients: hosting()}
	}
	return Table{
		Name: "meeting_messages",
		Description: "Chat messages and questions written in a meeting, with the name their author was shown under. " +
			"Erasing the author blanks what they wrote and their name and unlinks them, and the others' conversation keeps its place.",
		Subjects:   []Subject{Member, Guest},
		PersonKeys: []PersonKey{{"participant_id", KeyParticipantID}, {"account_id", KeyPersonID}},
		Parents: []ForeignKey{
			{"meeting_id", "meetings", "id"}, {"participant_id", "meeting_participants", "id"}, {"account_id", "accounts", "id"},
		},
		Columns: []Column{
			plain("id", "Random id of the message."),
			plain("meeting_id", "Id of the meeting the message was written in."),
			plain("seq", "Place of the message in the meeting's conversation, a count."),
			col("participant_id", "The author's place in the meeting; cleared when their data is erased.", Derived, cleared(), "pseudonym.id"),
			col("account_id", "Id of the author's account, for members; cleared when their data is erased.", Derived, cleared(), "pseudonym.id"),
			col("author_name", "Name the author was shown under when writing, so the conversation still reads after they leave the meeting; becomes \""+formerParticipant+"\" when their data is erased.",
				Provided, &Erasure{Action: Anonymise, Replacement: &formerParticipant}, "identity.name"),
			plain("kind", "Whether the message is a chat message or a question."),
			col("body", "What the author wrote; blanked when their data is erased.", Provided,
				&Erasure{Action: Anonymise, Replacement: &removedMessage}, "content.message"),
			plain("answered_at", "When a host marked a question answered."),
			plain("created_at", "When the message was written; names nobody once the author is unlinked."),
		},
	}
}

func meetingAttendance() Table {
	col := func(name, note string, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: meetingUses(),
			Source: Observed, Retention: "with-meeting", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name: "meeting_attendance",
		Description: "Who was in a meeting's call and when: one row per connection, with the times the video server reported the person joining and leaving. " +
			"The meeting's hosts see it; erasing the person deletes it.",
		Subjects:   []Subject{Member, Guest},
		PersonKeys: []PersonKey{{"participant_id", KeyParticipantID}},
		Parents:    []ForeignKey{{"meeting_id", "meetings", "id"}, {"participant_id", "meeting_participants", "id"}},
		Columns: []Column{
			plain("id", "Random id of the record."),
			col("meeting_id", "Id of the meeting whose call the person was in.", "pseudonym.id"),
			col("participant_id", "The person's place in the meeting, also their identity in the call.", "pseudonym.id"),
			col("connection_id", "The video server's id for this one connection.", "pseudonym.id"),
			col("joined_at", "When the person joined the call.", "online.usage"),
			col("left_at", "When the person left the call.", "online.usage"),
		},
	}
}

func meetingLive() Table {
	return Table{
		Name:        "meeting_live",
		Description: "Whether a meeting's call is running: when its latest call started and ended. It says nothing about who is in it.",
		Columns: []Column{
			plain("meeting_id", "Id of the meeting."),
			plain("started_at", "When the latest call started."),
			plain("ended_at", "When the latest call ended; empty while it runs."),
		},
	}
}

func livekitWebhookEvents() Table {
	return Table{
		Name:        "livekit_webhook_events",
		Description: "Ids of the video server's webhook deliveries already handled, so that a retried delivery changes nothing; deleted after a day.",
		Columns: []Column{
			plain("id", "The video server's id of the event; the event itself is not kept."),
			plain("received_at", "When the delivery arrived."),
		},
	}
}
