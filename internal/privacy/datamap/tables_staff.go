package datamap

// staffTables are the tables of the staff console: who holds which staff
// role, the log of every look staff took at a person's data, and the
// digests of the setup links that create the first administrator.
func staffTables() []Table {
	return []Table{staffRoles(), staffAccessLog(), staffSetupTokens()}
}

func staffRoles() Table {
	uses := []Use{{"security", LegitimateInterest}, {"account", Contract}}
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "staff-role", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "staff_roles",
		Description: "The staff roles (support, privacy officer, administrator) each staff account holds, which decide what it may see and do on the staff console.",
		Subjects:    []Subject{Staff},
		PersonKeys:  []PersonKey{{"account_id", KeyPersonID}},
		Parents:     []ForeignKey{{"account_id", "accounts", "id"}},
		Columns: []Column{
			col("account_id", "Id of the staff member's account.", Derived, "pseudonym.id"),
			col("role", "The role held, granted by an administrator.", Derived, "professional.company"),
			col("granted_at", "When the role was granted.", Observed, "activity.audit-trail"),
		},
	}
}

func staffAccessLog() Table {
	uses := []Use{{"security", LegalObligation}, {"legal-compliance", LegalObligation}}
	kept := &Erasure{
		Action: KeepLegalObligation,
		Reason: "The access log is the proof that every look by staff at someone's data was made for a stated reason, which accountability for the security of processing requires us to be able to show; the person it is about reads it in their account. It is deleted with the audit log's evidence.",
		Until:  "audit-5y",
	}
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "audit-5y", Erasure: kept, Recipients: hosting()}
	}
	return Table{
		Name:        "staff_access_log",
		Description: "Every time a staff member looked at a person's data: who (staff id and role), when, what and the reason they gave. The person sees it as \"who looked at my data\".",
		Subjects:    []Subject{Member, Guest, Staff},
		PersonKeys:  []PersonKey{{"person_id", KeyPersonID}, {"staff_id", KeyPersonID}},
		Columns: []Column{
			plain("id", "Random id of the entry."),
			col("at", "When the data was opened.", Observed, "activity.audit-trail"),
			col("staff_id", "Id of the staff member who looked.", Observed, "pseudonym.id"),
			col("staff_role", "The staff role that allowed the look.", Observed, "activity.audit-trail"),
			col("person_id", "Id of the person whose data was opened.", Observed, "pseudonym.id"),
			col("viewed", "What was opened, such as contact details or an e-mail.", Observed, "activity.audit-trail"),
			col("reason", "The reason the staff member typed, which may mention the person's request; staff wrote it, not the person.", Derived, "activity.audit-trail"),
		},
	}
}

func staffSetupTokens() Table {
	return Table{
		Name:        "staff_setup_tokens",
		Description: "Digests of the one-time links that create the first administrator, issued at start while no administrator exists: one open link per database.",
		Columns: []Column{
			plain("digest", "SHA-256 digest of a signed token; it names nobody."),
			plain("created_at", "When the link was issued."),
			plain("expires_at", "When the link stops working."),
			plain("used_at", "When the link was used, which spends it."),
		},
	}
}
