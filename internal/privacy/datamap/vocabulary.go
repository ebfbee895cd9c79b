package datamap

// Default returns the catalogue as this version of the product declares it.
// Every call builds a fresh copy, so callers may keep or change theirs.
func Default() Map {
	return Map{
		Controllers:     controllers(),
		Subjects:        subjects(),
		Purposes:        purposes(),
		Categories:      categories(),
		Retention:       retentionRules(),
		OtherRecipients: otherRecipients(),
		Security:        securityMeasures(),
		Tables:          tables(),
	}
}

// contactAddress is the one address the notice gives for every privacy
// matter, for both controllers.
const contactAddress = "contact@sessions.us"

func controllers() []Controller {
	return []Controller{
		{
			Name:    "Sessions Technologies Inc",
			Role:    "Controller",
			Scope:   "Everyone whose personal data the platform processes",
			Contact: contactAddress,
		},
		{
			Name:    "Sessions Technologies Romania SRL",
			Role:    "Joint controller",
			Scope:   "People who live in the European Economic Area, the United Kingdom or Switzerland",
			Country: "RO",
			Contact: contactAddress,
		},
	}
}

func subjects() []SubjectInfo {
	return []SubjectInfo{
		{Member, "Members", "People with an account."},
		{Guest, "Guests", "People invited to a single session by e-mail or link, without an account."},
		{OrgContact, "Organisation contacts", "People who act for a customer organisation, such as its administrators and billing contacts."},
		{Staff, "Staff", "Our support, privacy and administration staff."},
		{Visitor, "Visitors", "People who browse the public pages without signing in."},
		{Guardian, "Parents and guardians", "Adults who confirm the account of a child in their care, by a link sent to their e-mail address."},
	}
}

// purposes are the fourteen reasons of section 4 of the privacy notice, in
// its order.
func purposes() []Purpose {
	return []Purpose{
		{
			ID: "account", Name: "Account management",
			Description: "Opening an account, signing its holder in and keeping its settings.",
			Bases:       []Basis{Contract},
		},
		{
			ID: "service", Name: "Providing the service",
			Description: "Running the meetings, calls, recordings, resources and other features people ask for.",
			Bases:       []Basis{Contract},
		},
		{
			ID: "identity-fraud", Name: "Identity checks and fraud prevention",
			Description:        "Confirming who someone is when it matters, and detecting and stopping fraud against them or us.",
			Bases:              []Basis{LegitimateInterest},
			LegitimateInterest: "Keeping fraud, which harms our users and us, to a minimum.",
		},
		{
			ID: "legal-claims", Name: "Legal claims",
			Description:        "Establishing, exercising or defending legal rights, in court or out of it.",
			Bases:              []Basis{LegalObligation, LegitimateInterest},
			BasisNote:          "A legal obligation where the law requires the processing; our legitimate interest otherwise.",
			LegitimateInterest: "Protecting our business, its interests and its rights.",
		},
		{
			ID: "personalisation", Name: "Personalisation",
			Description:        "Adapting the platform and its content to the preferences someone chose or to how they use it.",
			Bases:              []Basis{Consent, LegitimateInterest},
			BasisNote:          "Consent, given and withdrawn in the cookie tool, wherever the law asks for it; our legitimate interest where it does not. Withdrawing consent does not make earlier use unlawful.",
			LegitimateInterest: "Serving people as efficiently as we can, at the best price.",
		},
		{
			ID: "analytics", Name: "Usage analytics",
			Description:        "Studying visits and how people move through the platform, to make it easier to use and to check that it works as intended.",
			Bases:              []Basis{Consent, LegitimateInterest},
			BasisNote:          "Consent wherever the law asks for it; our legitimate interest where it does not. Consent can be withdrawn at any time.",
			LegitimateInterest: "Serving people as efficiently as we can, at the best price.",
		},
		{
			ID: "behaviour-tracking", Name: "Experience tracking",
			Description: "Following how someone behaves on the platform to shape their later experience of it.",
			Bases:       []Basis{Consent},
			BasisNote:   "Only with consent, which can be withdrawn in the cookie tool at any time.",
		},
		{
			ID: "service-communications", Name: "Service messages",
			Description:        "Messages that are not marketing: changes to our terms, policies or services, and other important notices.",
			Bases:              []Basis{LegalObligation, LegitimateInterest},
			BasisNote:          "A legal obligation where the law requires the notice; our legitimate interest otherwise.",
			LegitimateInterest: "Running the service efficiently and keeping people informed about it.",
		},
		{
			ID: "security", Name: "Security",
			Description:        "Protecting the systems and data behind the service, and preventing and detecting crime.",
			Bases:              []Basis{LegalObligation, LegitimateInterest},
			BasisNote:          "A legal obligation for the security the law requires; our legitimate interest for measures that go beyond it.",
			LegitimateInterest: "Protecting systems and data, and preventing crime that could harm our users or us.",
		},
		{
			ID: "statistics", Name: "Customer statistics",
			Description:        "Statistical analysis that helps us understand our customer base.",
			Bases:              []Basis{LegitimateInterest},
			LegitimateInterest: "Serving people as efficiently as we can, at the best price.",
		},
		{
			ID: "customer-records", Name: "Customer records",
			Description:        "Keeping customer records complete and up to date.",
			Bases:              []Basis{Contract, LegalObligation, LegitimateInterest},
			BasisNote:          "The contract, or a legal obligation, where either applies; our legitimate interest otherwise.",
			LegitimateInterest: "Staying in touch with customers about their orders and about new products.",
		},
		{
			ID: "legal-compliance", Name: "Legal and regulatory compliance",
			Description: "Disclosures and records the law requires of us, such as evidence of consents and answers to legal requests.",
			Bases:       []Basis{LegalObligation},
		},
		{
			ID: "marketing", Name: "Marketing",
			Description:        "Telling existing and former customers about our products, offers and news by e-mail, text message, social media or phone. Anyone may opt out at any time.",
			Bases:              []Basis{LegitimateInterest},
			LegitimateInterest: "Promoting our business to existing and former customers.",
		},
		{
			ID: "corporate-transaction", Name: "Corporate transactions",
			Description:        "Sharing data with group companies, buyers or investors and their advisers in a merger, acquisition, sale of assets, public offering, restructuring or insolvency; anonymised wherever that is possible.",
			Bases:              []Basis{LegalObligation, LegitimateInterest},
			BasisNote:          "A legal obligation where the law requires the disclosure; our legitimate interest otherwise.",
			LegitimateInterest: "Protecting, realising or growing the value of the business and its assets.",
		},
	}
}

// categories is the vocabulary of personal data. Ids read as
// "group.kind"; DPV names the closest concept of the W3C Data Privacy
// Vocabulary's personal-data extension (https://w3id.org/dpv/pd).
func categories() []Category {
	return []Category{
		{ID: "account.credentials", Name: "Sign-in credentials", DPV: "pd:Authenticating",
			Description: "Password hashes, second-factor secrets and recovery codes."},
		{ID: "account.sign-in-history", Name: "Sign-in history", DPV: "pd:AuthenticationHistory",
			Description: "When and how someone signed in, and failed attempts."},
		{ID: "activity.audit-trail", Name: "Audit trail", DPV: "pd:Behavioral",
			Description: "What was done, when and for which purpose, by or to a person."},
		{ID: "biometric.audio-video", Name: "Voice and video", DPV: "pd:Biometric", Special: true,
			Description: "Live and recorded voice and video of a call."},
		{ID: "contact.email", Name: "E-mail address", DPV: "pd:EmailAddress",
			Description: "An e-mail address."},
		{ID: "contact.postal-address", Name: "Postal address", DPV: "pd:PhysicalAddress",
			Description: "A postal or billing address."},
		{ID: "contact.telephone", Name: "Telephone number", DPV: "pd:TelephoneNumber",
			Description: "A telephone number."},
		{ID: "content.delivery-status", Name: "Delivery reports", DPV: "pd:CommunicationsMetadata",
			Description: "What a receiving mail server answered about a message, which may repeat the address."},
		{ID: "content.email-message", Name: "E-mail messages", DPV: "pd:EmailContent",
			Description: "Subject and body of e-mail we send to a person."},
		{ID: "content.feedback", Name: "Feedback and responses", DPV: "pd:Opinion",
			Description: "Feedback, survey answers and entries to competitions and promotions."},
		{ID: "content.file", Name: "Files", DPV: "pd:PersonalDocuments",
			Description: "Files a person uploads or that we produce for them, such as exports."},
		{ID: "content.meeting", Name: "Meeting content", DPV: "pd:Communication",
			Description: "Agendas, notes, transcripts and summaries of sessions."},
		{ID: "content.message", Name: "Messages", DPV: "pd:Communication",
			Description: "Chat, questions and support requests a person writes."},
		{ID: "financial.billing", Name: "Billing details", DPV: "pd:Financial",
			Description: "Billing name, address and tax details."},
		{ID: "financial.payment-token", Name: "Payment tokens", DPV: "pd:PaymentCard",
			Description: "A payment provider's reference to a card or account; never the number itself."},
		{ID: "financial.transaction", Name: "Transactions", DPV: "pd:Transaction",
			Description: "Purchases, invoices and payments."},
		{ID: "identity.birth-date", Name: "Date of birth", DPV: "pd:BirthDate",
			Description: "A date of birth, given to check identity or age."},
		{ID: "identity.gender", Name: "Gender", DPV: "pd:Gender",
			Description: "Gender, when someone chooses to give it."},
		{ID: "identity.name", Name: "Name", DPV: "pd:Name",
			Description: "A person's name or display name."},
		{ID: "identity.username", Name: "User name", DPV: "pd:Username",
			Description: "The name someone signs in with."},
		{ID: "location.approximate", Name: "Approximate location", DPV: "pd:Location",
			Description: "Country or region, given or inferred."},
		{ID: "online.browsing", Name: "Browsing behaviour", DPV: "pd:BrowsingBehavior",
			Description: "Pages visited and how someone moved between them."},
		{ID: "online.ip-address", Name: "IP address", DPV: "pd:IPAddress",
			Description: "The network address of a device."},
		{ID: "online.usage", Name: "Use of the platform", DPV: "pd:ServiceConsumptionBehavior",
			Description: "Which features someone used, when and for how long."},
		{ID: "online.user-agent", Name: "Browser and device", DPV: "pd:UserAgent",
			Description: "The browser and operating system a device reports."},
		{ID: "preference.interests", Name: "Interests", DPV: "pd:Interest",
			Description: "Personal or professional interests someone tells us."},
		{ID: "preference.privacy", Name: "Privacy choices", DPV: "pd:PrivacyPreference",
			Description: "Consents, objections and marketing preferences."},
		{ID: "preference.settings", Name: "Settings", DPV: "pd:Preference",
			Description: "Preferences someone set on the platform."},
		{ID: "professional.company", Name: "Company details", DPV: "pd:Professional",
			Description: "Employer, job title and company details."},
		{ID: "professional.online-presence", Name: "Professional online presence", DPV: "pd:SocialMedia",
			Description: "Links to professional profiles, such as LinkedIn."},
		{ID: "pseudonym.id", Name: "Internal identifiers", DPV: "pd:Identifier",
			Description: "Ids and keyed pseudonyms that point to a person without naming them."},
	}
}

func retentionRules() []RetentionRule {
	return []RetentionRule{
		{
			ID: "audit-5y", Period: Period{Years: 5}, Anchor: "at", AtEnd: Delete,
			Description: "Audit entries are the proof of what was done with personal data, by whom and why, erasures included. They are kept for five years from the moment they record, the horizon the notice uses for transaction records, and then deleted.",
		},
		{
			ID: "mail-90d", Period: Period{Days: 90}, Anchor: "created_at", AtEnd: Delete,
			Description: "Outgoing e-mail stays in the outbox for 90 days after it was queued, long enough to retry delivery and to answer questions about a message, and is then deleted.",
		},
		{
			ID: "with-owner", Event: "the session, resource, recording, export or account the file belongs to is deleted", AtEnd: Delete,
			Description: "A stored file lives exactly as long as what it belongs to; the file and its index row are deleted together with it.",
		},
		{
			ID: "staff-role", Event: "the role is revoked or the staff member's account is deleted", AtEnd: Delete,
			Description: "A staff role is kept while its holder has it. Revoking it deletes the row; the audit log keeps who granted and revoked it.",
		},
		{
			ID: "membership", Event: "the person leaves or is removed from the organisation, or the organisation or the account is deleted", AtEnd: Delete,
			Description: "A membership is kept while the person belongs to the organisation and deleted when they leave or are removed; the audit log keeps who joined, changed roles and left.",
		},
		{
			ID: "invitation-30d", Period: Period{Days: 30}, Anchor: "closes_at", AtEnd: Delete,
			Description: "An invitation to an organisation, with the address it was sent to, is deleted 30 days after it was accepted or expired. Withdrawn and replaced invitations are deleted at once.",
		},
		{
			ID: "with-organisation", Event: "the organisation is deleted", AtEnd: Delete,
			Description: "Records that belong to an organisation rather than to one person, such as its acceptances of the Data Processing Addendum, are kept while it exists; the audit log keeps the proof of each acceptance for its own period after that.",
		},
		{
			ID: "org-ownerless-30d", Period: Period{Days: 30}, Anchor: "ownerless_since", AtEnd: Delete,
			Description: "When the account of an organisation's last owner is erased, the organisation passes to its longest-standing admin or, with none, its longest-standing member, who is told by e-mail. With neither, nobody is left to answer for it: its open invitations are withdrawn at once, and 30 days later the organisation is deleted with its logo, its invitations, its acceptances of the Data Processing Addendum, its meetings and the memberships of any guests.",
		},
		{
			ID: "with-meeting", Event: "the meeting is deleted by its host, or with the organisation that owns it", AtEnd: Delete,
			Description: "What belongs to a meeting, among it the places of the people invited and guests' addresses and names, is kept while the meeting exists and deleted with it. Erasing a person removes their places in meetings at once; what they wrote for others in a shared meeting stays, no longer linked to them.",
		},
		{
			ID: "export-7d", Period: Period{Days: 7}, Anchor: "finished_at", AtEnd: Delete,
			Description: "A copy of someone's data made at their request can be downloaded for seven days after it is ready; then the file and its record are deleted.",
		},
		{
			ID: "erasure-proof-5y", Period: Period{Years: 5}, Anchor: "created_at", AtEnd: Delete,
			Description: "The record that an erasure was carried out, when and why, kept without the person's id so that we can show it was done, is deleted five years after the erasure began. The person's identifiers on it are cleared as soon as the erasure is finished.",
		},
		{
			ID: "with-account", Event: "the account is deleted", AtEnd: Delete,
			Description: "Profile details and the confirmations of parents and guardians are kept while the account exists and deleted with it. An account left unused for five years is deleted or anonymised, and these go with it.",
		},
		{
			ID: "requests-5y", Period: Period{Years: 5}, Anchor: "received_at", AtEnd: Delete,
			Description: "The record of a request someone made about their data, such as deleting their account, is kept for five years from its receipt so that we can show how and when it was answered, and then deleted. Once the account is gone the record no longer says whose request it was.",
		},
		{
			ID: "account-inactive-5y", Period: Period{Years: 5}, Anchor: "last_active_at", AtEnd: Delete,
			Description: "An account nobody has used for five years is deleted, after a warning to its address, together with everything kept only because of it. Any use of the account, even just being signed in, starts the five years again.",
		},
		{
			ID: "account-deactivated", Period: Period{Days: 30}, Anchor: "deactivated_at", AtEnd: Delete,
			Description: "An account its owner deactivated can be brought back by signing in during a grace period, 30 days unless the operator sets another. Once the grace period is over the account's personal data is erased like on a request, and what the member wrote for others stays with no link to them.",
		},
		{
			ID: "guest-12m", Period: Period{Months: 12}, Anchor: "invite_expires_at", AtEnd: Delete,
			Description: "A guest's personal link lapses 30 days after the last meeting they were invited to. Twelve months after the last of their links lapsed, unless the operator sets another period, everything kept about the guest is erased, and what they wrote in shared meetings stays with no link to them.",
		},
		{
			ID: "transactions-5y", Period: Period{Years: 5}, Anchor: "occurred_at", AtEnd: Delete,
			Description: "Records of purchases and payments are kept for five years from the transaction, as tax and accounting law asks, and then deleted.",
		},
		{
			ID: "legal-hold-30d", Period: Period{Days: 30}, Anchor: "ends_at", AtEnd: Delete,
			Description: "A legal hold keeps a person's data past its retention while a legal claim needs it. The record of the hold is deleted 30 days after the hold ends or is released; the audit log keeps who placed and released it, and why.",
		},
		{
			ID: "auth-expired-1d", Period: Period{Days: 1}, Anchor: "expires_at", AtEnd: Delete,
			Description: "Sessions, pending two-step sign-ins and e-mailed links are deleted at the latest a day after they expire. Signing out, or using a link, ends them at once.",
		},
		{
			ID: "session-idle-15d", Period: Period{Days: 15}, Anchor: "last_seen_at", AtEnd: Delete,
			Description: "A sign-in that nobody used for 14 days stops working, and its record is deleted a day later, even when its latest end is further away.",
		},
		{
			ID: "api-token", Event: "the member revokes the token, or the account is deleted", AtEnd: Delete,
			Description: "A personal API token is kept until its owner revokes it, which deletes it at once, or until the account goes.",
		},
		{
			ID: "second-factor", Event: "two-step sign-in is turned off, the codes are replaced, or the account is deleted", AtEnd: Delete,
			Description: "Recovery codes are kept while two-step sign-in is on; turning it off or making new codes deletes the old ones.",
		},
		{
			ID: "throttle-1d", Period: Period{Days: 1}, Anchor: "window_start", AtEnd: Delete,
			Description: "Counters of failed sign-ins, of requests for e-mailed links and of requests to the routes anyone may call are deleted a day after they started counting; a lockout lasts minutes, so nothing older is needed.",
		},
		{
			ID: "invitation-count-2d", Period: Period{Days: 2}, Anchor: "day", AtEnd: Delete,
			Description: "Counters of the invitations an account sent and an address received on one day are deleted two days after that day began; the limits they enforce are daily, so nothing older is needed.",
		},
		{
			ID: "suppression", Event: "we stop sending marketing altogether", AtEnd: Delete,
			Description: "An address suppressed after an objection to direct marketing stays on the suppression list, as a keyed digest that cannot be read back, for as long as we send any marketing at all, so that the objection is never forgotten, even once the account is gone.",
		},
		{
			ID: "campaign-2y", Period: Period{Years: 2}, Anchor: "created_at", AtEnd: Delete,
			Description: "The record of which member a marketing campaign was queued for is kept for two years, to answer questions about a message and to make sure no campaign reaches anyone twice, and is then deleted.",
		},
		{
			ID: "consent-5y", Period: Period{Years: 5}, Anchor: "at", AtEnd: Delete,
			Description: "Consent records, refusals and withdrawals included, are the evidence of each choice. They are kept for five years from the moment of the choice, whatever happens to the account, and then deleted; a consent lapses long before that, after six months, and is asked for again.",
		},
		{
			ID: "restriction", Event: "the restriction is lifted, or the person's data is erased", AtEnd: Delete,
			Description: "A restriction of the use of someone's data is kept while it is in force and deleted when it is lifted; the audit log keeps when it was set and lifted, and by whom.",
		},
		{
			ID: "notice-history", Event: "the account of the staff member who published the version is deleted", AtEnd: Anonymise,
			Description: "Every published version of the privacy notice stays public for as long as the service runs, so that anyone can see what was promised and when. Only the id of the staff member who published a version is cleared, when their account is deleted.",
		},
		{
			ID: "analytics-25m", Period: Period{Months: 25}, Anchor: "occurred_at", AtEnd: Delete,
			Description: "Analytics events are deleted 25 months after they happened, long enough to compare a month with the same month a year earlier; reports only ever show counts.",
		},
		{
			ID: "jobs-7d", Period: Period{Days: 7}, Anchor: "finalized_at", AtEnd: Delete,
			Description: "The job engine deletes finished jobs on its own: a day after they complete or are cancelled, and a week after it gives up on them.",
		},
	}
}

func otherRecipients() []OtherRecipient {
	return []OtherRecipient{
		{"group", "Companies of our group", "Our parent, subsidiaries and affiliates, among them the joint controller in Romania."},
		{"advisers", "Professional advisers and auditors", "Lawyers, consultants and external auditors, all bound by confidentiality."},
		{"banks", "Banks", "The banks that handle our payments."},
		{"authorities", "Authorities", "Law enforcement agencies, courts, tribunals and regulators, when the law requires a disclosure."},
		{"acquirers", "Parties to a corporate transaction", "Whoever acquires, or may acquire, control of all or part of the business, and their advisers; data is anonymised where possible and shared under confidentiality."},
	}
}

// securityMeasures describe what this version of the product does, and
// say so where a measure depends on the operator or on a later release.
func securityMeasures() []SecurityMeasure {
	return []SecurityMeasure{
		{"transport", "Encryption in transit",
			"The product is served over HTTPS. When its public address is https, every response carries HSTS for two years including subdomains, and cookies are marked Secure."},
		{"browser", "Browser hardening",
			"A strict Content Security Policy allows no inline script and no third-party origin; responses forbid MIME sniffing and framing, limit the referrer to our own origin, and browser forms refuse cross-origin requests."},
		{"passwords", "Password storage",
			"Member passwords are stored only as argon2id hashes (64 MiB, three passes, per RFC 9106), with a salt of their own; the cost settings are kept with each hash so that they can be raised. Passwords shorter than 8 characters or among the 10,000 most common are refused."},
		{"sign-in", "Sign-in protection",
			"Five failed sign-ins to one address, or many from one IP address, lock further attempts for fifteen minutes, whether or not the address has an account; the counters hold keyed digests, never the address or the IP address. Sign-up, sign-in and password reset answer alike for every address. Members can turn on two-step sign-in with an authenticator app; its secret is stored encrypted with AES-GCM. Sessions, API tokens and e-mailed links are stored only as digests; sessions expire when idle, and members can sign out every device."},
		{"least-privilege", "Least privilege",
			"The staff console opens only to accounts that hold a staff role, and each role opens only what its work needs: support finds people and sees their contact details and account state; the privacy officer keeps the registers and handles rights requests; administrators manage staff, settings and outgoing mail. No role can read what people say or share in their sessions. Before any staff member sees a person's data they must give a reason, which goes into an access log, with their staff id, role and the time, that the person reads in their account."},
		{"audit", "Tamper-evident audit log",
			"Each audit entry carries the hash of the one before it, so changing or removing any entry breaks the chain and verification finds it. People appear in the chain only as keyed pseudonyms, so clearing the direct link at erasure leaves the chain intact."},
		{"logs", "Logs without personal data",
			"Server logs hold request ids, route patterns, status codes, sizes and durations; never e-mail addresses, names, IP addresses, tokens, query strings or text people typed. An error shows the requester only a request id."},
		{"at-rest", "Encryption at rest",
			"Delegated to the storage the operator runs the product on: the disk that holds the SQLite file, the PostgreSQL service, and the object store for files. Operators are expected to use encrypted volumes and buckets."},
		{"secrets", "Secrets",
			"Secrets can be read from files (the *_FILE settings) rather than the environment. The signing key is at least 32 bytes; when none is configured it is generated from a cryptographic random source and stored readable only by the server's user."},
		{"limits", "Request limits",
			"Request bodies are capped in size (1 MiB by default) and slow clients are cut off by read and write timeouts."},
		{"minimisation", "Minimisation by design",
			"The data map lists every column the product stores with its purpose, retention and erasure rule, and a test fails when a column is added without them. Outgoing e-mail and stored files are indexed by person so that export and erasure find all of them."},
		{"processors", "Sub-processor contracts",
			"Sub-processors are bound by contract to process data only on our instructions. Their registry, with each one's country and transfer safeguard, is public."},
	}
}
