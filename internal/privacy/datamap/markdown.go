package datamap

import (
	"fmt"
	"slices"
	"strings"
)

// Markdown renders the record as a Markdown document.
func (r Record) Markdown() []byte {
	var w mdWriter
	w.line("# %s", r.Title)
	w.blank()
	w.line("Kept under Article 30 of the GDPR and generated from the product's data map, the catalogue of every table and column it stores, so that it changes whenever the product does.")
	w.blank()

	w.line("## 1. Controllers")
	w.blank()
	w.row("Name", "Role", "Applies to", "Country", "Contact")
	w.rule(5)
	for _, c := range r.Controllers {
		w.row(c.Name, c.Role, c.Scope, orDash(c.CountryName), c.Contact)
	}
	w.blank()

	w.line("## 2. Purposes and lawful bases")
	w.blank()
	for _, p := range r.Purposes {
		w.line("### %s (`%s`)", p.Name, p.ID)
		w.blank()
		w.line("%s", p.Description)
		w.blank()
		w.line("- Lawful basis: %s", p.BasisLabels())
		if p.BasisNote != "" {
			w.line("- When each applies: %s", p.BasisNote)
		}
		if p.LegitimateInterest != "" {
			w.line("- Legitimate interest: %s", p.LegitimateInterest)
		}
		if len(p.Categories) == 0 {
			w.line("- Stored personal data used: none in this version")
		} else {
			w.line("- Stored personal data used: %s", codes(p.Categories))
		}
		w.blank()
	}

	w.line("## 3. Categories of data subjects")
	w.blank()
	w.row("Data subjects", "Who they are", "Stored in")
	w.rule(3)
	for _, s := range r.Subjects {
		where := "nothing stored in this version"
		if len(s.Tables) > 0 {
			where = codes(s.Tables)
		}
		w.row(fmt.Sprintf("%s (`%s`)", s.Name, s.ID), s.Description, where)
	}
	w.blank()

	w.line("## 4. Categories of personal data")
	w.blank()
	w.row("Category", "DPV", "Source", "Stored in", "Purposes")
	w.rule(5)
	for _, c := range r.Categories {
		name := fmt.Sprintf("%s (`%s`)", c.Name, c.ID)
		if c.Special {
			name += ", special category"
		}
		sources := make([]string, len(c.Sources))
		for i, s := range c.Sources {
			sources[i] = string(s)
		}
		w.row(name, c.DPV, strings.Join(sources, ", "), codes(c.Columns), codes(c.Purposes))
	}
	w.blank()

	w.line("## 5. Recipients")
	w.blank()
	w.line("### Sub-processors")
	w.blank()
	w.row("Name", "Activity", "Country", "Safeguard", "Data it may receive")
	w.rule(5)
	for _, s := range r.Subprocessors {
		data := "none"
		if len(s.Categories) > 0 {
			data = codes(s.Categories)
		}
		w.row(s.Name, s.Activity, s.CountryName, s.MechanismLabel, data)
	}
	w.blank()
	w.line("### Other recipients")
	w.blank()
	for _, o := range r.OtherRecipients {
		w.line("- **%s.** %s", o.Name, o.Description)
	}
	w.blank()

	w.line("## 6. Transfers to third countries")
	w.blank()
	if len(r.Transfers) == 0 {
		w.line("No personal data leaves the European Economic Area.")
	} else {
		w.row("Recipient", "Country", "Safeguard")
		w.rule(3)
		for _, t := range r.Transfers {
			w.row(t.Name, t.CountryName, t.MechanismLabel)
		}
	}
	w.blank()

	w.line("## 7. Time limits for erasure")
	w.blank()
	for _, t := range r.TimeLimits {
		w.line("### `%s`", t.ID)
		w.blank()
		w.line("%s", t.Description)
		w.blank()
		if t.Anchor != "" {
			w.line("- Kept for: %s (%s) from `%s`", t.PeriodText, t.Period.ISO(), t.Anchor)
		} else {
			w.line("- Kept until: %s", t.Event)
		}
		w.line("- Then: %s", t.AtEnd)
		w.line("- Applies to: %s", codes(t.Columns))
		w.blank()
	}

	w.line("## 8. Technical and organisational security measures")
	w.blank()
	for _, s := range r.Security {
		w.line("- **%s.** %s", s.Title, s.Description)
	}
	w.blank()

	w.line("## Appendix: data inventory")
	w.blank()
	w.line("Every table and column the product stores. Columns marked \"no\" hold no personal data; the note says why.")
	w.blank()
	for _, t := range r.Inventory {
		w.line("### `%s`", t.Name)
		w.blank()
		w.line("%s", t.Description)
		w.blank()
		if !t.Personal() {
			w.line("- Personal data: none")
			if t.Retention != "" {
				w.line("- The rows themselves end under: `%s`", t.Retention)
			}
		} else {
			subjects := make([]string, len(t.Subjects))
			for i, s := range t.Subjects {
				subjects[i] = string(s)
			}
			w.line("- Whose data: %s", codes(subjects))
			if len(t.PersonKeys) > 0 {
				keys := make([]string, len(t.PersonKeys))
				for i, k := range t.PersonKeys {
					keys[i] = fmt.Sprintf("`%s` (%s)", k.Column, k.Holds)
				}
				w.line("- A person's rows are found by: %s", strings.Join(keys, ", "))
			} else {
				w.line("- A person's rows are found by: no column. %s", t.Unkeyed)
			}
			w.line("- On erasure the rows are: %s", rowErasureText(t.RowErasure()))
		}
		if len(t.Parents) > 0 {
			refs := make([]string, len(t.Parents))
			for i, fk := range t.Parents {
				refs[i] = fmt.Sprintf("`%s` → `%s.%s`", fk.Column, fk.Table, fk.RefColumn)
			}
			w.line("- References: %s", strings.Join(refs, ", "))
		}
		w.blank()
		w.row("Column", "Personal", "Categories", "Purposes (basis)", "Source", "Retention", "Erasure", "Recipients", "Note")
		w.rule(9)
		for _, c := range t.Columns {
			name := fmt.Sprintf("`%s`", c.Name)
			if c.OnlyOn != "" {
				name += " (" + c.OnlyOn + " only)"
			}
			if !c.Personal {
				w.row(name, "no", "", "", string(c.Source), "", "", "", c.Note)
				continue
			}
			uses := make([]string, len(c.Uses))
			for i, u := range c.Uses {
				uses[i] = fmt.Sprintf("`%s` (%s)", u.Purpose, u.Basis)
			}
			erasure := ""
			if c.Erasure != nil {
				erasure = string(c.Erasure.Action)
				if c.Erasure.Until != "" {
					erasure += " until `" + c.Erasure.Until + "`"
				}
			}
			w.row(name, "yes", codes(c.Categories), strings.Join(uses, ", "), string(c.Source),
				"`"+c.Retention+"`", erasure, codes(c.Recipients), c.Note)
		}
		w.blank()
		for _, s := range t.Shows {
			via := t.Parents[slices.IndexFunc(t.Parents, func(fk ForeignKey) bool { return fk.Column == s.Via })]
			w.line("The access copy shows `%s` beside each row, from `%s.%s` through `%s`: %s", s.As, via.Table, s.Column, s.Via, s.Note)
			w.blank()
		}
		// Columns kept for the same reason share one paragraph.
		var reasons []string
		kept := map[string][]string{}
		for _, c := range t.Columns {
			if c.Erasure == nil || c.Erasure.Reason == "" {
				continue
			}
			if _, ok := kept[c.Erasure.Reason]; !ok {
				reasons = append(reasons, c.Erasure.Reason)
			}
			kept[c.Erasure.Reason] = append(kept[c.Erasure.Reason], c.Name)
		}
		for _, reason := range reasons {
			w.line("Why %s %s kept at erasure: %s", codes(kept[reason]), isAre(len(kept[reason])), reason)
			w.blank()
		}
	}
	return []byte(strings.TrimRight(w.b.String(), "\n") + "\n")
}

func rowErasureText(a Action) string {
	switch a {
	case Delete:
		return "deleted"
	case Anonymise:
		return "kept, with the columns marked anonymise cleared and the rest kept under legal obligation"
	case KeepLegalObligation:
		return "kept under legal obligation"
	}
	return "untouched"
}

// mdWriter builds Markdown line by line.
type mdWriter struct{ b strings.Builder }

func (w *mdWriter) line(format string, args ...any) {
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

func (w *mdWriter) blank() { w.b.WriteByte('\n') }

// row writes one table row; a pipe inside a cell would end it early.
func (w *mdWriter) row(cells ...string) {
	w.b.WriteString("|")
	for _, c := range cells {
		w.b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
	}
	w.b.WriteByte('\n')
}

func (w *mdWriter) rule(n int) {
	w.b.WriteString("|" + strings.Repeat(" --- |", n) + "\n")
}

func codes(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "`" + id + "`"
	}
	return strings.Join(out, ", ")
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
