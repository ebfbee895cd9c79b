package datamap

// requestTables are the supplementary statements people ask us to keep
// with their data. The requests themselves live in account_requests
// (tables_profiles.go), whose columns for the rights workflow are
// declared here by requestColumns.
func requestTables() []Table {
	return []Table{supplementaryStatements()}
}

// requestKeys are the person keys the rights workflow adds to
// account_requests: the address of a person without an account.
func requestKeys() []PersonKey {
	return []PersonKey{{"email", KeyEmail}}
}

// requestColumns are the columns 0014_requests.sql adds to
// account_requests. What the person wrote goes with them on erasure;
// staff's reasons stay as the proof of how the request was answered, and
// name the person only through the request, which by then names nobody.
func requestColumns() []Column {
	uses := []Use{{"legal-compliance", LegalObligation}, {"legal-claims", LegitimateInterest}}
	theirs := func(name, note string, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: Provided, Retention: "requests-5y", Erasure: cleared(), Recipients: hosting()}
	}
	kept := &Erasure{
		Action: KeepLegalObligation,
		Reason: "Staff's reasons for extending or refusing a request, or their note of what was done, are the proof the law asks us to be able to give that the request was answered and how.",
		Until:  "requests-5y",
	}
	reasons := func(name, note string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: []string{"activity.audit-trail"}, Uses: uses,
			Source: Derived, Retention: "requests-5y", Erasure: kept, Recipients: hosting()}
	}
	return []Column{
		plain("rights", "Which rights the request carries; says nothing about a person once the request names nobody."),
		plain("channel", "How the request reached us: the privacy centre, the public form, e-mail or post."),
		theirs("email", "Address of the person who asked, where they are written to; for a member it repeats their account address only when they used the public form.", "contact.email"),
		theirs("details", "What the person wrote about the request, such as the correction they ask for.", "content.message"),
		plain("field", "Which kind of data a rectification is about, as table and column names."),
		theirs("statement", "The statement the person asked us to keep with their data.", "content.message"),
		reasons("extension_reason", "Why the deadline was extended, as the person was told."),
		reasons("decision", "Staff's reasons for a refusal, or their note of what was done."),
		plain("updated_at", "When the request last moved on."),
		plain("code_digest", "Keyed digest of the e-mailed code of a request from the public form, cleared once verified; it cannot be turned back into the code."),
		plain("code_expires_at", "When that code stops working."),
		plain("lift_mail", "Id of the outbox message announcing that a restriction will be lifted."),
	}
}

func supplementaryStatements() Table {
	uses := []Use{{"customer-records", Contract}, {"legal-compliance", LegalObligation}}
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "with-account", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "supplementary_statements",
		Description: "Statements members asked us to keep with some of their data to complete it, named by the table and column they complete; they are shown and exported with that data and deleted with the account.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"person_id", KeyPersonID}},
		Parents:     []ForeignKey{{"person_id", "accounts", "id"}},
		Columns: []Column{
			plain("id", "Random id of the statement."),
			col("person_id", "Id of the member whose data the statement completes.", Derived, "pseudonym.id"),
			plain("table_name", "Table of the data the statement completes."),
			plain("column_name", "Column of the data the statement completes."),
			col("statement", "What the member asked us to keep with the data.", Provided, "content.message"),
			plain("request_id", "The request the statement came with."),
			col("created_at", "When the statement was added.", Observed, "activity.audit-trail"),
		},
	}
}
