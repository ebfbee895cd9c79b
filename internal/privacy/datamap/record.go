package datamap

import (
	"bytes"
	"encoding/json"
	"github.com/sessionshq/sessions/internal/country"
	"slices"
	"sort"
	"strings"

	"github.com/sessionshq/sessions/internal/privacy/vendors"
)

// Record is the record of processing activities that Art. 30(1) GDPR asks
// a controller to keep, built from the catalogue and the sub-processor
// registry. The same inputs always give the same record, byte for byte.
type Record struct {
	Title           string             `json:"title"`
	Controllers     []RecordController `json:"controllers"`
	Purposes        []RecordPurpose    `json:"purposes"`
	Subjects        []RecordSubject    `json:"data_subjects"`
	Categories      []RecordCategory   `json:"personal_data_categories"`
	Subprocessors   []RecordRecipient  `json:"subprocessors"`
	OtherRecipients []OtherRecipient   `json:"other_recipients"`
	Transfers       []RecordTransfer   `json:"third_country_transfers"`
	TimeLimits      []RecordTimeLimit  `json:"erasure_time_limits"`
	Security        []SecurityMeasure  `json:"security_measures"`
	Inventory       []RecordTable      `json:"inventory"`
}

// RecordTable is a table of the inventory with what erasure does to its
// rows spelt out.
type RecordTable struct {
	Table
	RowErasureAction Action `json:"row_erasure,omitempty"`
}

// RecordController is a controller with its country spelt out.
type RecordController struct {
	Controller
	CountryName string `json:"country_name,omitempty"`
}

// RecordPurpose is a purpose with its bases and the data used for it.
type RecordPurpose struct {
	Purpose
	// Categories are the ids of the stored categories used for the purpose.
	Categories []string `json:"categories"`
}

// BasisLabels names the purpose's bases for people.
func (p RecordPurpose) BasisLabels() string {
	labels := make([]string, len(p.Bases))
	for i, b := range p.Bases {
		labels[i] = b.Label()
	}
	return strings.Join(labels, "; ")
}

// RecordSubject is a category of data subject and where their data is.
type RecordSubject struct {
	SubjectInfo
	Tables []string `json:"tables"`
}

// RecordCategory is a category of personal data the product stores.
type RecordCategory struct {
	Category
	Sources  []Source `json:"sources"`
	Columns  []string `json:"columns"`
	Purposes []string `json:"purposes"`
}

// RecordRecipient is an active sub-processor.
type RecordRecipient struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Activity       string   `json:"activity"`
	Country        string   `json:"country"`
	CountryName    string   `json:"country_name"`
	Mechanism      string   `json:"transfer_mechanism"`
	MechanismLabel string   `json:"transfer_mechanism_label"`
	Categories     []string `json:"data_categories"`
	Website        string   `json:"website"`
}

// RecordTransfer is a transfer of personal data out of the EEA.
type RecordTransfer struct {
	Recipient      string `json:"recipient"`
	Name           string `json:"name"`
	Country        string `json:"country"`
	CountryName    string `json:"country_name"`
	Mechanism      string `json:"safeguard"`
	MechanismLabel string `json:"safeguard_label"`
}

// RecordTimeLimit is a retention rule and the columns it governs.
type RecordTimeLimit struct {
	RetentionRule
	PeriodText string   `json:"period_text"`
	Columns    []string `json:"columns"`
}

// BuildRecord assembles the record from the catalogue and the registry.
// Only active sub-processors appear as recipients and transfers.
func BuildRecord(m Map, subprocessors []vendors.Subprocessor) Record {
	r := Record{
		Title:           "Record of processing activities",
		OtherRecipients: slices.Clone(m.OtherRecipients),
		Security:        slices.Clone(m.Security),
	}
	for _, c := range m.Controllers {
		rc := RecordController{Controller: c}
		if c.Country != "" {
			rc.CountryName = country.Name(c.Country)
		}
		r.Controllers = append(r.Controllers, rc)
	}

	tables := slices.Clone(m.Tables)
	sort.Slice(tables, func(i, j int) bool { return tables[i].Name < tables[j].Name })
	for i := range tables {
		tables[i].Subjects = nonNil(tables[i].Subjects)
		tables[i].PersonKeys = nonNil(tables[i].PersonKeys)
		tables[i].Parents = nonNil(tables[i].Parents)
		r.Inventory = append(r.Inventory, RecordTable{Table: tables[i], RowErasureAction: tables[i].RowErasure()})
	}

	purposeCats := map[string]map[string]bool{}
	type catUse struct {
		sources  map[Source]bool
		columns  []string
		purposes map[string]bool
	}
	cats := map[string]*catUse{}
	ruleCols := map[string][]string{}
	subjectTables := map[Subject][]string{}
	for _, t := range tables {
		for _, s := range t.Subjects {
			subjectTables[s] = append(subjectTables[s], t.Name)
		}
		if t.Retention != "" {
			ruleCols[t.Retention] = append(ruleCols[t.Retention], t.Name)
		}
		for _, c := range t.PersonalColumns() {
			where := t.Name + "." + c.Name
			ruleCols[c.Retention] = append(ruleCols[c.Retention], where)
			for _, id := range c.Categories {
				cu := cats[id]
				if cu == nil {
					cu = &catUse{sources: map[Source]bool{}, purposes: map[string]bool{}}
					cats[id] = cu
				}
				cu.sources[c.Source] = true
				cu.columns = append(cu.columns, where)
				for _, u := range c.Uses {
					cu.purposes[u.Purpose] = true
					if purposeCats[u.Purpose] == nil {
						purposeCats[u.Purpose] = map[string]bool{}
					}
					purposeCats[u.Purpose][id] = true
				}
			}
		}
	}

	for _, p := range m.Purposes {
		r.Purposes = append(r.Purposes, RecordPurpose{Purpose: p, Categories: sortedKeys(purposeCats[p.ID])})
	}
	for _, s := range m.Subjects {
		r.Subjects = append(r.Subjects, RecordSubject{SubjectInfo: s, Tables: nonNil(subjectTables[s.ID])})
	}
	for _, c := range m.Categories {
		cu := cats[c.ID]
		if cu == nil {
			continue // declared for later use; nothing stores it yet
		}
		rc := RecordCategory{Category: c, Columns: cu.columns}
		for _, s := range []Source{Provided, Observed, Derived} {
			if cu.sources[s] {
				rc.Sources = append(rc.Sources, s)
			}
		}
		for _, p := range m.Purposes {
			if cu.purposes[p.ID] {
				rc.Purposes = append(rc.Purposes, p.ID)
			}
		}
		r.Categories = append(r.Categories, rc)
	}

	active := slices.Clone(subprocessors)
	active = slices.DeleteFunc(active, func(s vendors.Subprocessor) bool { return !s.Active })
	sort.Slice(active, func(i, j int) bool {
		a, b := strings.ToLower(active[i].Name), strings.ToLower(active[j].Name)
		if a != b {
			return a < b
		}
		return active[i].ID < active[j].ID
	})
	for _, s := range active {
		r.Subprocessors = append(r.Subprocessors, RecordRecipient{
			ID: s.ID, Name: s.Name, Activity: s.Activity,
			Country: s.Country, CountryName: country.Name(s.Country),
			Mechanism: string(s.Mechanism), MechanismLabel: s.Mechanism.Label(),
			Categories: nonNil(slices.Clone(s.DataCategories)), Website: s.Website,
		})
		if s.ThirdCountry() {
			r.Transfers = append(r.Transfers, RecordTransfer{
				Recipient: s.ID, Name: s.Name,
				Country: s.Country, CountryName: country.Name(s.Country),
				Mechanism: string(s.Mechanism), MechanismLabel: s.Mechanism.Label(),
			})
		}
	}

	for _, rule := range m.Retention {
		cols := ruleCols[rule.ID]
		if len(cols) == 0 {
			continue
		}
		r.TimeLimits = append(r.TimeLimits, RecordTimeLimit{RetentionRule: rule, PeriodText: rule.Period.String(), Columns: cols})
	}
	return r
}

// JSON returns the record as indented JSON ending in a newline.
func (r Record) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// The record is read by people too; "&" and "<" stay as they are.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// nonNil makes empty lists show as [] in JSON rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
