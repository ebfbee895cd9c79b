package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/consent"
	"github.com/sessionshq/sessions/internal/privacy/cookies"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/gate"
	"github.com/sessionshq/sessions/internal/store"
)

// The purpose gate's adapter, the consent ledger's member pages and API,
// the published schema of consent receipts, Global Privacy Control and
// the restriction flag staff set for the rights workflow. Everything
// here reads or appends consent records through internal/store and asks
// internal/privacy/gate.

// ---------- The purpose gate ----------

// allowed answers whether purpose may use the subject's data for this
// request: the ledger, the person's objections, restriction and age, and
// the request's Global Privacy Control signal. A failure to read any of
// them is logged and refuses: the gate fails closed. When the signal is on
// and matters for the purpose, it is written to the ledger, once per
// subject and cookie notice version.
func (s *Server) allowed(r *http.Request, subject gate.Subject, purpose string) gate.Decision {
	ctx := r.Context()
	in, err := s.gateInputs(ctx, subject)
	if err != nil {
		s.Log.LogAttrs(ctx, slog.LevelError, "purpose gate could not load its inputs",
			slog.String("purpose", purpose), slog.String("error", err.Error()))
		return gate.Decision{Reason: gate.ReasonUnavailable}
	}
	in.GPC = gpcSignal(r)
	if in.GPC && subject.ID != "" && slices.Contains(gate.GPCPurposes, purpose) {
		if err := s.noteGPC(ctx, s.DB, r, subject); err != nil {
			s.Log.LogAttrs(ctx, slog.LevelError, "could not record the GPC signal", slog.String("error", err.Error()))
		}
	}
	return gate.Decide(in, purpose)
}

// allowedFor is allowed without a request, for jobs and campaigns: there
// is no signal to read, so only the GPC refusals already in the ledger
// count.
func (s *Server) allowedFor(ctx context.Context, subject gate.Subject, purpose string) (gate.Decision, error) {
	in, err := s.gateInputs(ctx, subject)
	if err != nil {
		return gate.Decision{Reason: gate.ReasonUnavailable}, err
	}
	return gate.Decide(in, purpose), nil
}

// gateInputs reads what the gate weighs for subject. Objections,
// restriction and age belong to members; a visitor has only the ledger.
func (s *Server) gateInputs(ctx context.Context, subject gate.Subject) (gate.Inputs, error) {
	now := s.Clock.Now()
	in := gate.Inputs{Subject: subject, Now: now, Notices: map[string]string{cookies.NoticeID: cookies.NoticeVersion}}
	if subject.ID == "" || (subject.Kind != consent.Member && subject.Kind != consent.Visitor) {
		return in, nil
	}
	cur, err := store.CurrentConsents(ctx, s.DB, subject.Kind, subject.ID)
	if err != nil {
		return in, err
	}
	in.Consents = cur
	if subject.Kind != consent.Member {
		return in, nil
	}
	if in.ObjectsToMarketing, in.ObjectsToProfiling, err = store.Objections(ctx, s.DB, subject.ID); err != nil {
		return in, err
	}
	if in.Restricted, err = store.Restricted(ctx, s.DB, subject.ID); err != nil {
		return in, err
	}
	p, err := store.GetProfile(ctx, s.DB, subject.ID)
	if err != nil {
		return in, err
	}
	age := account.RestrictionsFor(p, now)
	in.Age = &age
	return in, nil
}

// ---------- Global Privacy Control ----------

// gpcLastUpdate is the date /.well-known/gpc.json gives for the last
// change to how the product honours the signal.
const gpcLastUpdate = "2026-03-02"

// gpcSignal reports whether the request carries the Global Privacy
// Control signal (https://privacycg.github.io/gpc-spec/): the header
// Sec-GPC with the value 1.
func gpcSignal(r *http.Request) bool { return strings.TrimSpace(r.Header.Get("Sec-GPC")) == "1" }

// noteGPC appends the refusal the Global Privacy Control signal expresses
// (method gpc, the purposes in gate.GPCPurposes, under the cookie
// notice), unless the subject's ledger already holds one for the cookie
// notice's version. Call it in the transaction that records a choice made
// with the signal, before the choice's own records: an explicit opt-in
// made at the same moment then comes after it and wins for its purpose.
// A user agent too long to keep is left out of this record rather than
// refusing the signal.
func (s *Server) noteGPC(ctx context.Context, q database.Querier, r *http.Request, subject gate.Subject) error {
	if subject.ID == "" {
		return nil
	}
	has, err := store.HasGPCRecord(ctx, q, subject.Kind, subject.ID, cookies.NoticeID, cookies.NoticeVersion)
	if err != nil || has {
		return err
	}
	ua := r.UserAgent()
	if consent.CheckUserAgent(ua) != nil {
		ua = ""
	}
	return store.AppendConsent(ctx, q, consent.Record{
		ID: consent.NewID(), SubjectKind: subject.Kind, SubjectID: subject.ID,
		NoticeID: cookies.NoticeID, NoticeVersion: cookies.NoticeVersion, NoticeHash: cookies.NoticeHash(),
		Purposes: slices.Clone(gate.GPCPurposes), Basis: datamap.Consent, Method: consent.GPC, At: s.Clock.Now(),
		State: consent.Refused, IP: consent.TruncateIP(clientIP(r)), UserAgent: ua, GPC: true,
	})
}

// gpcWellKnown serves /.well-known/gpc.json, which tells user agents
// that this site honours the signal.
func (s *Server) gpcWellKnown(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=86400")
	return writeJSON(w, http.StatusOK, struct {
		GPC        bool   `json:"gpc"`
		LastUpdate string `json:"lastUpdate"`
	}{GPC: true, LastUpdate: gpcLastUpdate})
}

// ---------- Sign-in ----------

// carryConsents runs in the sign-in transaction: the choices the browser
// made as a visitor (the visitor id of its consent cookie, current or
// lapsed) are carried over to the account as new records, and a Global
// Privacy Control signal sent with the sign-in is recorded for the member.
func (s *Server) carryConsents(ctx context.Context, tx database.Querier, r *http.Request, accountID string) error {
	if c, ok := s.storedChoice(r); ok {
		if err := store.LinkVisitorConsents(ctx, tx, c.VisitorID, accountID, s.Clock.Now()); err != nil {
			return err
		}
	}
	if gpcSignal(r) {
		return s.noteGPC(ctx, tx, r, gate.Member(accountID))
	}
	return nil
}

// ---------- Receipts ----------

// receiptSchemaPath is where the JSON Schema of consent receipts is
// published.
const receiptSchemaPath = "/privacy/consent-receipt.schema.json"

// receiptSchema serves the JSON Schema every receipt validates against.
func (s *Server) receiptSchema(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/schema+json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err := w.Write(consent.ReceiptSchema)
	return err
}

// memberReceipts builds the member's receipts document.
func (s *Server) memberReceipts(ctx context.Context, accountID string) (consent.Receipts, error) {
	hist, err := store.ConsentHistory(ctx, s.DB, consent.Member, accountID)
	if err != nil {
		return consent.Receipts{}, err
	}
	p, err := store.GetProfile(ctx, s.DB, accountID)
	if err != nil {
		return consent.Receipts{}, err
	}
	var controllers []consent.Controller
	for _, c := range account.ControllersFor(p.Country) {
		controllers = append(controllers, consent.Controller{Name: c.Name, Role: c.Role, Contact: c.Contact})
	}
	return consent.NewReceipts(s.Config.BaseURL+receiptSchemaPath, controllers, consent.Member, accountID, hist, s.Clock.Now()), nil
}

// receiptsDownload answers GET /account/consents/receipts.json: the
// receipts as a file to keep.
func (s *Server) receiptsDownload(w http.ResponseWriter, r *http.Request) error {
	doc, err := s.memberReceipts(r.Context(), mustPrincipal(r).AccountID)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="sessions-consent-receipts.json"`)
	return writeJSONNoStore(w, http.StatusOK, doc)
}

// apiMyConsents answers GET /api/me/consents with the same document.
func (s *Server) apiMyConsents(w http.ResponseWriter, r *http.Request) error {
	doc, err := s.memberReceipts(r.Context(), mustPrincipal(r).AccountID)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, doc)
}

// ---------- Recording a member's choice ----------

// consentPostJSON is the body of POST /api/me/consents. subject_id may be
// given, and then must be the caller's own account id: nobody records a
// choice for someone else.
type consentPostJSON struct {
	SubjectID string   `json:"subject_id,omitempty"`
	Purposes  []string `json:"purposes"`
	State     string   `json:"state"`
}

// consentNotice is the text a choice about purpose answers to: the
// cookie notice for what the cookie tool asks about, the privacy notice
// in force for the feature opt-ins.
func (s *Server) consentNotice(ctx context.Context, purpose string) (id, version, hash string, err error) {
	for _, cat := range cookies.Optional {
		if slices.Contains(cat.Purposes(), purpose) {
			return cookies.NoticeID, cookies.NoticeVersion, cookies.NoticeHash(), nil
		}
	}
	v, err := store.CurrentNotice(ctx, s.DB)
	if errors.Is(err, database.ErrNotFound) {
		return "", "", "", errs.E(errs.Unavailable, "no privacy notice is published yet, so this consent cannot be recorded")
	}
	if err != nil {
		return "", "", "", err
	}
	return v.NoticeID, v.Label(), v.Hash, nil
}

// recordMemberChoice appends the member's choice about purposes, one
// record per notice the purposes answer to, with the GPC signal first
// when the request carries it. It checks everything before writing, so a
// refused choice writes nothing.
func (s *Server) recordMemberChoice(r *http.Request, accountID string, purposes []string, state consent.State, method consent.Method) ([]consent.Record, error) {
	ctx := r.Context()
	ua := r.UserAgent()
	if err := consent.CheckUserAgent(ua); err != nil {
		return nil, err
	}
	v := errs.Validation{}
	switch {
	case len(purposes) == 0:
		v.Add("purposes", "name at least one purpose")
	case len(purposes) > len(consent.ChoosablePurposes()):
		v.Add("purposes", "too many purposes")
	}
	seen := map[string]bool{}
	for _, p := range purposes {
		switch {
		case !consent.Choosable(p):
			v.Add("purposes", "unknown purpose, or one that does not rest on consent: "+clip(p, 40))
		case seen[p]:
			v.Add("purposes", "a purpose is named twice")
		}
		seen[p] = true
	}
	if state != consent.Given && state != consent.Refused && state != consent.Withdrawn {
		v.Add("state", "must be given, refused or withdrawn")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	type group struct {
		id, version, hash string
		purposes          []string
	}
	var groups []*group
	for _, p := range purposes {
		id, version, hash, err := s.consentNotice(ctx, p)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(groups, func(g *group) bool { return g.id == id && g.version == version })
		if i < 0 {
			groups = append(groups, &group{id: id, version: version, hash: hash})
			i = len(groups) - 1
		}
		groups[i].purposes = append(groups[i].purposes, p)
	}
	now, gpc, member := s.Clock.Now(), gpcSignal(r), gate.Member(accountID)
	var out []consent.Record
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		if gpc {
			if err := s.noteGPC(ctx, tx, r, member); err != nil {
				return err
			}
		}
		for _, g := range groups {
			rec := consent.Record{
				ID: consent.NewID(), SubjectKind: consent.Member, SubjectID: accountID,
				NoticeID: g.id, NoticeVersion: g.version, NoticeHash: g.hash, Purposes: g.purposes,
				Basis: datamap.Consent, Method: method, At: now, State: state,
				IP: consent.TruncateIP(clientIP(r)), UserAgent: ua, GPC: gpc,
			}
			if err := store.AppendConsent(ctx, tx, rec); err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.Log.LogAttrs(ctx, slog.LevelInfo, "consent recorded", slog.String("state", string(state)),
		slog.String("method", string(method)), slog.Int("records", len(out)))
	return out, nil
}

// clip shortens a value echoed in a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// apiRecordConsent answers POST /api/me/consents: the member gives,
// refuses or withdraws consent for purposes. 201 with the receipts of the
// records written.
func (s *Server) apiRecordConsent(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	var body consentPostJSON
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if body.SubjectID != "" && body.SubjectID != p.AccountID {
		return errs.E(errs.Forbidden, "you can record consent only for yourself")
	}
	recs, err := s.recordMemberChoice(r, p.AccountID, body.Purposes, consent.State(body.State), consent.API)
	if err != nil {
		return err
	}
	out := struct {
		Receipts []consent.Receipt `json:"receipts"`
	}{}
	for _, rec := range recs {
		out.Receipts = append(out.Receipts, consent.ReceiptOf(rec))
	}
	return writeJSONNoStore(w, http.StatusCreated, out)
}

// ---------- The consents page ----------

type consentRowView struct {
	Purpose     string
	Name        string
	Description string
	State       string
	Since       string
	Method      string
	Notice      string
	RecordID    string
	CanWithdraw bool
	// InUse is the purpose gate's answer now, with its reason.
	InUse  bool
	Reason string
	// GPCOff is true when the GPC signal is what keeps the purpose off.
	GPCOff bool
}

type consentHistoryView struct {
	RecordID string
	At       string
	Purposes string
	State    string
	Method   string
	Linked   bool
}

type consentsPageView struct {
	Rows    []consentRowView
	History []consentHistoryView
	GPC     bool
	Done    string
}

var methodLabels = map[consent.Method]string{
	consent.Banner: "cookie banner", consent.Settings: "settings", consent.GPC: "Global Privacy Control",
	consent.API: "API", consent.Guardian: "parent or guardian",
}

// consentsPage shows every purpose that rests on consent with where it
// stands, the gate's answer, a one-click withdrawal for each consent
// given, the history and the receipts to download.
func (s *Server) consentsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	accountID := mustPrincipal(r).AccountID
	member := gate.Member(accountID)
	gpc := gpcSignal(r)
	if gpc {
		if err := s.noteGPC(ctx, s.DB, r, member); err != nil {
			return err
		}
	}
	hist, err := store.ConsentHistory(ctx, s.DB, consent.Member, accountID)
	if err != nil {
		return err
	}
	in, err := s.gateInputs(ctx, member)
	if err != nil {
		return err
	}
	in.GPC = gpc
	v := consentsPageView{GPC: gpc, Done: map[string]string{"withdrawn": "Your consent was withdrawn. We stopped using your data for that purpose."}[r.URL.Query().Get("done")]}
	for _, p := range consent.ChoosablePurposes() {
		row := consentRowView{Purpose: p.ID, Name: p.Name, Description: p.Description, State: "none"}
		if rec, ok := in.Consents[p.ID]; ok {
			row.State = string(in.StateOf(rec))
			row.Since = staffTime(rec.At)
			row.Method = methodLabels[rec.Method]
			row.Notice = rec.NoticeID + " notice, version " + rec.NoticeVersion
			row.RecordID = rec.ID
			row.CanWithdraw = row.State == string(consent.Given)
		}
		d := gate.Decide(in, p.ID)
		row.InUse, row.Reason = d.Allowed, d.Reason
		row.GPCOff = d.Reason == gate.ReasonGPC
		if row.GPCOff {
			v.GPC = true
		}
		v.Rows = append(v.Rows, row)
	}
	for i := len(hist) - 1; i >= 0; i-- {
		rec := hist[i]
		names := make([]string, 0, len(rec.Purposes))
		for _, id := range rec.Purposes {
			if p, ok := consent.Purpose(id); ok {
				names = append(names, p.Name)
			}
		}
		v.History = append(v.History, consentHistoryView{RecordID: rec.ID, At: staffTime(rec.At),
			Purposes: strings.Join(names, ", "), State: string(rec.State), Method: methodLabels[rec.Method], Linked: rec.LinkedFrom != ""})
	}
	return s.pages.render(w, r, http.StatusOK, "consent_list", view{Title: "Your consents", Section: "account", Data: v})
}

// consentWithdrawForm answers POST /account/consents/{purpose}/withdraw:
// one click writes a "withdrawn" record. When this browser's cookie
// choice still allows the purpose, the browser's choice is withdrawn too,
// in the ledger and in its cookie, and the cookies it no longer allows
// are deleted.
func (s *Server) consentWithdrawForm(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	accountID := mustPrincipal(r).AccountID
	purpose := r.PathValue("purpose")
	if !consent.Choosable(purpose) {
		return errs.E(errs.NotFound, "there is no such consent")
	}
	ua := r.UserAgent()
	if err := consent.CheckUserAgent(ua); err != nil {
		return err
	}
	now, gpc := s.Clock.Now(), gpcSignal(r)
	ip := consent.TruncateIP(clientIP(r))
	choice, browserChose := s.visitorChoice(r)
	var dropped []cookies.Category
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		cur, err := store.CurrentConsents(ctx, tx, consent.Member, accountID)
		if err != nil {
			return err
		}
		rec, ok := cur[purpose]
		if !ok || rec.StateAt(now) != consent.Given {
			return errs.E(errs.Conflict, "this consent is not given, so there is nothing to withdraw")
		}
		if err := store.AppendConsent(ctx, tx, consent.Record{
			ID: consent.NewID(), SubjectKind: consent.Member, SubjectID: accountID,
			NoticeID: rec.NoticeID, NoticeVersion: rec.NoticeVersion, NoticeHash: rec.NoticeHash,
			Purposes: []string{purpose}, Basis: datamap.Consent, Method: consent.Settings, At: now,
			State: consent.Withdrawn, IP: ip, UserAgent: ua, GPC: gpc,
		}); err != nil {
			return err
		}
		if !browserChose {
			return nil
		}
		for _, cat := range choice.Granted {
			if !slices.Contains(cat.Purposes(), purpose) {
				continue
			}
			dropped = append(dropped, cat)
			if err := store.AppendConsent(ctx, tx, consent.Record{
				ID: consent.NewID(), SubjectKind: consent.Visitor, SubjectID: choice.VisitorID,
				NoticeID: cookies.NoticeID, NoticeVersion: cookies.NoticeVersion, NoticeHash: cookies.NoticeHash(),
				Purposes: cat.Purposes(), Basis: datamap.Consent, Method: consent.Settings, At: now,
				State: consent.Withdrawn, IP: ip, UserAgent: ua, GPC: gpc,
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(dropped) > 0 {
		choice.Granted = slices.DeleteFunc(choice.Granted, func(c cookies.Category) bool { return slices.Contains(dropped, c) })
		s.setCookie(w, s.cookieName(cookies.ChoiceCookie), cookies.Encode(s.Secret, choice), cookies.ReaskAt(choice.At))
		for _, e := range cookies.Registry() {
			if e.Kind == cookies.Cookie && slices.Contains(dropped, e.Category) {
				s.clearCookie(w, e.NameFor(s.Config.Secure()))
			}
		}
	}
	s.Log.LogAttrs(ctx, slog.LevelInfo, "consent withdrawn", slog.String("purpose", purpose))
	http.Redirect(w, r, "/account/consents?done=withdrawn", http.StatusSeeOther)
	return nil
}

// ---------- Restriction (staff) ----------

type restrictionJSON struct {
	Restricted *bool `json:"restricted"`
}

type restrictionStateJSON struct {
	PersonID   string `json:"person_id"`
	Restricted bool   `json:"restricted"`
}

// apiSetRestriction answers PUT /api/admin/people/{id}/restriction: staff
// who handle rights requests set or lift the restriction of processing
// for a member, audited; a restriction that comes into force is notified
// to each recipient of the member's data (Art. 19 GDPR) in the same
// transaction, and the notices are sent after the commit. Members ask
// for it through a rights request.
func (s *Server) apiSetRestriction(w http.ResponseWriter, r *http.Request) error {
	var body restrictionJSON
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if body.Restricted == nil {
		return &errs.Error{Code: errs.Invalid, Message: "some fields are not valid", Fields: map[string]string{"restricted": "must be true or false"}}
	}
	id := r.PathValue("id")
	if _, err := store.AccountByID(r.Context(), s.DB, id); errors.Is(err, database.ErrNotFound) {
		return errs.E(errs.NotFound, "there is no such person")
	} else if err != nil {
		return err
	}
	notices, err := store.SetRestrictedAndNotify(r.Context(), s.DB, s.Secret, staffActor(r.Context()), id, *body.Restricted, s.Clock.Now())
	if err != nil {
		return err
	}
	s.sendQueued(r.Context(), notices)
	return writeJSONNoStore(w, http.StatusOK, restrictionStateJSON{PersonID: id, Restricted: *body.Restricted})
}
