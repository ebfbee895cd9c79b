package datamap

// organisationTables are the tables of organisations (workspaces): the
// organisations themselves, their memberships, the invitations sent by
// e-mail and the acceptances of the Data Processing Addendum.
func organisationTables() []Table {
	return []Table{organisations(), memberships(), organisationInvitations(), dpaAcceptances()}
}

func organisations() Table {
	const business = "Describes a customer organisation, which is a business, not a person."
	return Table{
		Name:        "organisations",
		Description: "Customer workspaces with their name and brand (colour and logo). When the account of an organisation's last owner is erased, the organisation passes to its longest-standing admin, else its longest-standing member; with neither, it is deleted after a grace period.",
		Parents:     []ForeignKey{{"logo_key", "blobs", "key"}},
		Retention:   "org-ownerless-30d",
		Columns: []Column{
			plain("id", "Random id of the organisation."),
			plain("name", business),
			plain("colour", business),
			{Name: "logo_key", Note: "Storage key of the organisation's logo, a picture of its brand, stored without the metadata of the uploaded file.", BlobKey: true},
			plain("created_at", "When the organisation was created."),
			plain("updated_at", "When its name or brand last changed."),
			plain("ownerless_since", "When the organisation lost its last owner with no admin or member to take it over; empty while it has an owner. Its deletion runs from here."),
		},
	}
}

func memberships() Table {
	uses := []Use{{"service", Contract}, {"account", Contract}}
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "membership", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "memberships",
		Description: "Which members belong to which organisation, and in which role (owner, admin, member or guest).",
		Subjects:    []Subject{Member, OrgContact},
		PersonKeys:  []PersonKey{{"account_id", KeyPersonID}},
		Parents:     []ForeignKey{{"organisation_id", "organisations", "id"}, {"account_id", "accounts", "id"}},
		// The name describes the organisation, yet which organisations a
		// person created or joined, under which name, is their activity.
		Shows: []Shown{{Via: "organisation_id", Column: "name", As: "organisation_name",
			Note: "Name of the organisation, as its owners named it."}},
		Columns: []Column{
			col("organisation_id", "Id of the organisation the person belongs to.", Derived, "pseudonym.id"),
			col("account_id", "Id of the member's account.", Derived, "pseudonym.id"),
			col("role", "The person's role in the organisation: owner for whoever created it, otherwise the role an owner or admin gave them.", Derived, "professional.company"),
			col("joined_at", "When the person joined.", Observed, "activity.audit-trail"),
			col("updated_at", "When the person's role last changed.", Observed, "activity.audit-trail"),
		},
	}
}

func organisationInvitations() Table {
	uses := []Use{{"service", Contract}}
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "invitation-30d", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "organisation_invitations",
		Description: "Invitations to join an organisation, sent by e-mail to an address an owner or admin typed. Whoever accepts signs in with any account, and the invitation binds to that account.",
		Subjects:    []Subject{OrgContact, Member},
		PersonKeys: []PersonKey{
			{"email", KeyEmail}, {"invited_by", KeyPersonID}, {"accepted_by", KeyPersonID},
		},
		Parents: []ForeignKey{
			{"organisation_id", "organisations", "id"}, {"invited_by", "accounts", "id"}, {"accepted_by", "accounts", "id"},
		},
		Columns: []Column{
			plain("id", "Random id of the invitation."),
			col("organisation_id", "Id of the organisation the person is invited to.", Derived, "pseudonym.id"),
			col("email", "Address of the person invited, who may have no account yet.", Provided, "contact.email"),
			col("role", "The role offered, chosen by whoever sent the invitation.", Derived, "professional.company"),
			col("invited_by", "Id of the owner or admin who sent the invitation.", Observed, "pseudonym.id"),
			plain("token_digest", "One-way digest of the link's token, which makes the link single-use; it cannot be turned back into the link."),
			col("created_at", "When the invitation was sent.", Observed, "activity.audit-trail"),
			col("expires_at", "When the link stops working.", Derived, "activity.audit-trail"),
			col("accepted_at", "When the invitation was accepted.", Observed, "activity.audit-trail"),
			col("accepted_by", "Id of the account that accepted the invitation.", Observed, "pseudonym.id"),
			col("closes_at", "When the invitation stopped being usable, by expiry or acceptance; retention runs from it.", Derived, "activity.audit-trail"),
		},
	}
}

func dpaAcceptances() Table {
	uses := []Use{{"legal-compliance", LegalObligation}, {"legal-claims", LegitimateInterest}}
	return Table{
		Name:        "dpa_acceptances",
		Description: "Every acceptance of the Data Processing Addendum by an owner on the organisation's behalf: which version, when and by whom. Rows are only ever added.",
		Subjects:    []Subject{OrgContact},
		PersonKeys:  []PersonKey{{"accepted_by", KeyPersonID}},
		Parents:     []ForeignKey{{"organisation_id", "organisations", "id"}, {"accepted_by", "accounts", "id"}},
		Columns: []Column{
			plain("id", "Random id of the acceptance."),
			plain("organisation_id", "Id of the organisation that accepted; the acceptance is the organisation's."),
			plain("version", "Version of the addendum accepted."),
			{Name: "accepted_by", Personal: true, Note: "Id of the owner who accepted; cleared at their erasure while the acceptance stays the organisation's.",
				Categories: []string{"pseudonym.id"}, Uses: uses, Source: Observed,
				Retention: "with-organisation", Erasure: cleared(), Recipients: hosting()},
			plain("accepted_at", "When the organisation accepted, the time its processing terms took effect."),
		},
	}
}
