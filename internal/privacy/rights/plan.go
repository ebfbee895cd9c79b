package rights

import (
	"slices"

	"github.com/sessionshq/sessions/internal/privacy/datamap"
)

// Step is what erasure does to one table's rows of a person.
type Step struct {
	Table string
	// Action is datamap.Delete (the rows go) or datamap.Anonymise (the
	// columns in Clear are cleared and the rows stay).
	Action datamap.Action
	// Keys find the person's rows; Keys[0] is the table's owner key. A row
	// is the person's own when its owner key is theirs or empty. A row
	// found only through another key belongs to someone else and only
	// that key is cleared: erasing a guardian must not delete the child's
	// profile that names the guardian's address. A row found through a
	// datamap.KeyNamedPersonID key quotes the person beyond the key and
	// is deleted.
	Keys []datamap.PersonKey
	// Clear are the columns an anonymised row loses.
	Clear []Clear
	// Files are the columns holding blob-storage keys: the file goes when
	// its row goes or its column is cleared.
	Files []string
}

// Clear is one column erasure clears, to NULL or to Replacement.
type Clear struct {
	Column      string
	Replacement *string
}

// ErasurePlan lists the steps of an erasure, children before parents so
// that no foreign key points at a deleted row. Tables whose rows are kept
// whole under a legal obligation have no step; the person's rows in them
// stay, restricted, until their retention rule removes them.
func ErasurePlan(m datamap.Map) []Step {
	order := ParentsFirst(m)
	var steps []Step
	for i := len(order) - 1; i >= 0; i-- {
		t := order[i]
		if len(t.PersonKeys) == 0 {
			continue
		}
		s := Step{Table: t.Name, Action: t.RowErasure(), Keys: slices.Clone(t.PersonKeys)}
		if s.Action != datamap.Delete && s.Action != datamap.Anonymise {
			continue
		}
		for _, c := range t.PersonalColumns() {
			if c.BlobKey {
				s.Files = append(s.Files, c.Name)
			}
			if s.Action == datamap.Anonymise && c.Erasure != nil && c.Erasure.Action == datamap.Anonymise {
				s.Clear = append(s.Clear, Clear{Column: c.Name, Replacement: c.Erasure.Replacement})
			}
		}
		steps = append(steps, s)
	}
	return steps
}

// Clears reports whether the step clears column.
func (s Step) Clears(column string) bool {
	return slices.ContainsFunc(s.Clear, func(c Clear) bool { return c.Column == column })
}

// ExportPlan lists the tables that hold rows of people, parents first, so
// that an export reads a meeting before the person's place in it.
func ExportPlan(m datamap.Map) []datamap.Table {
	var out []datamap.Table
	for _, t := range ParentsFirst(m) {
		if len(t.PersonKeys) > 0 && t.Personal() {
			out = append(out, t)
		}
	}
	return out
}

// ParentsFirst orders the map's tables so that every table comes after
// the tables its foreign keys point to, keeping the map's own order where
// the keys allow it. A reference to the table itself or to a table outside
// the map is ignored; a cycle, which the schema does not have, would leave
// the tables in it in map order at the end.
func ParentsFirst(m datamap.Map) []datamap.Table {
	index := map[string]int{}
	for i, t := range m.Tables {
		index[t.Name] = i
	}
	placed := make([]bool, len(m.Tables))
	var out []datamap.Table
	for len(out) < len(m.Tables) {
		progress := false
		for i, t := range m.Tables {
			if placed[i] {
				continue
			}
			ready := true
			for _, fk := range t.Parents {
				j, ok := index[fk.Table]
				if ok && j != i && !placed[j] {
					ready = false
					break
				}
			}
			if ready {
				placed[i] = true
				out = append(out, t)
				progress = true
			}
		}
		if !progress {
			for i, t := range m.Tables {
				if !placed[i] {
					placed[i] = true
					out = append(out, t)
				}
			}
		}
	}
	return out
}

// Source is a table that tells who a person is beyond the id a caller
// knows: their addresses, or their places in meetings.
type Source struct {
	Table string
	// Column holds what is collected: an address or a participant id.
	Column string
	// By are the columns of the table that find the person's rows.
	By []datamap.PersonKey
}

// EmailSources are the tables whose own id is a person's id and which hold
// that person's address, such as the accounts table: an erasure or export
// by account id also covers the rows found by the account's address.
func EmailSources(m datamap.Map) []Source {
	var out []Source
	for _, t := range m.Tables {
		var by []datamap.PersonKey
		for _, k := range t.PersonKeys {
			if k.Holds == datamap.KeyPersonID && k.Column == "id" {
				by = append(by, k)
			}
		}
		if len(by) == 0 {
			continue
		}
		for _, k := range t.PersonKeys {
			if k.Holds == datamap.KeyEmail {
				out = append(out, Source{Table: t.Name, Column: k.Column, By: by})
			}
		}
	}
	return out
}

// ParticipantSources are the tables that define participant ids: a
// participant-id key there is the table's own column, not a reference to
// another table, and the table finds its rows by account id or address.
// A guest's and a member's places in meetings are collected from them
// first; every other table keyed by participant id is then matched by
// those ids.
func ParticipantSources(m datamap.Map) []Source {
	var out []Source
	for _, t := range m.Tables {
		var by []datamap.PersonKey
		for _, k := range t.PersonKeys {
			if k.Holds == datamap.KeyPersonID || k.Holds == datamap.KeyEmail {
				by = append(by, k)
			}
		}
		if len(by) == 0 {
			continue
		}
		for _, k := range t.PersonKeys {
			if k.Holds != datamap.KeyParticipantID {
				continue
			}
			// A reference to another table, or a column that is also the
			// account id or address it would be found by, defines nothing.
			if slices.ContainsFunc(t.Parents, func(fk datamap.ForeignKey) bool { return fk.Column == k.Column }) ||
				slices.ContainsFunc(by, func(b datamap.PersonKey) bool { return b.Column == k.Column }) {
				continue
			}
			out = append(out, Source{Table: t.Name, Column: k.Column, By: by})
		}
	}
	return out
}

// ProvidedColumns are the columns of t whose values the person of a row
// gave us, which is what portability covers: their personal data, and
// the shared content they wrote or uploaded.
func ProvidedColumns(t datamap.Table) []string {
	var out []string
	for _, c := range t.Columns {
		if c.Source == datamap.Provided {
			out = append(out, c.Name)
		}
	}
	return out
}
