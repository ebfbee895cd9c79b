package datamap

// accountTables are the accounts and everything that proves who a member
// is: sessions, personal API tokens, e-mailed links, the second factor's
// recovery codes, pending two-step sign-ins and the counters of failed
// sign-ins.
func accountTables() []Table {
	return []Table{accounts(), accountSessions(), apiTokens(), emailTokens(), recoveryCodes(), signinChallenges(), authThrottle(), requestCounts()}
}

// signInUses are the purposes of what proves who a member is: letting
// them in is part of the contract, keeping others out is security.
func signInUses() []Use {
	return []Use{{"account", Contract}, {"security", LegitimateInterest}}
}

// idColumn declares a column that holds the id of the member's account.
func idColumn(name, note, retention string) Column {
	return Column{Name: name, Personal: true, Note: note, Categories: []string{"pseudonym.id"},
		Uses: signInUses(), Source: Derived, Retention: retention, Erasure: deleted(), Recipients: hosting()}
}

func accounts() Table {
	col := func(name, note string, uses []Use, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: uses,
			Source: source, Retention: "account-inactive-5y", Erasure: deleted(), Recipients: hosting()}
	}
	own := []Use{{"account", Contract}}
	return Table{
		Name:        "accounts",
		Description: "One row per member: the name and e-mail address given at sign-up, the password hash, the second factor, the account's state and when it was last used.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"id", KeyPersonID}, {"email", KeyEmail}},
		Columns: []Column{
			idColumn("id", "Random id of the account.", "account-inactive-5y"),
			col("email", "E-mail address the member signs in with and receives account messages at, stored lower-case.",
				[]Use{{"account", Contract}, {"service-communications", LegitimateInterest}, {"security", LegitimateInterest}},
				Provided, "contact.email"),
			col("email_verified_at", "When the member proved they receive mail at the address.", signInUses(), Observed, "account.credentials"),
			col("password_hash", "Argon2id hash of the password, with its salt and cost settings; the password itself is never stored.",
				signInUses(), Derived, "account.credentials"),
			col("password_changed_at", "When the password was last set.", signInUses(), Observed, "account.credentials"),
			col("name", "Name the member gave at sign-up, shown to the people they meet.",
				[]Use{{"account", Contract}, {"service", Contract}}, Provided, "identity.name"),
			col("status", "Whether the account is active, deactivated by the member, or waiting to be erased.", own, Observed, "preference.settings"),
			col("created_at", "When the account was opened.", own, Observed, "activity.audit-trail"),
			col("updated_at", "When the account's details last changed.", own, Observed, "activity.audit-trail"),
			col("last_active_at", "When the member last used the account, to the hour; inactive accounts are removed after five years.",
				[]Use{{"account", Contract}, {"security", LegitimateInterest}}, Observed, "account.sign-in-history"),
			{Name: "deactivated_at", Personal: true, Note: "When the member deactivated the account, if they did; the grace period for coming back runs from it.",
				Categories: []string{"preference.settings"}, Uses: own, Source: Observed,
				Retention: "account-deactivated", Erasure: deleted(), Recipients: hosting()},
			col("totp_secret", "Secret of the authenticator app for two-step sign-in, encrypted with a key derived from the server's secret.",
				signInUses(), Derived, "account.credentials"),
			col("totp_enabled_at", "When two-step sign-in was turned on.", signInUses(), Observed, "account.credentials"),
			col("totp_last_step", "Time step of the last accepted sign-in code, so that no code works twice.", signInUses(), Observed, "account.sign-in-history"),
		},
	}
}

func accountSessions() Table {
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: signInUses(),
			Source: source, Retention: "auth-expired-1d", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "account_sessions",
		Description: "Browsers a member is signed in on. Only a digest of each cookie's token is kept. Signing out deletes the row; the member sees the list and can sign any of them out.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"account_id", KeyPersonID}},
		Parents:     []ForeignKey{{"account_id", "accounts", "id"}},
		Columns: []Column{
			plain("id", "Random id of the session."),
			idColumn("account_id", "Id of the member signed in.", "auth-expired-1d"),
			col("token_hash", "SHA-256 digest of the cookie's token; the token itself is never stored.", Derived, "account.credentials"),
			col("client", "Browser and system family, such as \"Firefox on Linux\", so the member can recognise the device; never the full browser string.",
				Observed, "online.user-agent"),
			col("created_at", "When the member signed in.", Observed, "account.sign-in-history"),
			{Name: "last_seen_at", Personal: true, Note: "When the session was last used, to within minutes; an idle session goes on its own rule.",
				Categories: []string{"account.sign-in-history"}, Uses: signInUses(), Source: Observed,
				Retention: "session-idle-15d", Erasure: deleted(), Recipients: hosting()},
			plain("expires_at", "When the session ends at the latest, fixed by the server's rules at sign-in."),
		},
	}
}

func apiTokens() Table {
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: signInUses(),
			Source: source, Retention: "api-token", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "api_tokens",
		Description: "Personal API tokens a member made for their own scripts and tools. The token is shown once; only its digest is kept.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"account_id", KeyPersonID}},
		Parents:     []ForeignKey{{"account_id", "accounts", "id"}},
		Columns: []Column{
			plain("id", "Random id of the token."),
			idColumn("account_id", "Id of the member the token acts for.", "api-token"),
			col("name", "Name the member gave the token.", Provided, "preference.settings"),
			col("token_hash", "SHA-256 digest of the token; the token itself is never stored.", Derived, "account.credentials"),
			plain("scopes", "The parts of the API the member let the token use, such as meetings or privacy."),
			col("created_at", "When the token was made.", Observed, "account.sign-in-history"),
			plain("expires_at", "When the token stops working: at most 90 days after it was made, sooner if the member chose so."),
			col("last_used_at", "When the token was last used, to within minutes.", Observed, "account.sign-in-history"),
		},
	}
}

func emailTokens() Table {
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: signInUses(),
			Source: source, Retention: "auth-expired-1d", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "email_tokens",
		Description: "Links we e-mailed to confirm an address or reset a password, kept by digest so that each works once and a newer link voids older ones.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"account_id", KeyPersonID}, {"new_email", KeyEmail}},
		Parents:     []ForeignKey{{"account_id", "accounts", "id"}},
		Columns: []Column{
			plain("digest", "One-way digest of the link's token, which makes the link single-use; it cannot be turned back into the link."),
			plain("purpose", "What the link is for: confirming an address, resetting a password or changing the address."),
			idColumn("account_id", "Id of the account the link is for.", "auth-expired-1d"),
			col("new_email", "The new address a change-of-address link confirms.", Provided, "contact.email"),
			col("created_at", "When the link was sent.", Observed, "activity.audit-trail"),
			plain("expires_at", "When the link stops working, fixed by the server's rules."),
			col("used_at", "When the link was used, or voided by a newer one.", Observed, "activity.audit-trail"),
		},
	}
}

func recoveryCodes() Table {
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: signInUses(),
			Source: source, Retention: "second-factor", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "recovery_codes",
		Description: "One-time codes that let a member with two-step sign-in in without their app. They are shown once; only digests are kept.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"account_id", KeyPersonID}},
		Parents:     []ForeignKey{{"account_id", "accounts", "id"}},
		Columns: []Column{
			idColumn("account_id", "Id of the member the code belongs to.", "second-factor"),
			col("code_hash", "SHA-256 digest of the code; the code itself is never stored.", Derived, "account.credentials"),
			col("created_at", "When the code was made.", Observed, "account.credentials"),
			col("used_at", "When the code was used, if it was.", Observed, "account.sign-in-history"),
		},
	}
}

func signinChallenges() Table {
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: signInUses(),
			Source: source, Retention: "auth-expired-1d", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "signin_challenges",
		Description: "Sign-ins whose password was right and whose second factor is still to come. Each lapses after five minutes and opens nothing but the code form.",
		Subjects:    []Subject{Member},
		PersonKeys:  []PersonKey{{"account_id", KeyPersonID}},
		Parents:     []ForeignKey{{"account_id", "accounts", "id"}},
		Columns: []Column{
			col("token_hash", "SHA-256 digest of the token the browser holds for the second step.", Derived, "account.credentials"),
			idColumn("account_id", "Id of the member signing in.", "auth-expired-1d"),
			col("created_at", "When the password was accepted.", Observed, "account.sign-in-history"),
			plain("expires_at", "When the second step lapses."),
		},
	}
}

func requestCounts() Table {
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: []Use{{"security", LegitimateInterest}},
			Source: source, Retention: "throttle-1d", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "request_counts",
		Description: "Counts of requests to the routes anyone may call (cookie choices, analytics, guest links, unsubscribing, the public request form and the like) per client address and minute, behind their rate limit. The address is not stored: only a keyed digest of it.",
		Subjects:    []Subject{Visitor, Guest, Member},
		Unkeyed:     "A count is found only by a keyed digest of an IP address, never by a person's id; each is deleted within minutes of its window's end, and at the latest a day after it began.",
		Columns: []Column{
			plain("name", "Which limit the count belongs to."),
			col("key", "Keyed digest of the IP address being counted.", Derived, "pseudonym.id"),
			col("window_start", "When the window of counting began.", Observed, "online.usage"),
			col("window_end", "When the window of counting ends.", Observed, "online.usage"),
			col("hits", "How many requests came in the window.", Observed, "online.usage"),
		},
	}
}

func authThrottle() Table {
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: []Use{{"security", LegitimateInterest}},
			Source: source, Retention: "throttle-1d", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "auth_throttle",
		Description: "Counters of attempts behind the temporary lockouts: passwords and second-factor codes per address, account and IP address, meeting passcodes per participant, the codes of requests from the public form per request, and requests for e-mailed links. Neither an address nor an id is stored: only a keyed digest of it.",
		Subjects:    []Subject{Member, Visitor},
		Unkeyed:     "A counter is found only by a keyed digest of an address, an IP address or an id, never by a person's id itself; every counter is deleted a day after its window of counting began, so none outlives its use.",
		Columns: []Column{
			col("key", "Keyed digest of what is counted: an e-mail address, IP address, account, meeting participant or request.", Derived, "pseudonym.id"),
			col("failures", "How many attempts of the current window did not succeed, counted before each was checked.", Observed, "account.sign-in-history"),
			col("window_start", "When the current window of counting began.", Observed, "account.sign-in-history"),
			col("locked_until", "Until when further attempts are refused, if the limit was reached.", Observed, "account.sign-in-history"),
		},
	}
}
