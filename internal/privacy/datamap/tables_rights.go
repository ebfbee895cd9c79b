package datamap

// rightsTables are the erasure runs the erasure engine works through, the
// files each still has to delete, the messages to the person each keeps
// until delivered, and the exports members ask for.
func rightsTables() []Table {
	return []Table{erasureRuns(), erasureRunFiles(), erasureRunMail(), exportJobs()}
}

// proofUses are the purposes of the record that an erasure was done.
func proofUses() []Use {
	return []Use{{"legal-compliance", LegalObligation}, {"legal-claims", LegitimateInterest}}
}

func erasureRuns() Table {
	kept := &Erasure{
		Action: KeepLegalObligation,
		Reason: "The record of an erasure is the proof, which the law asks us to be able to give, that the erasure was carried out and when. It names the person only through the audit log's keyed pseudonym.",
		Until:  "erasure-proof-5y",
	}
	proof := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: proofUses(),
			Source: source, Retention: "erasure-proof-5y", Erasure: kept, Recipients: hosting()}
	}
	return Table{
		Name:        "erasure_runs",
		Description: "Each erasure of a person's data, asked for by them or due under a retention rule, with the step it has reached so that an interrupted erasure finishes after a restart. Once done it keeps only a keyed pseudonym of the person, the reason and the dates, as proof.",
		Subjects:    []Subject{Member, Guest},
		Unkeyed:     "While an erasure runs, the row holds the ids and addresses of the person being erased, since their account row may already be gone; the engine clears them in the same transaction that finishes the erasure, so a finished run names nobody.",
		Columns: []Column{
			plain("id", "Random id of the run."),
			proof("person_ref", "Keyed pseudonym of the person, the same the audit log uses, which cannot be turned back into an id without the server's secret.", Derived, "pseudonym.id"),
			{Name: "person", Personal: true, Note: "Account id, e-mail addresses and meeting places of the person being erased, cleared when the erasure is finished.",
				Categories: []string{"pseudonym.id", "contact.email"}, Uses: proofUses(), Source: Derived,
				Retention: "erasure-proof-5y", Erasure: cleared(), Recipients: hosting()},
			proof("reason", "Why the data was erased: the person's request, an inactive or long-deactivated account, or a guest's data past its time.", Derived, "activity.audit-trail"),
			proof("request_id", "The person's request the erasure carried out, if it was one.", Derived, "activity.audit-trail"),
			plain("state", "Whether the run waits, is working, is stopped by a legal hold, or is done."),
			plain("step", "Name of the table being worked on."),
			plain("rows_done", "How many rows were removed or cleared so far."),
			plain("files_done", "How many stored files were deleted so far."),
			proof("created_at", "When the erasure began; retention runs from it.", Observed, "activity.audit-trail"),
			plain("updated_at", "When the run last moved on."),
			proof("finished_at", "When the erasure was finished.", Observed, "activity.audit-trail"),
			plain("notice_mail", "Id of the outbox message that tells the person the erasure is done; the message itself is deleted once delivered or given up, at the latest 7 days after the erasure finished."),
			plain("lease_until", "Until when the worker on the run holds it; a lapsed lease lets another take it up."),
		},
	}
}

func erasureRunFiles() Table {
	return Table{
		Name:        "erasure_run_files",
		Description: "Stored files an erasure run still has to delete, written together with the removal of the rows that pointed at them.",
		Subjects:    []Subject{Member, Guest},
		Unkeyed:     "A row names only a run and a storage key; it is deleted as soon as its file is, within the run, and a run is not finished while any is left.",
		Parents:     []ForeignKey{{"run_id", "erasure_runs", "id"}},
		Columns: []Column{
			plain("run_id", "The run the file belongs to."),
			{Name: "key", Personal: true, BlobKey: true, Note: "Storage key of a file of the person being erased, which is deleted with the row.",
				Categories: []string{"content.file"}, Uses: proofUses(), Source: Derived,
				Retention: "erasure-proof-5y", Erasure: deleted(), Recipients: hosting()},
			plain("created_at", "When the row pointing at the file was removed."),
		},
	}
}

func erasureRunMail() Table {
	return Table{
		Name: "erasure_run_mail",
		Description: "Messages to a person about their own request (that it was received, and the steps taken on it) that were still waiting for delivery when their erasure removed the rest of their mail. " +
			"The erasure keeps them in the outbox, so that the person learns of their request even when the mail server is slow or down, and deletes each once it is delivered or given up, at the latest 7 days after it was kept. A row names only a run and an outbox message, and goes with the message.",
		Parents: []ForeignKey{{"run_id", "erasure_runs", "id"}},
		Columns: []Column{
			plain("run_id", "The erasure that kept the message."),
			plain("mail_id", "Id of the outbox message kept until it is delivered."),
			plain("created_at", "When the erasure kept the message; it is deleted 7 days later at the latest."),
		},
	}
}

func exportJobs() Table {
	uses := []Use{{"legal-compliance", LegalObligation}}
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "export-7d", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "export_jobs",
		Description: "Copies of their data that members asked for, whole (access) or only what they gave us (portability): how far the building has come and, once ready, the file to download until the link expires.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"person_id", KeyPersonID}},
		Parents:     []ForeignKey{{"person_id", "accounts", "id"}},
		Columns: []Column{
			plain("id", "Random id of the export."),
			col("person_id", "Id of the member who asked.", Derived, "pseudonym.id"),
			col("kind", "Whether the whole data or only the data the member gave was asked for.", Provided, "activity.audit-trail"),
			plain("state", "Whether the export waits, is being built, is ready, failed or expired."),
			plain("rows_done", "How many rows were written so far."),
			plain("rows_total", "How many rows there are to write."),
			{Name: "blob_key", Personal: true, BlobKey: true, Note: "Storage key of the ZIP file, which holds the member's data and is deleted with the row.",
				Categories: []string{"content.file"}, Uses: uses, Source: Derived,
				Retention: "export-7d", Erasure: deleted(), Recipients: hosting()},
			plain("size_bytes", "Size of the file."),
			col("created_at", "When the member asked.", Observed, "activity.audit-trail"),
			plain("updated_at", "When the export last moved on."),
			col("finished_at", "When the file was ready; the download link works for seven days from then.", Observed, "activity.audit-trail"),
			plain("expires_at", "When the download link stops working."),
		},
	}
}
