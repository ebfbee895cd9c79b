package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/privacy/cookies"
	"github.com/sessionshq/sessions/internal/service/consents"
)

// The cookie tool: the banner every page shows until a choice exists, the
// settings page behind the footer's "Cookie settings" link (which works
// without script; static/cookies.js only enhances it), the endpoints that
// record a choice in the consent ledger, and the cookie notice generated
// from the registry in internal/privacy/cookies.
//
// The choice lives in one strictly necessary, HttpOnly cookie signed with
// the server's secret. Script never reads it: the server renders the
// banner's state into the page, and the browser only posts choices. What
// the cookie says decides what the page loads; what the ledger says
// decides, through the purpose gate, what the server accepts.

// cookieName is a registry cookie's name as this server sets it: with the
// __Host- prefix over HTTPS.
func (s *Server) cookieName(base string) string {
	e, ok := cookies.Lookup(base)
	if !ok {
		panic("web: cookie " + base + " is not in the cookie registry")
	}
	return e.NameFor(s.Config.Secure())
}

// visitorChoice is the visitor's current banner choice from the consent
// cookie; false before any choice, and when the choice has lapsed (six
// months) or was made under an older cookie notice, since then it must be
// asked again and allows nothing optional meanwhile.
func (s *Server) visitorChoice(r *http.Request) (cookies.Choice, bool) {
	c, ok := s.storedChoice(r)
	if !ok || !c.Current(s.Clock.Now()) {
		return cookies.Choice{}, false
	}
	return c, true
}

// storedChoice is whatever valid choice the cookie holds, current or not,
// so that a renewed choice keeps the visitor's ledger id.
func (s *Server) storedChoice(r *http.Request) (cookies.Choice, bool) {
	ck, err := r.Cookie(s.cookieName(cookies.ChoiceCookie))
	if err != nil || ck.Value == "" {
		return cookies.Choice{}, false
	}
	c, err := cookies.Decode(s.Secret, ck.Value, s.Clock.Now())
	if err != nil {
		return cookies.Choice{}, false
	}
	return c, true
}

// cookieBanner is what layout.html's banner partial needs on every page.
type cookieBanner struct {
	// Show is true while a choice is due: none yet, lapsed, or made under
	// an older notice.
	Show bool
	// Renewal is true when the browser holds a choice made under an older
	// cookie notice, so the banner says why it asks again. (A choice older
	// than six months is gone altogether: its signed value expires then.)
	Renewal bool
	// GPC is true when the request carries Sec-GPC: 1. The banner's
	// script also shows the note, and posts "gpc", when the browser's
	// navigator.globalPrivacyControl is on.
	GPC bool
	// Analytics is true when the visitor's choice allows analytics: only
	// then does the page load the analytics script.
	Analytics bool
	// Next is the page to return to after a choice posted without script.
	Next string
}

// cookieState is the banner's state for r; pages.render calls it.
func (s *Server) cookieState(r *http.Request) *cookieBanner {
	b := &cookieBanner{GPC: gpcSignal(r), Next: cookieNext(r.URL.RequestURI())}
	if c, ok := s.visitorChoice(r); ok {
		b.Analytics = c.Allows(cookies.Analytics)
	} else {
		_, stale := s.storedChoice(r)
		b.Show, b.Renewal = true, stale
	}
	// The settings page is the tool itself; a second copy on top of it
	// would only get in the way.
	if r.URL.Path == "/cookies/settings" {
		b.Show = false
	}
	return b
}

// choiceInput is one choice as the banner's script posts it.
type choiceInput struct {
	Action string          `json:"action"`
	From   string          `json:"from,omitempty"`
	On     map[string]bool `json:"categories,omitempty"`
	GPC    bool            `json:"gpc,omitempty"`
}

// recordChoice records the browser's choice (consents.Service.
// RecordCookieChoice), sets the choice cookie and deletes the cookies of
// every category the choice leaves off. Every choice also drops the
// analytics id, so a new one is drawn under the new choice.
func (s *Server) recordChoice(w http.ResponseWriter, r *http.Request, in choiceInput) (consents.CookieChoiceResult, error) {
	accountID, err := s.browserMember(r)
	if err != nil {
		return consents.CookieChoiceResult{}, err
	}
	res, err := s.Services.Consents.RecordCookieChoice(r.Context(), accountID,
		consents.CookieChoice{Action: in.Action, From: in.From, Categories: in.On, GPC: in.GPC}, s.browser(r))
	if err != nil {
		return consents.CookieChoiceResult{}, err
	}
	choice := res.Choice
	s.setCookie(w, s.cookieName(cookies.ChoiceCookie), cookies.Encode(s.Secret, choice), cookies.ReaskAt(choice.At))
	for _, e := range cookies.Registry() {
		if e.Kind != cookies.Cookie || e.Category == cookies.StrictlyNecessary {
			continue
		}
		if e.Name == cookies.AnalyticsCookie || !choice.Allows(e.Category) {
			s.clearCookie(w, e.NameFor(s.Config.Secure()))
		}
	}
	return res, nil
}

// ---------- Browser routes ----------

// cookieChoiceForm records a choice posted by the banner or the settings
// page without script, then goes back where the visitor was.
func (s *Server) cookieChoiceForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	in := choiceInput{Action: r.PostForm.Get("action"), From: r.PostForm.Get("from"), GPC: r.PostForm.Get("gpc") == "1"}
	if vals, ok := r.PostForm["category"]; ok {
		in.On = map[string]bool{}
		for _, c := range vals {
			in.On[c] = true
		}
	}
	if in.Action == string(cookies.Save) && in.On == nil {
		// Saving with every box unticked is a choice of nothing.
		in.On = map[string]bool{}
	}
	if _, err := s.recordChoice(w, r, in); err != nil {
		return err
	}
	http.Redirect(w, r, cookieNext(r.PostForm.Get("next")), http.StatusSeeOther)
	return nil
}

// cookieCategoryView is one category on the settings page.
type cookieCategoryView struct {
	ID          string
	Label       string
	Description string
	Optional    bool
	// Switch labels the category's checkbox.
	Switch  string
	On      bool
	Entries []cookies.Entry
	// GPCOff is true when the category is off because of the Global
	// Privacy Control signal rather than a choice.
	GPCOff bool
}

type cookieSettingsView struct {
	Categories []cookieCategoryView
	Chosen     bool
	ChosenAt   string
	ReaskAt    string
	AnyOn      bool
	GPC        bool
	Saved      bool
	// Next is where "back" leads; Return is where a saved choice comes
	// back to: this page, saying it was saved.
	Next    string
	Return  string
	Version string
}

// cookieSettingsPage is the cookie tool's second layer: a switch per
// category, "accept all", "reject all" and, once something is on, the
// one-click withdrawal.
func (s *Server) cookieSettingsPage(w http.ResponseWriter, r *http.Request) error {
	c, chosen := s.visitorChoice(r)
	gpc := gpcSignal(r)
	next := cookieNext(r.URL.Query().Get("next"))
	if strings.HasPrefix(next, "/cookies/settings") {
		next = "/"
	}
	v := cookieSettingsView{Chosen: chosen, GPC: gpc, Saved: r.URL.Query().Get("saved") == "1",
		Next: next, Return: "/cookies/settings?saved=1&next=" + url.QueryEscape(next), Version: cookies.NoticeVersion}
	if chosen {
		v.ChosenAt = staffTime(c.At)
		v.ReaskAt = cookies.ReaskAt(c.At).UTC().Format("2 January 2006")
	}
	for _, cat := range cookies.Categories {
		cv := cookieCategoryView{ID: string(cat), Label: cat.Label(), Description: cat.Description(),
			Optional: cat.IsOptional(), On: c.Allows(cat), Entries: cookies.InCategory(cat),
			Switch: "Allow " + strings.ToLower(cat.Label()) + " cookies"}
		if !chosen && cat.IsOptional() {
			cv.On = false
		}
		if cat == cookies.Marketing && gpc && !cv.On {
			cv.GPCOff = true
		}
		if cat.IsOptional() && cv.On {
			v.AnyOn = true
		}
		v.Categories = append(v.Categories, cv)
	}
	return s.pages.render(w, r, http.StatusOK, "cookies_settings", view{Title: "Cookie settings", Section: "privacy", Data: v})
}

// cookieNoticeView is the cookie notice page.
type cookieNoticeView struct {
	Version    string
	Hash       string
	Categories []cookieCategoryView
}

// cookieNoticePage is the cookie notice, generated from the registry.
func (s *Server) cookieNoticePage(w http.ResponseWriter, r *http.Request) error {
	v := cookieNoticeView{Version: cookies.NoticeVersion, Hash: cookies.NoticeHash()}
	for _, cat := range cookies.Categories {
		v.Categories = append(v.Categories, cookieCategoryView{ID: string(cat), Label: cat.Label(),
			Description: cat.Description(), Optional: cat.IsOptional(), Entries: cookies.InCategory(cat)})
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	return s.pages.render(w, r, http.StatusOK, "cookies_notice", view{Title: "Cookie notice", Section: "privacy",
		Description: "Every cookie Sessions sets, what it is for, how long it lasts and who sets it.", Data: v})
}

// ---------- API ----------

// cookieChoiceJSON is the choice as the API shows it.
type cookieChoiceJSON struct {
	Categories    map[string]bool `json:"categories"`
	ChosenAt      time.Time       `json:"chosen_at"`
	AskAgainAt    time.Time       `json:"ask_again_at"`
	NoticeID      string          `json:"notice_id"`
	NoticeVersion string          `json:"notice_version"`
	GPC           bool            `json:"gpc"`
}

type cookieRecordJSON struct {
	ID       string   `json:"id"`
	Purposes []string `json:"purposes"`
	State    string   `json:"state"`
	Method   string   `json:"method"`
}

type cookieChoiceResponse struct {
	Choice  cookieChoiceJSON   `json:"choice"`
	Records []cookieRecordJSON `json:"records"`
}

// apiCookieChoice records a choice posted by the banner's script as JSON.
// The choice belongs to the browser, identified by its choice cookie; as
// a script route it is refused from other sites (handler.go).
func (s *Server) apiCookieChoice(w http.ResponseWriter, r *http.Request) error {
	var in choiceInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.recordChoice(w, r, in)
	if err != nil {
		return err
	}
	out := cookieChoiceResponse{Choice: cookieChoiceJSON{
		Categories: map[string]bool{}, ChosenAt: res.Choice.At, AskAgainAt: cookies.ReaskAt(res.Choice.At),
		NoticeID: cookies.NoticeID, NoticeVersion: res.Choice.NoticeVersion, GPC: res.Choice.GPC,
	}}
	for _, cat := range cookies.Categories {
		out.Choice.Categories[string(cat)] = res.Choice.Allows(cat)
	}
	for _, rec := range res.Records {
		out.Records = append(out.Records, cookieRecordJSON{ID: rec.ID, Purposes: rec.Purposes, State: string(rec.State), Method: string(rec.Method)})
	}
	return writeJSONNoStore(w, http.StatusOK, out)
}

// cookieEntryJSON is one registry entry as the API shows it.
type cookieEntryJSON struct {
	Name       string   `json:"name"`
	SecureName string   `json:"name_over_https"`
	Kind       string   `json:"kind"`
	Category   string   `json:"category"`
	Party      string   `json:"party"`
	Provider   string   `json:"provider"`
	Purpose    string   `json:"purpose"`
	Duration   string   `json:"duration"`
	Optional   bool     `json:"optional"`
	ConsentFor []string `json:"consent_purposes"`
}

type cookieRegistryJSON struct {
	NoticeID      string            `json:"notice_id"`
	NoticeVersion string            `json:"notice_version"`
	NoticeHash    string            `json:"notice_hash"`
	Entries       []cookieEntryJSON `json:"entries"`
}

// apiCookieRegistry is the cookie registry as JSON.
func (s *Server) apiCookieRegistry(w http.ResponseWriter, r *http.Request) error {
	out := cookieRegistryJSON{NoticeID: cookies.NoticeID, NoticeVersion: cookies.NoticeVersion, NoticeHash: cookies.NoticeHash()}
	for _, e := range cookies.Registry() {
		purposes := e.Category.Purposes()
		if purposes == nil {
			purposes = []string{}
		}
		out.Entries = append(out.Entries, cookieEntryJSON{
			Name: e.Name, SecureName: e.NameFor(true), Kind: string(e.Kind), Category: string(e.Category),
			Party: string(e.Party), Provider: e.Provider, Purpose: e.Purpose, Duration: e.Duration,
			Optional: e.Category.IsOptional(), ConsentFor: purposes,
		})
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	return writeJSON(w, http.StatusOK, out)
}

// browserMember is the account signed in on this browser, "" for none:
// the cookie tool files the browser's own choice with it, and the
// analytics collector refuses events of members who have not allowed
// them. It grants nothing.
func (s *Server) browserMember(r *http.Request) (string, error) {
	p, err := s.authenticate(r)
	if err != nil || p == nil {
		return "", err
	}
	return p.AccountID, nil
}

// cookieNext keeps a return address on this site, the home page when
// there is none.
func cookieNext(raw string) string { return localPath(raw, "/") }

// cookieChoiceLimit bounds a posted choice: a handful of short fields.
const cookieChoiceLimit = 4 << 10
