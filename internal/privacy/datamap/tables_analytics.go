package datamap

// analyticsTables are the tables of first-party analytics: page views and
// feature use, stored only under analytics consent.
func analyticsTables() []Table {
	return []Table{analyticsEvents()}
}

func analyticsEvents() Table {
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: []Use{{"analytics", Consent}},
			Source: source, Retention: "analytics-25m", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "analytics_events",
		Description: "Page views and uses of features, recorded only for people whose cookie choice allows analytics, and shown to staff only as counts in which any number under five is hidden.",
		Subjects:    []Subject{Visitor, Member},
		Unkeyed:     "An event carries no account id and no id of the consent record: only a random id that lasts one day at most and is replaced whenever the cookie choice changes, so no one's events can be found by who they are. Every event is deleted 25 months after it happened.",
		Columns: []Column{
			plain("id", "Row number."),
			col("occurred_at", "When the page was shown or the feature used.", Observed, "online.browsing"),
			col("day", "The UTC date of occurred_at, by which counts are grouped.", Observed, "online.browsing"),
			col("kind", "Whether the event is a page view or a use of a feature.", Observed, "online.usage"),
			col("path", "The page's route, such as /orgs/{id}; never the address as typed, so no id or token in it is kept.", Observed, "online.browsing"),
			col("name", "The feature used, empty for a page view.", Observed, "online.usage"),
			col("visitor_id", "Random id from the analytics cookie, replaced every day, so that a visit is counted once.", Derived, "pseudonym.id"),
			col("ip_prefix", "The network part of the IP address (IPv4 /24, IPv6 /48); the full address is never stored.", Observed, "online.ip-address"),
		},
	}
}
