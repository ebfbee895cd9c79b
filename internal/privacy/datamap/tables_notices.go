package datamap

// noticeTables are the tables of the privacy notice: its published
// versions, members' acknowledgements of significant versions and the
// e-mails that announced them.
func noticeTables() []Table {
	return []Table{noticeVersions(), noticeAcknowledgements(), noticeMailings()}
}

func noticeVersions() Table {
	const text = "Part of the public text of the notice; it describes the notice, not a person."
	return Table{
		Name:        "notice_versions",
		Description: "Every published version of the privacy notice: its number, when it took effect, whether the change was significant, the summary of changes, the text and its SHA-256, and who published it. The history is public.",
		Subjects:    []Subject{Staff},
		PersonKeys:  []PersonKey{{"published_by", KeyPersonID}},
		Columns: []Column{
			plain("version", "Number of the version, from 1."),
			plain("published_at", "When the version took effect; public in the history."),
			{Name: "published_by", Personal: true, Note: "Id of the staff account that published the version; empty for the first version, which the server publishes itself.",
				Categories: []string{"pseudonym.id"}, Uses: []Use{{"legal-compliance", LegalObligation}},
				Source: Observed, Retention: "notice-history", Erasure: cleared(), Recipients: hosting()},
			plain("significant", "Whether the change was significant, which decides the e-mail and the banner."),
			plain("summary", text),
			plain("body", text),
			plain("sections", text),
			plain("sha256", "Digest of the text."),
			plain("mailed_at", "When the announcement of a significant version had gone to every member."),
		},
	}
}

func noticeAcknowledgements() Table {
	uses := []Use{{"legal-compliance", LegalObligation}, {"service-communications", LegalObligation}}
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "with-account", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "notice_acknowledgements",
		Description: "A member's confirmation that they saw a version of the privacy notice, which ends the banner about a significant change: who, which version and when.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"account_id", KeyPersonID}},
		Parents:     []ForeignKey{{"account_id", "accounts", "id"}, {"version", "notice_versions", "version"}},
		Columns: []Column{
			col("account_id", "Id of the member's account.", Derived, "pseudonym.id"),
			col("version", "The version the member confirmed.", Provided, "preference.privacy"),
			col("acknowledged_at", "When the member confirmed it.", Observed, "activity.audit-trail"),
		},
	}
}

func noticeMailings() Table {
	uses := []Use{{"service-communications", LegalObligation}}
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "mail-90d", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "notice_mailings",
		Description: "Which members were sent the e-mail announcing a significant version of the privacy notice, so that each gets it once however often the sending job runs.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"account_id", KeyPersonID}},
		Parents:     []ForeignKey{{"version", "notice_versions", "version"}, {"account_id", "accounts", "id"}},
		Columns: []Column{
			plain("version", "The version announced."),
			col("account_id", "Id of the member the e-mail went to.", Derived, "pseudonym.id"),
			col("outbox_id", "Id of the e-mail in the outbox; empty if the stored address could not take mail.", Derived, "pseudonym.id"),
			col("created_at", "When the e-mail was queued; the row is deleted with the outbox's copy.", Observed, "activity.audit-trail"),
		},
	}
}
