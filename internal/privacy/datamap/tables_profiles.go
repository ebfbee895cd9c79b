package datamap

// Guardian is a parent or guardian who confirms a child's account. They
// have no account of their own; we hold only their address and their
// confirmation.
const Guardian Subject = "guardian"

// profileTables are the member's profile, the confirmations of parents
// and guardians for child accounts, and the requests members make about
// their account.
func profileTables() []Table {
	return []Table{profiles(), guardianConsents(), accountRequests()}
}

func profiles() Table {
	own := []Use{{"account", Contract}}
	contact := []Use{{"account", Contract}, {"customer-records", Contract}}
	col := func(name, note string, uses []Use, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: Provided, Retention: "with-account", Erasure: deleted(), Recipients: hosting()}
	}
	child := []Use{{"legal-compliance", LegalObligation}}
	return Table{
		Name:        "profiles",
		Description: "What a member chose to add to their account beyond sign-up: contact and company details, date of birth, gender, where they live, interests, professional profiles, a user name and a picture; and, for a child account, the parent's or guardian's address and when they confirmed. Every field is optional.",
		Subjects:    []Subject{Member, Guardian},
		PersonKeys:  []PersonKey{{"account_id", KeyPersonID}, {"guardian_email", KeyEmail}},
		Parents:     []ForeignKey{{"account_id", "accounts", "id"}, {"avatar_key", "blobs", "key"}},
		Columns: []Column{
			{Name: "account_id", Personal: true, Note: "Id of the member's account.", Categories: []string{"pseudonym.id"},
				Uses: own, Source: Derived, Retention: "with-account", Erasure: deleted(), Recipients: hosting()},
			col("username", "User name the member chose, unique and lower-case.", own, "identity.username"),
			col("phone", "Telephone number in international form.", contact, "contact.telephone"),
			col("company", "Company the member works for.", contact, "professional.company"),
			col("address_street", "Street and number of the postal address.", contact, "contact.postal-address"),
			col("address_city", "Town of the postal address.", contact, "contact.postal-address"),
			col("address_postcode", "Postcode of the postal address.", contact, "contact.postal-address"),
			col("address_region", "Region or state of the postal address.", contact, "contact.postal-address"),
			col("address_country", "Country of the postal address.", contact, "contact.postal-address"),
			col("birth_date", "Date of birth; it decides whether the account is a child's.",
				[]Use{{"account", Contract}, {"identity-fraud", LegitimateInterest}, {"legal-compliance", LegalObligation}}, "identity.birth-date"),
			col("gender", "Gender, in the member's own words.", own, "identity.gender"),
			col("country", "Country of residence; it decides the controllers and the age of digital consent.",
				[]Use{{"account", Contract}, {"legal-compliance", LegalObligation}}, "location.approximate"),
			col("city", "City the member lives in.", own, "location.approximate"),
			col("interests", "Personal or professional interests the member listed.", own, "preference.interests"),
			col("linkedin_url", "Link to the member's LinkedIn profile.", own, "professional.online-presence"),
			col("facebook_url", "Link to the member's Facebook profile.", own, "professional.online-presence"),
			{Name: "avatar_key", Personal: true, Note: "Storage key of the member's profile picture, which is deleted with it.",
				Categories: []string{"content.file"}, Uses: []Use{{"account", Contract}, {"service", Contract}},
				Source: Provided, Retention: "with-account", Erasure: deleted(), Recipients: hosting()},
			col("guardian_email", "Address of the parent or guardian asked to confirm a child account.", child, "contact.email"),
			{Name: "guardian_confirmed_at", Personal: true, Note: "When a parent or guardian confirmed the child account.",
				Categories: []string{"preference.privacy"}, Uses: child, Source: Observed, Retention: "with-account",
				Erasure: deleted(), Recipients: hosting()},
			{Name: "time_zone", Personal: true, Note: "Time zone meeting times are shown in, as the member's browser reported it or the member chose it; it says roughly where they are.",
				Categories: []string{"location.approximate"}, Uses: own, Source: Observed, Retention: "with-account",
				Erasure: deleted(), Recipients: hosting()},
			plain("created_at", "When the profile was first saved."),
			plain("updated_at", "When the profile last changed."),
		},
	}
}

func guardianConsents() Table {
	uses := []Use{{"legal-compliance", LegalObligation}}
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "with-account", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "guardian_consents",
		Description: "Links sent to a parent or guardian to confirm a child's account and, once confirmed, the evidence of their consent: who, when, for which account and which text they were shown.",
		Subjects:    []Subject{Member, Guardian},
		PersonKeys:  []PersonKey{{"account_id", KeyPersonID}, {"guardian_email", KeyEmail}},
		Parents:     []ForeignKey{{"account_id", "accounts", "id"}},
		Columns: []Column{
			plain("id", "Random id of the link."),
			col("account_id", "Id of the child's account.", Derived, "pseudonym.id"),
			col("guardian_email", "Address the link was sent to: whoever confirmed through it.", Provided, "contact.email"),
			plain("token_digest", "One-way digest of the link's token, which makes the link single-use; it cannot be turned back into the link."),
			col("status", "Whether the link is pending, was confirmed or was replaced by a newer one.", Observed, "preference.privacy"),
			col("requested_at", "When the link was sent.", Observed, "activity.audit-trail"),
			col("expires_at", "When the link stops working.", Derived, "activity.audit-trail"),
			col("confirmed_at", "When the parent or guardian confirmed.", Observed, "preference.privacy"),
			plain("notice_version", "Version of the text shown to the guardian; the same for everyone who saw it."),
			plain("notice_sha256", "SHA-256 of the text shown to the guardian; the same for everyone who saw it."),
		},
	}
}

func accountRequests() Table {
	return Table{
		Name:        "account_requests",
		Description: "Requests people make about their own data, such as deleting their account or getting a copy, with the rights asked for, how the request was answered and the date by which each must be answered.",
		Subjects:    []Subject{Member, Guest},
		PersonKeys:  append([]PersonKey{{"account_id", KeyPersonID}}, requestKeys()...),
		Parents:     []ForeignKey{{"account_id", "accounts", "id"}},
		Columns: append([]Column{
			plain("id", "Random id of the request."),
			{Name: "account_id", Personal: true, Note: "Id of the member who made the request; cleared when the account is deleted, so the record names nobody.",
				Categories: []string{"pseudonym.id"}, Uses: []Use{{"legal-compliance", LegalObligation}, {"legal-claims", LegitimateInterest}},
				Source: Derived, Retention: "requests-5y", Erasure: cleared(), Recipients: hosting()},
			plain("kind", "What was asked for; says nothing about a person once the account id is cleared."),
			plain("state", "Where the request stands."),
			plain("received_at", "When the request arrived; retention runs from it."),
			plain("due_at", "When the answer is due."),
		}, requestColumns()...),
	}
}
