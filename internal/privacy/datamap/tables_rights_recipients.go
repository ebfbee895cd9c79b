package datamap

// rightsRecipientTables are the direct transfers members ask for, and the
// Art. 19 GDPR records: where each recipient takes notices, the
// deliveries of a person's data beyond what every row declares, and the
// notices sent when the data is rectified, erased or restricted.
func rightsRecipientTables() []Table {
	return []Table{dataTransfers(), recipientContacts(), recipientDeliveries(), recipientNotices()}
}

func dataTransfers() Table {
	uses := []Use{{"legal-compliance", LegalObligation}}
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "with-account", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "data_transfers",
		Description: "Members' requests to send the data they gave us straight to another service of their choice, with whether the other service took it.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"person_id", KeyPersonID}},
		Parents:     []ForeignKey{{"person_id", "accounts", "id"}},
		Columns: []Column{
			plain("id", "Random id of the transfer."),
			col("person_id", "Id of the member who asked.", Derived, "pseudonym.id"),
			col("url", "The https address of the service the member chose to receive their data.", Provided, "preference.settings"),
			plain("state", "Whether the transfer waits for confirmation, waits to be sent, was sent or failed."),
			plain("status_code", "The HTTP status the receiving service answered."),
			plain("size_bytes", "Size of what was sent."),
			plain("error", "A fixed short reason why the transfer failed."),
			plain("attempts", "How many times sending was tried."),
			col("created_at", "When the member asked.", Observed, "activity.audit-trail"),
			col("confirmed_at", "When the member confirmed.", Observed, "activity.audit-trail"),
			col("finished_at", "When the transfer was sent or given up.", Observed, "activity.audit-trail"),
		},
	}
}

func recipientContacts() Table {
	return Table{
		Name:        "recipient_contacts",
		Description: "Where each recipient of personal data takes notices that a person's data was corrected, erased or restricted: the privacy contact's address or a webhook of the company.",
		Columns: []Column{
			plain("recipient", "Id of the sub-processor in the registry."),
			plain("privacy_email", "The company's privacy contact address, a role address rather than a person's."),
			plain("webhook_url", "The company's https address that takes notices."),
			plain("updated_at", "When the contact was last changed."),
		},
	}
}

func recipientDeliveries() Table {
	uses := []Use{{"legal-compliance", LegalObligation}}
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "with-account", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "recipient_deliveries",
		Description: "Each time a person's data went to a recipient beyond what the data map declares for every row, such as a transfer the member asked for, so the person can be told who received what.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"person_id", KeyPersonID}},
		Parents:     []ForeignKey{{"person_id", "accounts", "id"}},
		Columns: []Column{
			plain("id", "Random id of the delivery."),
			col("person_id", "Id of the member whose data was delivered.", Derived, "pseudonym.id"),
			col("recipient", "Who received it: a sub-processor's id, or the host name of a service the member chose.", Derived, "activity.audit-trail"),
			col("categories", "The kinds of data delivered.", Derived, "activity.audit-trail"),
			col("what", "What was delivered, in a few fixed words.", Derived, "activity.audit-trail"),
			col("delivered_at", "When.", Observed, "activity.audit-trail"),
		},
	}
}

func recipientNotices() Table {
	kept := &Erasure{
		Action: KeepLegalObligation,
		Reason: "The record that recipients were told of a correction, erasure or restriction is the proof the law asks us to be able to give; it names the person only through the audit log's keyed pseudonym.",
		Until:  "erasure-proof-5y",
	}
	proof := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: proofUses(),
			Source: source, Retention: "erasure-proof-5y", Erasure: kept, Recipients: hosting()}
	}
	return Table{
		Name:        "recipient_notices",
		Description: "Notices to the recipients of a person's data that it was corrected, erased or restricted, each by e-mail to the recipient's privacy contact or by webhook, with whether it went out.",
		Subjects:    []Subject{Member, Guest},
		Unkeyed:     "A notice names the person only by the audit log's keyed pseudonym; the webhook body that names them for the recipient is cleared once delivered, and the e-mail leaves the outbox once delivered.",
		Columns: []Column{
			plain("id", "Random id of the notice."),
			proof("person_ref", "Keyed pseudonym of the person, the same the audit log uses.", Derived, "pseudonym.id"),
			plain("recipient", "Id of the sub-processor told, or only \"transfer\" for a service a member had their data sent to, whose address is not kept here."),
			proof("change", "What happened to the data: corrected, erased or restricted.", Derived, "activity.audit-trail"),
			plain("channel", "Whether the notice went by e-mail or webhook, or no contact is known."),
			plain("state", "Whether the notice waits, went out, failed, or had nowhere to go."),
			plain("mail_id", "Id of the outbox message, removed with it once delivered."),
			{Name: "payload", Personal: true, Note: "The webhook body: the person's id and addresses and what changed, cleared once delivered.",
				Categories: []string{"pseudonym.id", "contact.email"}, Uses: proofUses(), Source: Derived,
				Retention: "erasure-proof-5y", Erasure: cleared(), Recipients: hosting()},
			plain("attempts", "How many times delivery was tried."),
			proof("created_at", "When the notice was made; retention runs from it.", Observed, "activity.audit-trail"),
			proof("sent_at", "When it went out.", Observed, "activity.audit-trail"),
		},
	}
}
