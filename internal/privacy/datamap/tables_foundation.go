package datamap

import "github.com/sessionshq/sessions/internal/privacy/vendors"

// foundationTables are the tables of the first migration and the
// migration ledger itself.
func foundationTables() []Table {
	return []Table{auditLog(), mailOutbox(), subprocessorsTable(), blobs(), schemaMigrations()}
}

// auditUses are the purposes every personal column of the audit log
// serves: it is the evidence the law asks us to be able to produce.
func auditUses() []Use {
	return []Use{
		{"security", LegalObligation},
		{"legal-compliance", LegalObligation},
		{"legal-claims", LegitimateInterest},
	}
}

// auditKept is the erasure of the audit log's evidence: it stays, without
// a direct link to the person, until its retention ends.
func auditKept() *Erasure {
	return &Erasure{
		Action: KeepLegalObligation,
		Reason: "The audit log is the proof, which the law requires us to be able to give, of how personal data was handled, the erasure itself included. Once the direct ids are cleared the entry names nobody except through a keyed pseudonym.",
		Until:  "audit-5y",
	}
}

func auditLog() Table {
	evidence := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: auditUses(),
			Source: source, Retention: "audit-5y", Erasure: auditKept(), Recipients: hosting()}
	}
	link := func(name, note string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: []string{"pseudonym.id"}, Uses: auditUses(),
			Source: Derived, Retention: "audit-5y", Erasure: cleared(), Recipients: hosting()}
	}
	return Table{
		Name:        "audit_log",
		Description: "Append-only, hash-chained record of who did what to whose data, when and for which purpose.",
		Subjects:    []Subject{Member, Guest, OrgContact, Staff},
		PersonKeys:  []PersonKey{{"actor_id", KeyPersonID}, {"subject_id", KeyPersonID}},
		Columns: []Column{
			plain("seq", "Position of the entry in the chain."),
			evidence("at", "When the action happened.", Observed, "activity.audit-trail"),
			plain("actor_kind", "Whether a member, a staff member or the system acted; a kind, not a person."),
			link("actor_id", "Id of whoever acted; cleared at erasure."),
			evidence("actor_ref", "Keyed pseudonym of whoever acted, part of the hash.", Derived, "pseudonym.id"),
			evidence("action", "What was done.", Observed, "activity.audit-trail"),
			plain("subject_kind", "What kind of thing the action touched; a kind, not a person."),
			link("subject_id", "Id of the person or thing the action touched; cleared at erasure."),
			evidence("subject_ref", "Keyed pseudonym of the person or thing touched, part of the hash.", Derived, "pseudonym.id"),
			evidence("purpose", "Purpose the action served.", Observed, "activity.audit-trail"),
			evidence("detail", "Structured facts about the action, without direct identifiers.", Observed, "activity.audit-trail"),
			plain("prev_hash", "Hash of the previous entry."),
			plain("hash", "Hash of this entry."),
		},
	}
}

func mailOutbox() Table {
	mailUses := []Use{
		{"account", Contract},
		{"service", Contract},
		{"service-communications", LegitimateInterest},
		{"marketing", LegitimateInterest},
	}
	mailed := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: mailUses,
			Source: source, Retention: "mail-90d", Erasure: deleted(),
			Recipients: hosting(vendors.Mailgun, vendors.Mailjet)}
	}
	return Table{
		Name: "mail_outbox",
		Description: "Outgoing e-mail, written in the same transaction as the change that caused it and delivered by a background job. " +
			"Erasure deletes a person's messages, except those that tell them about their own request and the erasure, which stay until delivered or given up, at the latest 7 days (erasure_run_mail, erasure_runs.notice_mail).",
		Subjects:   []Subject{Member, Guest, OrgContact},
		PersonKeys: []PersonKey{{"person_id", KeyPersonID}, {"to_address", KeyEmail}, {"about_id", KeyNamedPersonID}},
		Columns: []Column{
			plain("id", "Random id of the message."),
			plain("created_at", "When the message was queued."),
			{Name: "person_id", Personal: true, Note: "Id of the recipient, when they have one.",
				Categories: []string{"pseudonym.id"}, Uses: mailUses, Source: Derived,
				Retention: "mail-90d", Erasure: deleted(), Recipients: hosting()},
			{Name: "about_id", Personal: true, Note: "Id of the member whose action caused a message to someone else and whom it names: the host of a meeting invitation, the member who invited someone to an organisation. Their export lists the message without its text and address, which hold the recipient's link; their erasure deletes it, sent or not.",
				Categories: []string{"pseudonym.id"}, Uses: mailUses, Source: Derived,
				Retention: "mail-90d", Erasure: deleted(), Recipients: hosting()},
			plain("category", "Whether the message is transactional or marketing."),
			plain("template", "Name of the template the message was made from."),
			mailed("to_address", "Recipient's address.", Provided, "contact.email"),
			mailed("subject", "Subject line, which may carry names.", Derived, "content.email-message"),
			mailed("body_text", "Plain-text body.", Derived, "content.email-message"),
			mailed("body_html", "HTML body.", Derived, "content.email-message"),
			mailed("headers", "Extra headers, such as the one-click unsubscribe link with its token.", Derived, "pseudonym.id"),
			mailed("attachments", "Files sent with the message, such as a meeting's calendar invitation, which names the meeting and its organiser.", Derived, "content.email-message"),
			mailed("staff_subject", "Subject line as staff may read it, with quoted meeting content withheld.", Derived, "content.email-message"),
			mailed("staff_text", "Plain-text body as staff may read it, with links' tokens, codes and quoted meeting content withheld.", Derived, "content.email-message"),
			plain("status", "Delivery state."),
			plain("attempts", "How many deliveries were tried."),
			plain("next_attempt_at", "When delivery is tried next."),
			mailed("last_error", "The receiving server's last answer, which may repeat the address.", Observed, "content.delivery-status"),
			plain("sent_at", "When the message was handed over for delivery."),
		},
	}
}

func subprocessorsTable() Table {
	const business = "Facts about a company, not about a person."
	return Table{
		Name:        "subprocessors",
		Description: "Registry of the sub-processors that process personal data on our behalf, with their country and transfer safeguard.",
		Columns: []Column{
			plain("id", "Registry id."),
			plain("name", business),
			plain("activity", business),
			plain("purpose", "Id of the purpose the company mainly serves."),
			plain("country", business),
			plain("transfer_mechanism", business),
			plain("data_categories", "Ids of the categories of data the company may receive."),
			plain("website", business),
			plain("active", "Whether the company is currently engaged."),
			plain("created_at", "When the entry was added."),
			plain("updated_at", "When staff last changed the entry."),
		},
	}
}

func blobs() Table {
	fileUses := []Use{{"service", Contract}, {"account", Contract}}
	return Table{
		Name:        "blobs",
		Description: "Index of the files kept in blob storage (uploads, recordings, exports) and whom they belong to, so that export and erasure find them without listing the bucket.",
		Subjects:    []Subject{Member, Guest},
		PersonKeys:  []PersonKey{{"person_id", KeyPersonID}},
		Columns: []Column{
			{Name: "key", Personal: true, BlobKey: true, Note: "Storage key of the file; the file it points to is the person's upload, recording or export and is deleted with the row.",
				Categories: []string{"content.file", "biometric.audio-video"}, Uses: fileUses, Source: Provided,
				Retention: "with-owner", Erasure: deleted(), Recipients: hosting()},
			{Name: "person_id", Personal: true, Note: "Id of the person the file belongs to.",
				Categories: []string{"pseudonym.id"}, Uses: fileUses, Source: Derived,
				Retention: "with-owner", Erasure: deleted(), Recipients: hosting()},
			plain("kind", "Whether the file is an upload, a recording or an export."),
			plain("content_type", "Media type of the file."),
			plain("size_bytes", "Size of the file."),
			plain("sha256", "Checksum that proves the file is intact; it cannot be turned back into the content."),
			plain("created_at", "When the file was stored."),
		},
	}
}

func schemaMigrations() Table {
	return Table{
		Name:        "schema_migrations",
		Description: "Which schema migrations have been applied.",
		Columns: []Column{
			plain("version", "Migration number."),
			plain("name", "Migration name."),
			plain("applied_at", "When the migration ran."),
		},
	}
}
