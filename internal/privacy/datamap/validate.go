package datamap

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/sessionshq/sessions/internal/privacy/vendors"
)

var (
	idPattern       = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	categoryPattern = regexp.MustCompile(`^[a-z]+\.[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
)

// Problems checks that the catalogue is whole and consistent with itself
// and with the sub-processor registry, and describes every problem found.
// Nothing is wrong when it returns none.
func (m Map) Problems() []string {
	var p problems
	m.checkVocabulary(&p)
	registry := map[string]vendors.Subprocessor{}
	for _, v := range vendors.Seed() {
		registry[v.ID] = v
		for _, c := range v.DataCategories {
			if !m.HasCategory(c) {
				p.add("sub-processor %s: unknown category %q", v.ID, c)
			}
		}
		if _, ok := m.Purpose(v.Purpose); !ok {
			p.add("sub-processor %s: unknown purpose %q", v.ID, v.Purpose)
		}
	}
	tables := map[string]bool{}
	for _, t := range m.Tables {
		if tables[t.Name] {
			p.add("table %s is declared twice", t.Name)
		}
		tables[t.Name] = true
		m.checkTable(&p, t, registry)
	}
	if _, err := m.DeletionOrder(); err != nil {
		p.add("%v", err)
	}
	return p.list
}

type problems struct{ list []string }

func (p *problems) add(format string, args ...any) {
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (m Map) checkVocabulary(p *problems) {
	seen := map[string]bool{}
	unique := func(kind, id string) {
		if seen[kind+" "+id] {
			p.add("%s %s is declared twice", kind, id)
		}
		seen[kind+" "+id] = true
	}
	if len(m.Controllers) == 0 {
		p.add("no controller is declared")
	}
	for _, s := range m.Subjects {
		unique("subject", string(s.ID))
		if s.Name == "" || s.Description == "" {
			p.add("subject %s: name and description are required", s.ID)
		}
	}
	for _, pu := range m.Purposes {
		unique("purpose", pu.ID)
		if !idPattern.MatchString(pu.ID) {
			p.add("purpose %q: id must be lower-case words joined by hyphens", pu.ID)
		}
		if pu.Name == "" || pu.Description == "" {
			p.add("purpose %s: name and description are required", pu.ID)
		}
		if len(pu.Bases) == 0 {
			p.add("purpose %s: no lawful basis", pu.ID)
		}
		for _, b := range pu.Bases {
			if !b.valid() {
				p.add("purpose %s: unknown lawful basis %q", pu.ID, b)
			}
		}
		if slices.Contains(pu.Bases, LegitimateInterest) && pu.LegitimateInterest == "" {
			p.add("purpose %s: rests on legitimate interest but does not say which", pu.ID)
		}
		if len(pu.Bases) > 1 && pu.BasisNote == "" {
			p.add("purpose %s: several bases but no note on when each applies", pu.ID)
		}
	}
	for _, c := range m.Categories {
		unique("category", c.ID)
		if !categoryPattern.MatchString(c.ID) {
			p.add("category %q: id must read group.kind", c.ID)
		}
		if c.Name == "" || c.Description == "" || !strings.HasPrefix(c.DPV, "pd:") {
			p.add("category %s: name, description and a pd: concept are required", c.ID)
		}
	}
	for _, r := range m.Retention {
		unique("retention rule", r.ID)
		switch {
		case r.Anchor != "" && r.Period.IsZero():
			p.add("retention rule %s: an anchor without a period", r.ID)
		case r.Anchor == "" && r.Event == "":
			p.add("retention rule %s: needs an anchor column and a period, or an event", r.ID)
		case r.Anchor == "" && !r.Period.IsZero():
			p.add("retention rule %s: a period needs an anchor column to run from", r.ID)
		}
		if r.AtEnd != Delete && r.AtEnd != Anonymise {
			p.add("retention rule %s: at the end data must be deleted or anonymised, not %q", r.ID, r.AtEnd)
		}
		if r.Description == "" {
			p.add("retention rule %s: no description", r.ID)
		}
	}
	for _, o := range m.OtherRecipients {
		unique("recipient", o.ID)
	}
	for _, s := range m.Security {
		unique("security measure", s.ID)
	}
}

func (m Map) checkTable(p *problems, t Table, registry map[string]vendors.Subprocessor) {
	if t.Description == "" {
		p.add("table %s: no description", t.Name)
	}
	cols := map[string]bool{}
	for _, c := range t.Columns {
		if cols[c.Name] {
			p.add("column %s.%s is declared twice", t.Name, c.Name)
		}
		cols[c.Name] = true
	}
	personal := t.Personal()
	if t.Retention != "" {
		rule, ok := m.Rule(t.Retention)
		switch {
		case personal:
			p.add("table %s: holds personal data, whose columns name their own retention, yet names a rule for its rows", t.Name)
		case !ok:
			p.add("table %s: unknown retention rule %q", t.Name, t.Retention)
		case rule.Anchor == "" || rule.AtEnd != Delete:
			p.add("table %s: the rule for its rows, %s, must delete them after a period", t.Name, rule.ID)
		case !cols[rule.Anchor]:
			p.add("table %s: retention rule %s runs from %s, which the table lacks", t.Name, rule.ID, rule.Anchor)
		}
	}
	for _, s := range t.Subjects {
		if _, ok := m.Subject(s); !ok {
			p.add("table %s: unknown data subject %q", t.Name, s)
		}
	}
	switch {
	case personal && len(t.Subjects) == 0:
		p.add("table %s: holds personal data but names no data subject", t.Name)
	case !personal && len(t.Subjects) > 0:
		p.add("table %s: names data subjects but no column is personal", t.Name)
	case personal && len(t.PersonKeys) == 0 && t.Unkeyed == "":
		p.add("table %s: holds personal data but has no person key and does not say why", t.Name)
	case !personal && (len(t.PersonKeys) > 0 || t.Unkeyed != ""):
		p.add("table %s: has person keys but no personal column", t.Name)
	}
	for i, k := range t.PersonKeys {
		c, ok := t.Column(k.Column)
		switch {
		case !ok:
			p.add("table %s: person key %s is not a column", t.Name, k.Column)
		case !c.Personal:
			p.add("table %s: person key %s is not marked personal", t.Name, k.Column)
		}
		if k.Holds != KeyPersonID && k.Holds != KeyEmail && k.Holds != KeyParticipantID && k.Holds != KeyNamedPersonID {
			p.add("table %s: person key %s holds unknown %q", t.Name, k.Column, k.Holds)
		}
		if k.Holds == KeyNamedPersonID && (i == 0 || t.RowErasure() != Delete) {
			p.add("table %s: person key %s names someone the row quotes, so it needs an owner key before it and rows that erasure deletes", t.Name, k.Column)
		}
	}
	for _, fk := range t.Parents {
		if !cols[fk.Column] {
			p.add("table %s: foreign key column %s is not a column", t.Name, fk.Column)
		}
		parent, ok := m.Table(fk.Table)
		if !ok {
			p.add("table %s: foreign key to unknown table %s", t.Name, fk.Table)
		} else if _, ok := parent.Column(fk.RefColumn); !ok {
			p.add("table %s: foreign key to unknown column %s.%s", t.Name, fk.Table, fk.RefColumn)
		} else if namesPerson(parent, fk.RefColumn) && !slices.ContainsFunc(t.PersonKeys, func(k PersonKey) bool { return k.Column == fk.Column }) {
			// A reference to a person that is no person key leaves the
			// row out of that person's export and erasure.
			p.add("table %s: %s refers to a person (%s.%s) but is not a person key", t.Name, fk.Column, fk.Table, fk.RefColumn)
		}
	}
	for _, s := range t.Shows {
		i := slices.IndexFunc(t.Parents, func(fk ForeignKey) bool { return fk.Column == s.Via })
		if i < 0 {
			p.add("table %s: shows %s through %s, which is not a foreign key", t.Name, s.Column, s.Via)
		} else if parent, ok := m.Table(t.Parents[i].Table); ok {
			if _, ok := parent.Column(s.Column); !ok {
				p.add("table %s: shows unknown column %s.%s", t.Name, parent.Name, s.Column)
			}
		}
		if s.As == "" || cols[s.As] || s.Note == "" {
			p.add("table %s: a shown column needs a name of its own and a note", t.Name)
		}
	}
	rowDeleted := t.RowErasure() == Delete
	for _, c := range t.Columns {
		where := t.Name + "." + c.Name
		if c.OnlyOn != "" && c.OnlyOn != "sqlite" && c.OnlyOn != "postgres" {
			p.add("%s: only_on must be sqlite or postgres", where)
		}
		if c.Note == "" {
			p.add("%s: no note", where)
		}
		if !c.Personal {
			if len(c.Categories) > 0 || len(c.Uses) > 0 || c.Retention != "" || c.Erasure != nil || len(c.Recipients) > 0 {
				p.add("%s: not personal, yet has categories, uses, retention, erasure or recipients", where)
			}
			if c.Source != "" && (c.Source != Provided || len(t.PersonKeys) == 0) {
				p.add("%s: not personal, so its source can only be provided, by the person of its row", where)
			}
			continue
		}
		m.checkPersonalColumn(p, t, c, where, registry)
		if rowDeleted && c.Erasure != nil && c.Erasure.Action != Delete {
			p.add("%s: the table's rows are deleted at erasure, so the column cannot be %s", where, c.Erasure.Action)
		}
	}
}

func (m Map) checkPersonalColumn(p *problems, t Table, c Column, where string, registry map[string]vendors.Subprocessor) {
	if len(c.Categories) == 0 {
		p.add("%s: personal but no category", where)
	}
	for _, cat := range c.Categories {
		if !m.HasCategory(cat) {
			p.add("%s: unknown category %q", where, cat)
		}
	}
	if len(c.Uses) == 0 {
		p.add("%s: personal but no purpose", where)
	}
	for _, u := range c.Uses {
		pu, ok := m.Purpose(u.Purpose)
		if !ok {
			p.add("%s: unknown purpose %q", where, u.Purpose)
			continue
		}
		if !slices.Contains(pu.Bases, u.Basis) {
			p.add("%s: purpose %s does not rest on %q", where, u.Purpose, u.Basis)
		}
	}
	if !c.Source.valid() {
		p.add("%s: personal but source %q is not provided, observed or derived", where, c.Source)
	}
	rule, ok := m.Rule(c.Retention)
	switch {
	case c.Retention == "":
		p.add("%s: personal but no retention rule", where)
	case !ok:
		p.add("%s: unknown retention rule %q", where, c.Retention)
	case rule.Anchor != "":
		if _, ok := t.Column(rule.Anchor); !ok {
			p.add("%s: retention rule %s runs from %s, which the table lacks", where, rule.ID, rule.Anchor)
		}
	case len(t.PersonKeys) == 0:
		p.add("%s: no person key finds these rows, so the retention rule must have a fixed period", where)
	}
	e := c.Erasure
	switch {
	case e == nil:
		p.add("%s: personal but no erasure action", where)
	case e.Action == Delete || e.Action == Anonymise:
		if e.Reason != "" || e.Until != "" {
			p.add("%s: only kept values take a reason and an end", where)
		}
		if e.Replacement != nil && e.Action != Anonymise {
			p.add("%s: only anonymised values take a replacement", where)
		}
	case e.Action == KeepLegalObligation:
		if e.Reason == "" {
			p.add("%s: kept under legal obligation without a reason", where)
		}
		if _, ok := m.Rule(e.Until); !ok {
			p.add("%s: kept until unknown retention rule %q", where, e.Until)
		}
	default:
		p.add("%s: unknown erasure action %q", where, e.Action)
	}
	for _, id := range c.Recipients {
		v, ok := registry[id]
		if !ok {
			p.add("%s: unknown recipient %q", where, id)
			continue
		}
		for _, cat := range c.Categories {
			if !slices.Contains(v.DataCategories, cat) {
				p.add("%s: recipient %s is not registered to receive %s", where, id, cat)
			}
		}
	}
}

// Compare checks the catalogue against a live schema (table name to column
// names, as database.DB.Schema returns it) on the given engine, "sqlite"
// or "postgres". It names, as table.column, every column the catalogue
// lacks and every declared column the schema does not have.
func (m Map) Compare(schema map[string][]string, engine string) []string {
	var out []string
	for table, cols := range schema {
		t, ok := m.Table(table)
		for _, c := range cols {
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: in the schema but not in the data map (the whole table is missing)", table, c))
				continue
			}
			if _, ok := t.Column(c); !ok {
				out = append(out, fmt.Sprintf("%s.%s: in the schema but not in the data map", table, c))
			}
		}
	}
	for _, t := range m.Tables {
		live, ok := schema[t.Name]
		for _, c := range t.Columns {
			if c.OnlyOn != "" && c.OnlyOn != engine {
				continue
			}
			if !ok || !slices.Contains(live, c.Name) {
				out = append(out, fmt.Sprintf("%s.%s: in the data map but not in the %s schema", t.Name, c.Name, engine))
			}
		}
	}
	sort.Strings(out)
	return out
}

// DeletionOrder returns every table, children before the parents they
// reference, so that deleting in this order never breaks a foreign key.
// Export walks it backwards. Ties are broken by name, so the order is
// stable.
func (m Map) DeletionOrder() ([]string, error) {
	// waiting[t] counts the tables that reference t and are not yet placed.
	waiting := map[string]int{}
	for _, t := range m.Tables {
		waiting[t.Name] += 0
		for _, parent := range m.parentsOf(t) {
			waiting[parent]++
		}
	}
	var ready, order []string
	for name, n := range waiting {
		if n == 0 {
			ready = append(ready, name)
		}
	}
	for len(ready) > 0 {
		sort.Strings(ready)
		name := ready[0]
		ready = ready[1:]
		order = append(order, name)
		t, _ := m.Table(name)
		for _, parent := range m.parentsOf(t) {
			if waiting[parent]--; waiting[parent] == 0 {
				ready = append(ready, parent)
			}
		}
	}
	if len(order) != len(waiting) {
		var stuck []string
		for name, n := range waiting {
			if n > 0 {
				stuck = append(stuck, name)
			}
		}
		sort.Strings(stuck)
		return nil, fmt.Errorf("foreign keys form a cycle among %s", strings.Join(stuck, ", "))
	}
	return order, nil
}

// parentsOf lists the declared tables t references, once each. A
// self-reference orders nothing between tables, and a reference to an
// undeclared table is reported by Problems.
func (m Map) parentsOf(t Table) []string {
	var out []string
	for _, fk := range t.Parents {
		if fk.Table == t.Name || slices.Contains(out, fk.Table) {
			continue
		}
		if _, ok := m.Table(fk.Table); ok {
			out = append(out, fk.Table)
		}
	}
	return out
}

// namesPerson reports whether column of t is the id of a person: an
// account id or a place in a meeting that t's own rows define.
func namesPerson(t Table, column string) bool {
	return slices.ContainsFunc(t.PersonKeys, func(k PersonKey) bool {
		return k.Column == column && (k.Holds == KeyPersonID || k.Holds == KeyParticipantID)
	})
}
