package datamap

// jobEngineTables are the tables of the durable job engine (River), which
// creates and migrates them itself on both engines.
func jobEngineTables() []Table {
	const engine = "Bookkeeping of the job engine."
	jobUses := []Use{
		{"service", Contract},
		{"service-communications", LegitimateInterest},
		{"legal-compliance", LegalObligation},
	}
	job := func(name, note string, source Source, cats ...string) Column {
		return Column{Name: name, Personal: true, Note: note, Categories: cats, Uses: jobUses,
			Source: source, Retention: "jobs-7d", Erasure: deleted(), Recipients: hosting()}
	}
	return []Table{
		{
			Name:        "river_job",
			Description: "Durable background jobs: mail delivery, retention runs, exports and the like.",
			Subjects:    []Subject{Member, Guest, OrgContact, Staff},
			Unkeyed:     "A job's arguments name the rows it works on by id, never by address or content, inside a JSON document no column can be searched by. A person's jobs go when they finish: the engine deletes finished jobs within seven days, and the rows they point at are erased on their own.",
			Columns: []Column{
				plain("id", "Job number."),
				job("args", "Ids of the rows the job works on.", Derived, "pseudonym.id"),
				plain("attempt", engine),
				plain("attempted_at", engine),
				plain("attempted_by", "Names of the server processes that ran the job."),
				plain("created_at", engine),
				job("errors", "Errors of failed attempts, which may name row ids or repeat a mail server's answer.", Observed, "pseudonym.id", "content.delivery-status"),
				plain("finalized_at", engine),
				plain("kind", "Kind of job."),
				plain("max_attempts", engine),
				plain("metadata", "The engine's own bookkeeping; our jobs record no output."),
				plain("priority", engine),
				plain("queue", "Queue name."),
				plain("scheduled_at", engine),
				plain("state", engine),
				plain("tags", "Labels of the job kind."),
				job("unique_key", "Digest of the job's kind and arguments that stops duplicates.", Derived, "pseudonym.id"),
				plain("unique_states", engine),
			},
		},
		{
			Name:        "river_leader",
			Description: "Which server process currently leads the job engine's maintenance.",
			Columns: []Column{
				plain("elected_at", engine),
				plain("expires_at", engine),
				plain("leader_id", "Name of a server process."),
				plain("name", engine),
			},
		},
		{
			Name:        "river_migration",
			Description: "Which versions of the job engine's schema are applied.",
			Columns: []Column{
				plain("created_at", engine),
				plain("line", engine),
				plain("version", engine),
			},
		},
		{
			Name:        "river_notification",
			Description: "Wake-up signals between job engine processes.",
			Columns: []Column{
				plain("created_at", engine),
				plain("id", engine),
				plain("payload", "Queue names and job ids, to wake workers."),
				plain("topic", engine),
			},
		},
		{
			Name:        "river_queue",
			Description: "The job engine's queues and whether they are paused.",
			Columns: []Column{
				plain("created_at", engine),
				plain("metadata", engine),
				plain("name", "Queue name."),
				plain("paused_at", engine),
				plain("updated_at", engine),
			},
		},
	}
}
