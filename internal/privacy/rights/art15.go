package rights

import (
	"bytes"
	"embed"
	"html/template"
	"slices"
	"time"

	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/notice"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
)

// Art15 is the information that accompanies a copy of someone's data
// (Art. 15(1) and (2) GDPR), generated from the data map and the
// sub-processor registry so that it says exactly what the code does. It
// is narrowed to the tables in which the person has rows.
type Art15 struct {
	GeneratedAt time.Time                  `json:"generated_at"`
	Controllers []datamap.RecordController `json:"controllers"`
	Purposes    []datamap.RecordPurpose    `json:"purposes"`
	Categories  []datamap.RecordCategory   `json:"categories"`
	Recipients  []datamap.RecordRecipient  `json:"recipients"`
	Others      []datamap.OtherRecipient   `json:"other_recipients"`
	Transfers   []datamap.RecordTransfer   `json:"third_country_transfers"`
	Retention   []datamap.RecordTimeLimit  `json:"retention"`
	Sources     []SourceInfo               `json:"sources"`
	Rights      notice.Section             `json:"rights"`
	Complaint   notice.Section             `json:"complaint"`
	Automated   string                     `json:"automated_decisions"`
	Tables      []string                   `json:"tables_with_your_data"`
}

// SourceInfo says where one kind of data comes from.
type SourceInfo struct {
	Source      datamap.Source `json:"source"`
	Description string         `json:"description"`
	Categories  []string       `json:"categories"`
}

// NoAutomatedDecisions is the answer to Art. 15(1)(h).
const NoAutomatedDecisions = "No decision about you is made by automated means alone, profiling included, that has legal or similarly significant effects on you."

// BuildArt15 writes the information for a person whose rows are in
// tables (all tables when nil).
func BuildArt15(m datamap.Map, subprocessors []vendors.Subprocessor, tables []string, now time.Time) Art15 {
	if tables != nil {
		narrowed := m
		narrowed.Tables = slices.DeleteFunc(slices.Clone(m.Tables), func(t datamap.Table) bool { return !slices.Contains(tables, t.Name) })
		m = narrowed
	}
	rec := datamap.BuildRecord(m, subprocessors)
	doc := notice.Build(m, subprocessors)
	a := Art15{
		GeneratedAt: now.UTC(), Controllers: rec.Controllers, Categories: rec.Categories, Recipients: rec.Subprocessors,
		Others: rec.OtherRecipients, Transfers: rec.Transfers, Automated: NoAutomatedDecisions, Tables: tables,
	}
	for _, p := range rec.Purposes {
		if len(p.Categories) > 0 {
			a.Purposes = append(a.Purposes, p)
		}
	}
	for _, l := range rec.TimeLimits {
		if len(l.Columns) > 0 {
			a.Retention = append(a.Retention, l)
		}
	}
	for _, s := range doc.Sections {
		switch s.ID {
		case "rights":
			a.Rights = s
		case "complaints":
			a.Complaint = s
		}
	}
	for _, src := range []datamap.Source{datamap.Provided, datamap.Observed, datamap.Derived} {
		info := SourceInfo{Source: src, Description: sourceText(src)}
		for _, c := range rec.Categories {
			if slices.Contains(c.Sources, src) {
				info.Categories = append(info.Categories, c.Name)
			}
		}
		if len(info.Categories) > 0 {
			a.Sources = append(a.Sources, info)
		}
	}
	return a
}

func sourceText(s datamap.Source) string {
	switch s {
	case datamap.Provided:
		return "You gave it to us, or someone acting for you did, such as a host who typed your address to invite you."
	case datamap.Observed:
		return "We recorded it as you used the service."
	case datamap.Derived:
		return "We worked it out or assigned it ourselves, from other data."
	}
	return string(s)
}

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"section": func(s notice.Section) []notice.Block { return s.Blocks },
}).ParseFS(templateFS, "templates/*.html"))

// HTML renders the information as a page of its own.
func (a Art15) HTML() ([]byte, error) {
	var b bytes.Buffer
	err := templates.ExecuteTemplate(&b, "art15.html", a)
	return b.Bytes(), err
}

// IndexTable is one table of an export as the index page lists it.
type IndexTable struct {
	Name        string
	Description string
	Rows        int64
	CSV         string
}

// IndexFile is one stored file in an export.
type IndexFile struct {
	Path        string
	ContentType string
	Size        int64
}

// Index is the human-readable front page of an export.
type Index struct {
	GeneratedAt time.Time
	Kind        string
	Tables      []IndexTable
	Files       []IndexFile
	Calendar    bool
}

// HTML renders the index page.
func (ix Index) HTML() ([]byte, error) {
	var b bytes.Buffer
	err := templates.ExecuteTemplate(&b, "index.html", ix)
	return b.Bytes(), err
}

// PortableSchema is the JSON Schema of portable.json, shipped in every
// export beside it.
//
//go:embed portable.schema.json
var PortableSchema []byte

// PortableFormat names the version of portable.json's layout.
const PortableFormat = "sessions-portable/1"

// Export kinds.
const (
	// ExportAccess is the whole copy (Art. 15).
	ExportAccess = "access"
	// ExportPortability is only what the person gave us (Art. 20).
	ExportPortability = "portability"
)

// Export states.
const (
	ExportQueued  = "queued"
	ExportWorking = "working"
	ExportReady   = "ready"
	ExportFailed  = "failed"
	ExportExpired = "expired"
)

// ExportLinkLife is how long a ready export can be downloaded.
const ExportLinkLife = 7 * 24 * time.Hour

// Export is one export job as the privacy centre shows it.
type Export struct {
	ID         string     `json:"id"`
	PersonID   string     `json:"-"`
	Kind       string     `json:"kind"`
	State      string     `json:"state"`
	RowsDone   int64      `json:"rows_done"`
	RowsTotal  int64      `json:"rows_total"`
	BlobKey    string     `json:"-"`
	Size       int64      `json:"size_bytes"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
}

// Percent is how far the export has come, 0 to 100.
func (x Export) Percent() int {
	switch {
	case x.State == ExportReady:
		return 100
	case x.RowsTotal <= 0:
		return 0
	}
	p := int(x.RowsDone * 100 / x.RowsTotal)
	return min(max(p, 0), 99)
}

// Downloadable reports whether the file may be fetched at now.
func (x Export) Downloadable(now time.Time) bool {
	return x.State == ExportReady && x.BlobKey != "" && x.ExpiresAt != nil && now.Before(*x.ExpiresAt)
}
