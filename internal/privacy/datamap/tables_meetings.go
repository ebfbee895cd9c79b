package datamap

// meetingTables are the tables of meetings: the meetings and their
// recurrence, the people taking part (members and guests), the agenda,
// agenda templates and the resources shared with a meeting.
//
// A meeting is shared by everyone in it. Erasing a person removes their
// place in meetings and whatever links them to shared content (the host,
// the author of an agenda item or a resource), while the meeting and its
// content stay for the others without naming them.
func meetingTables() []Table {
	return []Table{meetings(), meetingParticipants(), agendaItems(), agendaTemplates(), meetingResources()}
}

// meetingUses are the purposes of everything stored about a meeting: it
// is the service people asked for.
func meetingUses() []Use { return []Use{{"service", Contract}} }

// sharedContent is the note of a column that holds meeting content written
// for everyone in the meeting.
const sharedContent = "Meeting content written for everyone taking part; it stays with the meeting for them when its author's account is erased, and from then on names no author."

// authored declares a column of shared meeting content that the person of
// its row (the table's first person key) wrote or uploaded. It is not
// personal, since it stays with the meeting for the others, but its source
// is the person: their portable copy carries it.
func authored(name, note string) Column { return Column{Name: name, Note: note, Source: Provided} }

func meetings() Table {
	return Table{
		Name:        "meetings",
		Description: "Meetings and series of meetings: title, description, start with its time zone, duration, recurrence with its exceptions, host, the organisation that owns it, the meeting it follows up, and its entry settings (lock, passcode, lobby).",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"host_id", KeyPersonID}},
		Parents: []ForeignKey{
			{"org_id", "organisations", "id"}, {"host_id", "accounts", "id"}, {"follows_id", "meetings", "id"},
		},
		Columns: []Column{
			plain("id", "Random id of the meeting, also the name of its video room."),
			plain("org_id", "Id of the organisation that owns the meeting; the organisation's, not a person's."),
			{Name: "host_id", Personal: true, Note: "Id of the member who hosts the meeting; cleared when their account is erased, and the meeting stays for the others.",
				Categories: []string{"pseudonym.id"}, Uses: meetingUses(), Source: Derived,
				Retention: "with-meeting", Erasure: cleared(), Recipients: hosting()},
			authored("title", sharedContent),
			authored("description", sharedContent),
			authored("starts_at", "When the first occurrence starts; describes the meeting."),
			authored("time_zone", "Time zone the meeting was scheduled in; describes the meeting."),
			authored("duration_minutes", "How long each occurrence lasts."),
			authored("rrule", "Recurrence rule of a series."),
			plain("exdates", "Occurrences removed from a series."),
			plain("follows_id", "The earlier meeting this one follows up."),
			plain("state", "Whether the meeting is scheduled or cancelled."),
			plain("locked", "Whether the host closed the meeting to newcomers."),
			plain("passcode_hash", "One-way hash of the meeting's passcode; it cannot be turned back into the passcode."),
			plain("lobby", "Whether guests wait until the host admits them."),
			plain("ical_sequence", "Revision number of the calendar invitation, raised at each change."),
			plain("created_at", "When the meeting was created."),
			plain("updated_at", "When the meeting last changed."),
			plain("cancelled_at", "When the meeting was cancelled."),
		},
	}
}

func meetingParticipants() Table {
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: meetingUses(),
			Source: source, Retention: "with-meeting", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "meeting_participants",
		Description: "Everyone who takes part in a meeting: its host, and members and guests invited by e-mail, with their role, their personal invitation link (as a digest) and where they stand in the lobby. Guests have no account; their address and the name they give are kept here.",
		Subjects:    []Subject{Member, Guest},
		PersonKeys: []PersonKey{
			{"account_id", KeyPersonID}, {"email", KeyEmail}, {"id", KeyParticipantID},
		},
		Parents: []ForeignKey{{"meeting_id", "meetings", "id"}, {"account_id", "accounts", "id"}},
		Columns: []Column{
			col("id", "Random id of the person's place in the meeting, also their identity in its video room.", Derived, "pseudonym.id"),
			col("meeting_id", "Id of the meeting the person takes part in.", Derived, "pseudonym.id"),
			col("account_id", "Id of the member's account; empty for guests.", Derived, "pseudonym.id"),
			col("email", "Address the invitation went to, typed by the host.", Provided, "contact.email"),
			col("name", "Name a guest gives when joining.", Provided, "identity.name"),
			col("role", "The person's role in the meeting: host, co-host or participant.", Derived, "online.usage"),
			plain("invite_digest", "One-way digest of the personal link's token; it cannot be turned back into the link."),
			col("invite_expires_at", "When the personal link stops working.", Derived, "activity.audit-trail"),
			col("lobby_state", "Whether the person waits in the lobby, was admitted or was turned away.", Observed, "online.usage"),
			col("lobby_at", "When the person's lobby state last changed.", Observed, "online.usage"),
			col("door_generation", "How many times a host turned the person away or removed them; call tokens minted before the last time are refused.", Observed, "online.usage"),
			col("created_at", "When the person was invited or added.", Observed, "activity.audit-trail"),
			col("accepted_at", "When the person first came through the meeting's door; until then others see only that someone was invited.", Observed, "online.usage"),
		},
	}
}

func agendaItems() Table {
	link := func(name, note string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: []string{"pseudonym.id"}, Uses: meetingUses(),
			Source: Derived, Retention: "with-meeting", Erasure: cleared(), Recipients: hosting()}
	}
	return Table{
		Name:        "agenda_items",
		Description: "The agenda of a meeting, in order: each item's title, planned minutes, notes, the participant who leads it and who wrote it.",
		Subjects:    []Subject{Member, Guest},
		PersonKeys:  []PersonKey{{"created_by", KeyPersonID}, {"owner_participant_id", KeyParticipantID}},
		Parents: []ForeignKey{
			{"meeting_id", "meetings", "id"}, {"owner_participant_id", "meeting_participants", "id"}, {"created_by", "accounts", "id"},
		},
		Columns: []Column{
			plain("id", "Random id of the item."),
			plain("meeting_id", "Id of the meeting the item belongs to."),
			plain("position", "Place of the item in the agenda."),
			authored("title", sharedContent),
			authored("planned_minutes", "Minutes planned for the item."),
			authored("notes", sharedContent),
			link("owner_participant_id", "The participant who leads the item; cleared when that person's data is erased."),
			link("created_by", "Id of the member who wrote the item; cleared when their account is erased."),
			plain("created_at", "When the item was written."),
			plain("updated_at", "When the item last changed."),
		},
	}
}

func agendaTemplates() Table {
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: meetingUses(),
			Source: source, Retention: "with-account", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "agenda_templates",
		Description: "Agendas a member saved to reuse, for themselves or shared with their organisation.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"account_id", KeyPersonID}},
		Parents:     []ForeignKey{{"account_id", "accounts", "id"}, {"org_id", "organisations", "id"}},
		Columns: []Column{
			plain("id", "Random id of the template."),
			col("account_id", "Id of the member who saved the template.", Derived, "pseudonym.id"),
			plain("org_id", "The organisation the template is shared with, if any."),
			col("name", "Name the member gave the template.", Provided, "content.meeting"),
			col("items", "The saved agenda items: titles, planned minutes and notes.", Provided, "content.meeting"),
			col("created_at", "When the template was saved.", Observed, "activity.audit-trail"),
		},
	}
}

func meetingResources() Table {
	return Table{
		Name:        "meeting_resources",
		Description: "Files and links shared with a meeting's participants. Files are kept in blob storage; links to Google Drive, Miro, OneDrive or the web are only recognised and shown, never fetched, and no token of the person's is stored.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"added_by", KeyPersonID}},
		Parents: []ForeignKey{
			{"meeting_id", "meetings", "id"}, {"added_by", "accounts", "id"}, {"blob_key", "blobs", "key"},
		},
		Columns: []Column{
			plain("id", "Random id of the resource."),
			plain("meeting_id", "Id of the meeting the resource is shared with."),
			{Name: "added_by", Personal: true, Note: "Id of the member who shared the resource; cleared when their account is erased, and the resource stays for the others.",
				Categories: []string{"pseudonym.id"}, Uses: meetingUses(), Source: Derived,
				Retention: "with-meeting", Erasure: cleared(), Recipients: hosting()},
			plain("kind", "Whether the resource is a file or a link."),
			authored("title", sharedContent),
			authored("url", "Address of a shared link; "+sharedContent),
			plain("provider", "The service a link points to, recognised from its address."),
			{Name: "blob_key", BlobKey: true, Source: Provided, Note: "Storage key of an uploaded file, shared content of the meeting; the file is deleted with the row."},
			plain("content_type", "Media type of an uploaded file."),
			plain("size_bytes", "Size of an uploaded file."),
			plain("created_at", "When the resource was shared."),
		},
	}
}
