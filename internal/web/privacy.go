package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sessionshq/sessions/internal/country"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
)

// The privacy centre shows what the data map declares and the
// sub-processor registry holds; nothing on these pages is written by hand,
// so it cannot drift from what the product does.

// subprocessorJSON is one registry entry as the API shows it.
type subprocessorJSON struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Activity       string    `json:"activity"`
	Purpose        string    `json:"purpose"`
	Country        string    `json:"country"`
	CountryName    string    `json:"country_name"`
	Mechanism      string    `json:"transfer_mechanism"`
	MechanismLabel string    `json:"transfer_mechanism_label"`
	ThirdCountry   bool      `json:"third_country"`
	DataCategories []string  `json:"data_categories"`
	Website        string    `json:"website"`
	Active         bool      `json:"active"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func newSubprocessorJSON(s vendors.Subprocessor) subprocessorJSON {
	cats := s.DataCategories
	if cats == nil {
		cats = []string{}
	}
	return subprocessorJSON{
		ID: s.ID, Name: s.Name, Activity: s.Activity, Purpose: s.Purpose,
		Country: s.Country, CountryName: country.Name(s.Country),
		Mechanism: string(s.Mechanism), MechanismLabel: s.Mechanism.Label(), ThirdCountry: s.ThirdCountry(),
		DataCategories: cats, Website: s.Website, Active: s.Active,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

// subprocessorListJSON is the body of both registry listings.
type subprocessorListJSON struct {
	Subprocessors []subprocessorJSON `json:"subprocessors"`
}

func newSubprocessorListJSON(list []vendors.Subprocessor) subprocessorListJSON {
	out := subprocessorListJSON{Subprocessors: make([]subprocessorJSON, 0, len(list))}
	for _, s := range list {
		out.Subprocessors = append(out.Subprocessors, newSubprocessorJSON(s))
	}
	return out
}

// ---------- Public pages and API ----------

// idName pairs an id with its name for people, for templates.
type idName struct{ ID, Name string }

type privacyCategoryRow struct {
	Category datamap.RecordCategory
	Purposes []idName
}

// privacyView is the privacy centre's landing page.
type privacyView struct {
	Controllers   []datamap.RecordController
	Categories    []privacyCategoryRow
	Purposes      []datamap.RecordPurpose
	Subprocessors int
	Transfers     int
}

func (s *Server) privacyPage(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.Services.Console.ProcessingRecord(r.Context())
	if err != nil {
		return err
	}
	purposeName := map[string]string{}
	for _, p := range rec.Purposes {
		purposeName[p.ID] = p.Name
	}
	v := privacyView{
		Controllers:   rec.Controllers,
		Purposes:      rec.Purposes,
		Subprocessors: len(rec.Subprocessors),
		Transfers:     len(rec.Transfers),
	}
	for _, c := range rec.Categories {
		row := privacyCategoryRow{Category: c}
		for _, id := range c.Purposes {
			row.Purposes = append(row.Purposes, idName{id, purposeName[id]})
		}
		v.Categories = append(v.Categories, row)
	}
	return s.pages.render(w, r, http.StatusOK, "privacy", view{
		Title:       "Privacy centre",
		Description: "Who is responsible for your data, what the product stores, why, for how long and who else receives it.",
		Section:     "privacy",
		Data:        v,
	})
}

// subprocessorRow is one registry entry with its categories named.
type subprocessorRow struct {
	vendors.Subprocessor
	CountryName    string
	MechanismLabel string
	Categories     []idName
	PurposeName    string
}

func newSubprocessorRow(m datamap.Map, s vendors.Subprocessor) subprocessorRow {
	row := subprocessorRow{Subprocessor: s, CountryName: country.Name(s.Country), MechanismLabel: s.Mechanism.Label()}
	for _, id := range s.DataCategories {
		name := id
		if c, ok := m.Category(id); ok {
			name = c.Name
		}
		row.Categories = append(row.Categories, idName{id, name})
	}
	if p, ok := m.Purpose(s.Purpose); ok {
		row.PurposeName = p.Name
	}
	return row
}

func (s *Server) subprocessorsPage(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Services.Console.PublicSubprocessors(r.Context())
	if err != nil {
		return err
	}
	m := s.Services.Console.DataMap()
	rows := make([]subprocessorRow, 0, len(list))
	for _, sp := range list {
		rows = append(rows, newSubprocessorRow(m, sp))
	}
	return s.pages.render(w, r, http.StatusOK, "privacy_subprocessors", view{
		Title:       "Sub-processors",
		Description: "The companies that process personal data on our behalf, where they are and the safeguard for each transfer.",
		Section:     "privacy",
		Data:        rows,
	})
}

func (s *Server) subprocessorsAPI(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Services.Console.PublicSubprocessors(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newSubprocessorListJSON(list))
}

// recordView is the record of processing with lookups for the template.
type recordView struct {
	datamap.Record
	CategoryNames map[string]string
	PurposeNames  map[string]string
	// TableLinks is where each table of the inventory is described: the
	// inventory has pages of its own (inventoryPages).
	TableLinks map[string]string
	// Page, Number and Pages are one page of the inventory, on its pages.
	Page          []datamap.RecordTable
	Number, Pages int
}

func (v recordView) Prev() int { return v.Number - 1 }
func (v recordView) Next() int { return v.Number + 1 }

// inventoryColumnsPerPage bounds a page of the data inventory. Every
// column is a table row of about a kilobyte of HTML, so a page stays
// near 100 KB, readable on a phone; a table is never split.
const inventoryColumnsPerPage = 90

// inventoryPages cuts the inventory into pages of whole tables.
func inventoryPages(tables []datamap.RecordTable) [][]datamap.RecordTable {
	var pages [][]datamap.RecordTable
	var cur []datamap.RecordTable
	n := 0
	for _, t := range tables {
		if len(cur) > 0 && n+len(t.Columns) > inventoryColumnsPerPage {
			pages, cur, n = append(pages, cur), nil, 0
		}
		cur = append(cur, t)
		n += len(t.Columns)
	}
	if len(cur) > 0 {
		pages = append(pages, cur)
	}
	return pages
}

// recordOf reads the record and what its pages need to name things and
// link tables to the inventory's pages.
func (s *Server) recordOf(r *http.Request) (recordView, [][]datamap.RecordTable, error) {
	rec, err := s.Services.Console.ProcessingRecord(r.Context())
	if err != nil {
		return recordView{}, nil, err
	}
	m := s.Services.Console.DataMap()
	v := recordView{Record: rec, CategoryNames: map[string]string{}, PurposeNames: map[string]string{}, TableLinks: map[string]string{}}
	for _, c := range m.Categories {
		v.CategoryNames[c.ID] = c.Name
	}
	for _, p := range m.Purposes {
		v.PurposeNames[p.ID] = p.Name
	}
	pages := inventoryPages(rec.Inventory)
	for i, page := range pages {
		for _, t := range page {
			v.TableLinks[t.Name] = fmt.Sprintf("/privacy/record/inventory?page=%d#table-%s", i+1, t.Name)
		}
	}
	return v, pages, nil
}

func (s *Server) recordPage(w http.ResponseWriter, r *http.Request) error {
	v, _, err := s.recordOf(r)
	if err != nil {
		return err
	}
	return s.pages.render(w, r, http.StatusOK, "privacy_record", view{
		Title:       "Record of processing activities",
		Description: "The record of processing activities, generated from the product's data map.",
		Section:     "privacy",
		Data:        v,
	})
}

// recordInventoryPage is one page of the record's data inventory:
// ?page=N, the first when none is given.
func (s *Server) recordInventoryPage(w http.ResponseWriter, r *http.Request) error {
	v, pages, err := s.recordOf(r)
	if err != nil {
		return err
	}
	n := 1
	if raw := r.URL.Query().Get("page"); raw != "" {
		if n, err = strconv.Atoi(raw); err != nil || n < 1 {
			return &errs.Error{Code: errs.Invalid, Message: "the page number is not valid",
				Fields: map[string]string{"page": "must be a whole number from 1"}}
		}
	}
	if n > len(pages) {
		return errs.E(errs.NotFound, "the data inventory has %d pages", len(pages))
	}
	v.Page, v.Number, v.Pages = pages[n-1], n, len(pages)
	return s.pages.render(w, r, http.StatusOK, "privacy_record_inventory", view{
		Title:       fmt.Sprintf("Data inventory, page %d of %d", n, len(pages)),
		Description: "Every table and column the product stores, from the record of processing activities.",
		Section:     "privacy",
		Data:        v,
	})
}

func (s *Server) datamapAPI(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.Services.Console.ProcessingRecord(r.Context())
	if err != nil {
		return err
	}
	body, err := rec.JSON()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, err = w.Write(body)
	return err
}

// ---------- Staff: the registry ----------

// subprocessorEditJSON is the body of PUT /api/admin/subprocessors/{id}.
// Every field is required: PUT replaces all that staff may edit.
type subprocessorEditJSON struct {
	Activity       *string   `json:"activity"`
	Country        *string   `json:"country"`
	Mechanism      *string   `json:"transfer_mechanism"`
	DataCategories *[]string `json:"data_categories"`
	Active         *bool     `json:"active"`
}

func (s *Server) adminSubprocessorsAPI(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Services.Console.Subprocessors(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newSubprocessorListJSON(list))
}

func (s *Server) adminSubprocessorPut(w http.ResponseWriter, r *http.Request) error {
	var body subprocessorEditJSON
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	missing := errs.Validation{}
	for field, absent := range map[string]bool{
		"activity":           body.Activity == nil,
		"country":            body.Country == nil,
		"transfer_mechanism": body.Mechanism == nil,
		"data_categories":    body.DataCategories == nil,
		"active":             body.Active == nil,
	} {
		if absent {
			missing.Add(field, "is required")
		}
	}
	if err := missing.Err(); err != nil {
		return err
	}
	saved, err := s.Services.Console.UpdateSubprocessor(r.Context(), actorOf(r), r.PathValue("id"), vendors.Update{
		Activity:       *body.Activity,
		Country:        *body.Country,
		Mechanism:      vendors.Mechanism(*body.Mechanism),
		DataCategories: *body.DataCategories,
		Active:         *body.Active,
	})
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newSubprocessorJSON(saved))
}

// adminSubprocessorForm is one entry's edit form: the values to show and,
// after a refused submission, the messages per field.
type adminSubprocessorForm struct {
	subprocessorRow
	Selected map[string]bool
	Errors   map[string]string
	Open     bool
}

type adminSubprocessorsView struct {
	Entries    []adminSubprocessorForm
	Categories []datamap.Category
	Mechanisms []idName
	Countries  []idName
	Saved      string // name of the entry just saved
}

// adminSubprocessorsPage lists every entry, active or not, each with its
// edit form.
func (s *Server) adminSubprocessorsPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderAdminSubprocessors(w, r, http.StatusOK, nil)
}

// renderAdminSubprocessors draws the registry page; failed, when set, is a
// refused submission to show again in place of its stored entry.
func (s *Server) renderAdminSubprocessors(w http.ResponseWriter, r *http.Request, status int, failed *adminSubprocessorForm) error {
	list, err := s.Services.Console.Subprocessors(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	m := s.Services.Console.DataMap()
	v := adminSubprocessorsView{Categories: m.Categories, Countries: countryChoices()}
	for _, mech := range vendors.Mechanisms() {
		v.Mechanisms = append(v.Mechanisms, idName{string(mech), mech.Label()})
	}
	saved := r.URL.Query().Get("saved")
	for _, sp := range list {
		if failed != nil && failed.ID == sp.ID {
			v.Entries = append(v.Entries, *failed)
			continue
		}
		form := adminSubprocessorForm{subprocessorRow: newSubprocessorRow(m, sp), Selected: map[string]bool{}}
		for _, c := range sp.DataCategories {
			form.Selected[c] = true
		}
		if sp.ID == saved {
			v.Saved = sp.Name
		}
		v.Entries = append(v.Entries, form)
	}
	return s.pages.render(w, r, status, "admin_subprocessors", view{
		Title:   "Sub-processors",
		Section: "admin",
		Data:    v,
	})
}

// adminSubprocessorPost saves the browser form and sends the browser back
// to the list; a refused edit shows the form again with its messages.
func (s *Server) adminSubprocessorPost(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	u := vendors.Update{
		Activity:       r.PostForm.Get("activity"),
		Country:        r.PostForm.Get("country"),
		Mechanism:      vendors.Mechanism(r.PostForm.Get("transfer_mechanism")),
		DataCategories: r.PostForm["data_categories"],
		Active:         r.PostForm.Get("active") != "",
	}
	saved, err := s.Services.Console.UpdateSubprocessor(r.Context(), actorOf(r), id, u)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		current, gerr := s.Services.Console.Subprocessor(r.Context(), actorOf(r), id)
		if gerr != nil {
			return gerr
		}
		// Show what was submitted, not what is stored, beside the messages.
		form := adminSubprocessorForm{
			subprocessorRow: newSubprocessorRow(s.Services.Console.DataMap(), u.Apply(current)),
			Selected:        map[string]bool{},
			Errors:          e.Fields,
			Open:            true,
		}
		for _, c := range u.DataCategories {
			form.Selected[c] = true
		}
		return s.renderAdminSubprocessors(w, r, http.StatusUnprocessableEntity, &form)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/subprocessors?saved="+url.QueryEscape(saved.ID)+"#sp-"+saved.ID, http.StatusSeeOther)
	return nil
}

// countryChoices lists every country code with its name, sorted by name,
// for the edit form.
func countryChoices() []idName {
	codes := country.Codes()
	out := make([]idName, 0, len(codes))
	for _, c := range codes {
		out = append(out, idName{c, country.Name(c)})
	}
	return out
}
