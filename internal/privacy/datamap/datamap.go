// Package datamap is the declarative catalogue of everything the product
// stores: every table and every column of the live schema, on SQLite and
// PostgreSQL alike. For each column that holds personal data it says whose
// data it is, its category, the purposes it serves with their lawful bases,
// where it comes from, how long it is kept, what erasure does to it and who
// receives it. Columns without personal data are listed too, each with the
// reason, so that a test can prove the catalogue covers the schema.
//
// The record of processing (Art. 30 GDPR), the information given with
// every export and the public privacy notice are generated from it, and the
// generic export, erasure and retention jobs walk it; a new table is not
// finished until it is declared here. The package knows no SQL and no HTTP.
//
// A column is personal when its value identifies or describes a person,
// alone or through the person key of its row. Export returns a person's
// whole rows; erasure deletes them, or, where rows must stay, clears the
// columns marked anonymise and keeps the ones marked keep-legal-obligation
// until their retention rule ends.
package datamap

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Subject is a category of data subject: whose data a table holds.
type Subject string

const (
	Member     Subject = "member"
	Guest      Subject = "guest"
	OrgContact Subject = "organisation-contact"
	Staff      Subject = "staff"
	Visitor    Subject = "visitor"
)

// Basis is a lawful basis for processing (Art. 6(1) GDPR).
type Basis string

const (
	Consent            Basis = "consent"
	Contract           Basis = "contract"
	LegalObligation    Basis = "legal-obligation"
	LegitimateInterest Basis = "legitimate-interest"
)

// Label is the basis's name for people.
func (b Basis) Label() string {
	switch b {
	case Consent:
		return "Consent"
	case Contract:
		return "Performance of a contract"
	case LegalObligation:
		return "Legal obligation"
	case LegitimateInterest:
		return "Legitimate interest"
	}
	return string(b)
}

func (b Basis) valid() bool {
	return b == Consent || b == Contract || b == LegalObligation || b == LegitimateInterest
}

// Source says how a column's value reaches us. Portability (Art. 20)
// carries exactly the columns marked Provided of a person's own rows, so
// a value staff or the platform wrote about the person is never Provided.
type Source string

const (
	// Provided: given by the person, or by someone acting for them, such as
	// a host typing a guest's address. A column that is not personal may
	// be Provided too: shared content, such as a meeting's title, that the
	// person of its row wrote or uploaded and that stays for others.
	Provided Source = "provided"
	// Observed: recorded by us as the person uses the service.
	Observed Source = "observed"
	// Derived: computed, assigned or written by us, staff's notes and
	// decisions about the person included.
	Derived Source = "derived"
)

func (s Source) valid() bool { return s == Provided || s == Observed || s == Derived }

// Action is what happens to a column when its person asks for erasure, or
// to a row when its retention period ends.
type Action string

const (
	// Delete removes the person's rows.
	Delete Action = "delete"
	// Anonymise clears the column (to NULL, or to Erasure.Replacement) and
	// keeps the row.
	Anonymise Action = "anonymise"
	// KeepLegalObligation keeps the value because the law requires it,
	// until the retention rule named in Erasure.Until ends.
	KeepLegalObligation Action = "keep-legal-obligation"
)

// KeyKind says what a person-key column holds.
type KeyKind string

const (
	// KeyPersonID: the person's id.
	KeyPersonID KeyKind = "person-id"
	// KeyEmail: an e-mail address, for rows about people who may have no
	// id yet, such as someone invited by address.
	KeyEmail KeyKind = "email-address"
	// KeyParticipantID: the id of one of the person's places in a meeting
	// (meeting_participants.id). Guests have no account, so their rows are
	// found through these; export and erasure first collect the person's
	// participant ids from their account id and e-mail addresses.
	KeyParticipantID KeyKind = "participant-id"
	// KeyNamedPersonID: the id of a person the row names though it is
	// someone else's, because that person's action caused it, such as
	// the host a meeting invitation to a guest names. Other columns of the
	// row quote that person (their name, their address), so their export
	// lists the row as another's, and their erasure deletes it whole:
	// clearing the key alone would leave the quotes where nothing of
	// theirs finds them. It never comes first, and only a table whose
	// rows erasure deletes may have one.
	KeyNamedPersonID KeyKind = "named-person-id"
)

// Map is the whole catalogue. Default builds it; nothing mutates a shared
// copy.
type Map struct {
	Controllers     []Controller      `json:"controllers"`
	Subjects        []SubjectInfo     `json:"data_subjects"`
	Purposes        []Purpose         `json:"purposes"`
	Categories      []Category        `json:"categories"`
	Retention       []RetentionRule   `json:"retention_rules"`
	OtherRecipients []OtherRecipient  `json:"other_recipients"`
	Security        []SecurityMeasure `json:"security_measures"`
	Tables          []Table           `json:"tables"`
}

// Controller is an organisation that decides why and how personal data is
// processed.
type Controller struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Scope   string `json:"applies_to"`
	Country string `json:"country,omitempty"`
	Contact string `json:"contact"`
}

// SubjectInfo describes a category of data subject.
type SubjectInfo struct {
	ID          Subject `json:"id"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
}

// Purpose is one of the reasons for processing the privacy notice gives.
type Purpose struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Bases are the lawful bases the purpose may rest on; which one applies
	// to a column is said by the column's Use.
	Bases []Basis `json:"bases"`
	// BasisNote says when which basis applies, for purposes with several.
	BasisNote string `json:"basis_note,omitempty"`
	// LegitimateInterest names the interest pursued, when a basis is
	// legitimate interest.
	LegitimateInterest string `json:"legitimate_interest,omitempty"`
}

// Category is a category of personal data, named in the manner of the W3C
// Data Privacy Vocabulary.
type Category struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// DPV is the matching concept of the DPV personal-data extension.
	DPV string `json:"dpv"`
	// Special marks special categories (Art. 9 GDPR).
	Special bool `json:"special,omitempty"`
}

// RetentionRule says how long data is kept and what happens at the end.
type RetentionRule struct {
	ID string `json:"id"`
	// Period runs from the Anchor column of each row; zero when the data
	// lives exactly as long as something else (see Event).
	Period Period `json:"period"`
	// Anchor is the column, in every table that uses the rule, whose time
	// starts the period.
	Anchor string `json:"anchor,omitempty"`
	// Event ends the data's life when the rule has no Anchor.
	Event string `json:"event,omitempty"`
	// AtEnd is what the retention job does when the period is over.
	AtEnd       Action `json:"at_end"`
	Description string `json:"description"`
}

// OtherRecipient is a category of recipient that is not a sub-processor,
// such as a court or an auditor.
type OtherRecipient struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// SecurityMeasure is one technical or organisational measure (Art. 32).
type SecurityMeasure struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

// Table is one table of the schema.
type Table struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Subjects are whose data the table holds; empty when it holds none.
	Subjects []Subject `json:"data_subjects"`
	// PersonKeys are the columns that find a person's rows.
	PersonKeys []PersonKey `json:"person_keys"`
	// Unkeyed explains, for a table with personal data but no person key,
	// how a person's rows go away all the same.
	Unkeyed string `json:"unkeyed,omitempty"`
	// Parents are the table's foreign keys, which order export (parents
	// first) and deletion (children first).
	Parents []ForeignKey `json:"parents"`
	// Retention names the rule that ends the rows themselves, for a table
	// without personal data whose rows must not outlive their purpose
	// all the same: an organisation left with no one to answer for it.
	// The rule runs from a column of the table; retention deletes the
	// rows, with the files their blob-key columns name.
	Retention string   `json:"retention,omitempty"`
	Columns   []Column `json:"columns"`
	// Shows are columns of parent tables that the access copy (Art. 15)
	// puts beside each of the person's own rows, because they describe
	// what the person did there, such as the name of an organisation they
	// belong to.
	Shows []Shown `json:"export_shows,omitempty"`
}

// Shown is one column of a parent table that an export shows beside a
// row, found through the row's foreign key Via.
type Shown struct {
	Via    string `json:"via"`
	Column string `json:"column"`
	// As is the name the value takes in the export.
	As   string `json:"as"`
	Note string `json:"note"`
}

// PersonKey is a column that links rows to a person.
type PersonKey struct {
	Column string  `json:"column"`
	Holds  KeyKind `json:"holds"`
}

// ForeignKey is a reference from a column to another table's column.
type ForeignKey struct {
	Column    string `json:"column"`
	Table     string `json:"references_table"`
	RefColumn string `json:"references_column"`
}

// Column is one column of a table.
type Column struct {
	Name     string `json:"name"`
	Personal bool   `json:"personal"`
	// Note says what the column holds; for a column without personal data,
	// why it has none.
	Note       string   `json:"note"`
	Categories []string `json:"categories,omitempty"`
	Uses       []Use    `json:"uses,omitempty"`
	Source     Source   `json:"source,omitempty"`
	Retention  string   `json:"retention,omitempty"`
	Erasure    *Erasure `json:"erasure,omitempty"`
	// Recipients are ids of the sub-processors that receive the value.
	Recipients []string `json:"recipients,omitempty"`
	// BlobKey marks a column whose value is a key in blob storage: export
	// adds the file itself, and deleting the row deletes the file.
	BlobKey bool `json:"blob_key,omitempty"`
	// OnlyOn names the one engine ("sqlite" or "postgres") that has the
	// column, for tables a library creates differently on each.
	OnlyOn string `json:"only_on,omitempty"`
}

// Use is one purpose a column serves and the lawful basis it rests on.
type Use struct {
	Purpose string `json:"purpose"`
	Basis   Basis  `json:"basis"`
}

// Erasure is what erasure does to a column.
type Erasure struct {
	Action Action `json:"action"`
	// Replacement is the value an anonymised column that cannot be NULL
	// takes; nil means NULL.
	Replacement *string `json:"replacement,omitempty"`
	// Reason is why a kept value must stay.
	Reason string `json:"reason,omitempty"`
	// Until names the retention rule that ends the keeping.
	Until string `json:"until,omitempty"`
}

// Period is a calendar length: years, months and days, as in AddDate.
type Period struct {
	Years  int
	Months int
	Days   int
}

// IsZero reports whether the period is empty.
func (p Period) IsZero() bool { return p == Period{} }

// After returns the moment the period ends when it starts at t.
func (p Period) After(t time.Time) time.Time { return t.AddDate(p.Years, p.Months, p.Days) }

// ISO returns the ISO 8601 duration, such as P5Y or P90D.
func (p Period) ISO() string {
	if p.IsZero() {
		return "P0D"
	}
	s := "P"
	if p.Years != 0 {
		s += fmt.Sprintf("%dY", p.Years)
	}
	if p.Months != 0 {
		s += fmt.Sprintf("%dM", p.Months)
	}
	if p.Days != 0 {
		s += fmt.Sprintf("%dD", p.Days)
	}
	return s
}

// String returns the period in words, such as "5 years".
func (p Period) String() string {
	if p.IsZero() {
		return "none"
	}
	var parts []string
	add := func(n int, unit string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+unit)
		case n != 0:
			parts = append(parts, fmt.Sprintf("%d %ss", n, unit))
		}
	}
	add(p.Years, "year")
	add(p.Months, "month")
	add(p.Days, "day")
	return strings.Join(parts, " ")
}

// MarshalJSON writes the ISO 8601 form.
func (p Period) MarshalJSON() ([]byte, error) { return []byte(`"` + p.ISO() + `"`), nil }

// Purpose returns the purpose with the id.
func (m Map) Purpose(id string) (Purpose, bool) {
	i := slices.IndexFunc(m.Purposes, func(p Purpose) bool { return p.ID == id })
	if i < 0 {
		return Purpose{}, false
	}
	return m.Purposes[i], true
}

// Category returns the category with the id.
func (m Map) Category(id string) (Category, bool) {
	i := slices.IndexFunc(m.Categories, func(c Category) bool { return c.ID == id })
	if i < 0 {
		return Category{}, false
	}
	return m.Categories[i], true
}

// HasCategory reports whether a category id exists; staff edits of the
// sub-processor registry check their categories with it.
func (m Map) HasCategory(id string) bool {
	_, ok := m.Category(id)
	return ok
}

// Rule returns the retention rule with the id.
func (m Map) Rule(id string) (RetentionRule, bool) {
	i := slices.IndexFunc(m.Retention, func(r RetentionRule) bool { return r.ID == id })
	if i < 0 {
		return RetentionRule{}, false
	}
	return m.Retention[i], true
}

// Subject returns the description of a category of data subject.
func (m Map) Subject(id Subject) (SubjectInfo, bool) {
	i := slices.IndexFunc(m.Subjects, func(s SubjectInfo) bool { return s.ID == id })
	if i < 0 {
		return SubjectInfo{}, false
	}
	return m.Subjects[i], true
}

// Table returns the table with the name.
func (m Map) Table(name string) (Table, bool) {
	i := slices.IndexFunc(m.Tables, func(t Table) bool { return t.Name == name })
	if i < 0 {
		return Table{}, false
	}
	return m.Tables[i], true
}

// Column returns the column with the name.
func (t Table) Column(name string) (Column, bool) {
	i := slices.IndexFunc(t.Columns, func(c Column) bool { return c.Name == name })
	if i < 0 {
		return Column{}, false
	}
	return t.Columns[i], true
}

// PersonalColumns returns the columns that hold personal data.
func (t Table) PersonalColumns() []Column {
	var out []Column
	for _, c := range t.Columns {
		if c.Personal {
			out = append(out, c)
		}
	}
	return out
}

// Personal reports whether the table holds personal data.
func (t Table) Personal() bool { return len(t.PersonalColumns()) > 0 }

// RowErasure says what erasure does to a person's rows: Delete removes
// them; Anonymise clears the columns marked anonymise and keeps the rest
// under legal obligation; KeepLegalObligation keeps them whole. It is ""
// for a table without personal data.
func (t Table) RowErasure() Action {
	var anonymise, keep bool
	for _, c := range t.PersonalColumns() {
		if c.Erasure == nil {
			continue
		}
		switch c.Erasure.Action {
		case Delete:
			return Delete
		case Anonymise:
			anonymise = true
		case KeepLegalObligation:
			keep = true
		}
	}
	switch {
	case anonymise:
		return Anonymise
	case keep:
		return KeepLegalObligation
	}
	return ""
}
