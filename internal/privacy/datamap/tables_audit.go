package datamap

// auditAnchorTables hold what retention keeps of the audit log's removed
// head, so that the chain still verifies after its oldest entries go.
func auditAnchorTables() []Table {
	return []Table{{
		Name:        "audit_anchors",
		Description: "Where the audit log now starts: the position and hash of the last entry retention removed, sealed with the server's key so that the chain still verifies and a removal by hand does not.",
		Columns: []Column{
			plain("seq", "Position of the last entry removed."),
			plain("hash", "Hash of that entry, which reveals nothing about its content."),
			plain("pruned_at", "When retention removed it; the time of a run, not of anyone's action."),
			plain("run_id", "Id of the retention run that removed it."),
			plain("mac", "Seal over the other columns, made with the server's key."),
		},
	}}
}
