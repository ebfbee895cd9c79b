package datamap

// consentTables are the consent ledger and the flag that restricts the
// processing of a person's data.
func consentTables() []Table {
	return []Table{consentRecords(), personRestrictions()}
}

func consentRecords() Table {
	uses := []Use{{"legal-compliance", LegalObligation}}
	kept := &Erasure{
		Action: KeepLegalObligation,
		Reason: "Each record is the evidence that a consent was given, refused or withdrawn, and when; the law asks us to be able to show it, so erasure keeps the records until their retention period ends. Nothing is processed on the strength of a record the person has since withdrawn.",
		Until:  "consent-5y",
	}
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "consent-5y", Erasure: kept, Recipients: hosting()}
	}
	return Table{
		Name:        "consent_records",
		Description: "The consent ledger: every choice a member or a visitor made about a purpose that rests on consent (given, refused, withdrawn or expired), with the notice they were shown, how the choice was made and when, a shortened IP address and the browser and system family. Records are only ever added, never changed; members download them as receipts.",
		Subjects:    []Subject{Member, Visitor},
		PersonKeys:  []PersonKey{{"subject_id", KeyPersonID}},
		Columns: []Column{
			plain("seq", "Position of the record in the ledger, which orders records made in the same instant."),
			plain("id", "Random id of the record, printed on its receipt."),
			col("subject_kind", "Whether the choice is a member's or a visitor's.", Derived, "preference.privacy"),
			col("subject_id", "Id of the member's account, or the random id of a visitor's consent cookie.", Derived, "pseudonym.id"),
			plain("notice_id", "Which notice the person was shown; the same for everyone who saw it."),
			plain("notice_version", "Version of that notice; the same for everyone who saw it."),
			plain("notice_hash", "SHA-256 of that notice's text; the same for everyone who saw it."),
			col("purposes", "The purposes the choice is about.", Provided, "preference.privacy"),
			col("legal_basis", "The lawful basis the choice concerns: consent.", Derived, "preference.privacy"),
			col("method", "How the choice was made: cookie banner, a settings page, the Global Privacy Control signal, the API or a parent or guardian.", Observed, "preference.privacy"),
			col("at", "When the choice was made.", Observed, "preference.privacy"),
			col("state", "Given, refused, withdrawn or expired.", Provided, "preference.privacy"),
			col("ip", "The IP address the choice came from, shortened to its network (the first three parts of an IPv4 address, the first three groups of an IPv6 one).", Observed, "online.ip-address"),
			col("user_agent", "Browser and system family, such as \"Firefox on Linux\", as the list of sign-in sessions keeps it; never the full browser string.", Observed, "online.user-agent"),
			col("gpc", "Whether the browser sent the Global Privacy Control signal with the choice.", Observed, "preference.privacy"),
			col("linked_from", "For a visitor's choice carried over to the account they signed in to, the id of the visitor's record, which links the two.", Derived, "pseudonym.id"),
		},
	}
}

func personRestrictions() Table {
	uses := []Use{{"legal-compliance", LegalObligation}}
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "restriction", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "person_restrictions",
		Description: "People who asked us to restrict the use of their data: while the restriction lasts, their data is stored but not used for marketing, analytics, tracking, recordings, the AI assistant or any other purpose beyond running what they asked for and meeting the law.",
		Subjects:    []Subject{Member, Guest},
		PersonKeys:  []PersonKey{{"person_id", KeyPersonID}},
		Columns: []Column{
			col("person_id", "Id of the person whose data is restricted.", Derived, "pseudonym.id"),
			col("restricted_at", "When the restriction began.", Observed, "preference.privacy"),
		},
	}
}
