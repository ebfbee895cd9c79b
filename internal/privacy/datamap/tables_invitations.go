package datamap

// invitationTables are the counters that bound how many invitations one
// account sends and one address receives in a day.
func invitationTables() []Table { return []Table{invitationCounts()} }

func invitationCounts() Table {
	col := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: []Use{{"security", LegitimateInterest}},
			Source: source, Retention: "invitation-count-2d", Erasure: deleted(), Recipients: hosting()}
	}
	return Table{
		Name:        "invitation_counts",
		Description: "How many meeting and organisation invitations an account sent on one day, and how many an address received that day from people outside its own organisations, so that invitations cannot be used to send mail in bulk. Neither the account nor the address is stored: only a keyed digest of it.",
		Subjects:    []Subject{Member, Guest},
		Unkeyed:     "A counter is found only by a keyed digest of an account id or an address, never by a person's id; every counter is deleted two days after the day it counts, so none outlives its use.",
		Columns: []Column{
			col("key", "Keyed digest of the inviting account's id or of the invited address.", Derived, "pseudonym.id"),
			col("day", "The day (UTC) counted.", Observed, "online.usage"),
			col("sent", "How many invitations were counted that day.", Observed, "online.usage"),
		},
	}
}
