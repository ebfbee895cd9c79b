package datamap

// marketingTables are members' marketing choices per channel, their
// objections, the suppression list and the campaigns staff send.
func marketingTables() []Table {
	return []Table{marketingPreferences(), objections(), marketingSuppressions(), marketingCampaigns(), marketingDeliveries()}
}

// choiceUses are the purposes of a person's record of what they chose
// about marketing: honouring it, and being able to show that we did.
func choiceUses() []Use {
	return []Use{{"marketing", LegitimateInterest}, {"legal-compliance", LegalObligation}}
}

func marketingPreferences() Table {
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: choiceUses(),
			Source: source, Retention: "with-account", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "marketing_preferences",
		Description: "A member's own choice, per channel (e-mail, text message, phone, social media), to receive marketing or not. Without a row the default applies: on for members who are customers, off for child accounts.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"account_id", KeyPersonID}},
		Parents:     []ForeignKey{{"account_id", "accounts", "id"}},
		Columns: []Column{
			col("account_id", "Id of the member's account.", Derived, "pseudonym.id"),
			col("channel", "The channel the choice is about.", Provided, "preference.privacy"),
			col("enabled", "Whether the member wants marketing on that channel.", Provided, "preference.privacy"),
			col("updated_at", "When the member last chose.", Observed, "preference.privacy"),
		},
	}
}

func objections() Table {
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: choiceUses(),
			Source: source, Retention: "with-account", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "objections",
		Description: "Objections a member made: to direct marketing and to profiling, which take effect at once and for good, and to processing that rests on our legitimate interest, which staff weigh, recording their grounds if they do not stop.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"person_id", KeyPersonID}},
		Parents:     []ForeignKey{{"person_id", "accounts", "id"}},
		Columns: []Column{
			plain("id", "Random id of the objection."),
			col("person_id", "Id of the member who objected.", Derived, "pseudonym.id"),
			col("kind", "What the member objected to.", Provided, "preference.privacy"),
			col("method", "How the objection reached us: the preferences page, the API, or a link in a message.", Observed, "activity.audit-trail"),
			col("campaign_id", "The campaign whose unsubscribe link was used, if one was.", Observed, "activity.audit-trail"),
			col("purpose", "The purpose objected to, for an objection to legitimate-interest processing.", Provided, "preference.privacy"),
			col("statement", "The member's reasons, in their own words, if they gave any.", Provided, "content.message"),
			col("status", "Whether the objection is in force, waiting for staff, or was overridden by compelling grounds.", Derived, "preference.privacy"),
			col("created_at", "When the member objected.", Observed, "activity.audit-trail"),
			col("decided_at", "When staff decided an objection to legitimate-interest processing.", Observed, "activity.audit-trail"),
			col("grounds", "The grounds staff recorded for their decision.", Derived, "activity.audit-trail"),
		},
	}
}

func marketingSuppressions() Table {
	uses := []Use{{"legal-compliance", LegalObligation}}
	kept := &Erasure{
		Action: KeepLegalObligation,
		Reason: "An objection to direct marketing must be honoured for good, even after the account that made it is erased; without this entry a later import or a new account with the same address could be sent marketing again. Only a keyed digest of the address is kept, which cannot be turned back into the address without the server's secret.",
		Until:  "suppression",
	}
	return Table{
		Name:        "marketing_suppressions",
		Description: "Addresses that must never receive marketing again, held only as keyed digests, which every sender checks before writing.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"account_id", KeyPersonID}},
		Parents:     []ForeignKey{{"account_id", "accounts", "id"}},
		Columns: []Column{
			{Name: "address_digest", Personal: true, Note: "HMAC-SHA-256, under the server's secret, of the normalised address.",
				Categories: []string{"pseudonym.id"}, Uses: uses, Source: Derived, Retention: "suppression", Erasure: kept, Recipients: hosting()},
			{Name: "account_id", Personal: true, Note: "Id of the member who objected, so that their export shows the entry; cleared when the account is erased.",
				Categories: []string{"pseudonym.id"}, Uses: uses, Source: Derived, Retention: "suppression", Erasure: cleared(), Recipients: hosting()},
			{Name: "reason", Personal: true, Note: "Whether the address was suppressed by an objection or by an unsubscribe link.",
				Categories: []string{"preference.privacy"}, Uses: uses, Source: Observed, Retention: "suppression", Erasure: kept, Recipients: hosting()},
			{Name: "created_at", Personal: true, Note: "When the address was suppressed.",
				Categories: []string{"preference.privacy"}, Uses: uses, Source: Observed, Retention: "suppression", Erasure: kept, Recipients: hosting()},
		},
	}
}

func marketingCampaigns() Table {
	return Table{
		Name:        "marketing_campaigns",
		Description: "Marketing campaigns composed by staff and how far sending them has got. They are written for every recipient alike and name nobody; who composed and sent each is in the audit log.",
		Columns: []Column{
			plain("id", "Random id of the campaign."),
			plain("subject", "Subject line, the same for every recipient."),
			plain("body_text", "Plain-text body, the same for every recipient."),
			plain("body_html", "HTML body, the same for every recipient."),
			plain("status", "Whether the campaign is a draft, being sent, or sent."),
			plain("created_at", "When the campaign was composed; retention of its deliveries runs from theirs."),
			plain("started_at", "When sending began."),
			plain("finished_at", "When sending ended."),
			plain("resume_after", "An account id the sending job finished with, so that a restarted job resumes after it; it says only where in the id order the job got."),
			plain("queued", "How many messages were queued, a count."),
			plain("skipped", "How many members were skipped, a count."),
		},
	}
}

func marketingDeliveries() Table {
	uses := []Use{{"marketing", LegitimateInterest}}
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "campaign-2y", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "marketing_deliveries",
		Description: "Which member each campaign was queued for, which makes a campaign reach each member at most once.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"account_id", KeyPersonID}},
		Parents:     []ForeignKey{{"campaign_id", "marketing_campaigns", "id"}, {"account_id", "accounts", "id"}},
		Columns: []Column{
			plain("campaign_id", "Id of the campaign, which names nobody."),
			col("account_id", "Id of the member the message was for.", Derived, "pseudonym.id"),
			col("mail_id", "Id of the message in the outbox.", Derived, "pseudonym.id"),
			col("created_at", "When the message was queued.", Observed, "activity.audit-trail"),
		},
	}
}
