package web

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/consent"
	"github.com/sessionshq/sessions/internal/privacy/cookies"
	"github.com/sessionshq/sessions/internal/privacy/gate"
	"github.com/sessionshq/sessions/internal/service/consents"
)

// The consent ledger's member pages and API, the purpose gate as the
// handlers ask it, the published schema of consent receipts, Global
// Privacy Control and the restriction flag staff set for the rights
// workflow. The use cases are the consents service's
// (internal/service/consents); this file decodes, calls and renders.

// ---------- The purpose gate ----------

// browser is what r says about the browser behind it, for the consents
// service: its cookie choice, its Global Privacy Control signal and the
// evidence a ledger record keeps.
func (s *Server) browser(r *http.Request) consents.Browser {
	c, ok := s.storedChoice(r)
	return consents.Browser{Choice: c, HasChoice: ok, GPC: gpcSignal(r), IP: clientIP(r), UserAgent: r.UserAgent()}
}

// allowed answers whether purpose may use the subject's data for this
// request; see consents.Service.AllowedOnRequest. It fails closed.
func (s *Server) allowed(r *http.Request, subject gate.Subject, purpose string) gate.Decision {
	return s.Services.Consents.AllowedOnRequest(r.Context(), subject, purpose, s.browser(r))
}

// allowedFor is allowed without a request; see consents.Service.Allowed.
// Jobs call the service themselves.
func (s *Server) allowedFor(ctx context.Context, subject gate.Subject, purpose string) (gate.Decision, error) {
	return s.Services.Consents.Allowed(ctx, subject, purpose)
}

// ---------- Global Privacy Control ----------

// gpcLastUpdate is the date /.well-known/gpc.json gives for the last
// change to how the product honours the signal.
const gpcLastUpdate = "2026-03-02"

// gpcSignal reports whether the request carries the Global Privacy
// Control signal (https://privacycg.github.io/gpc-spec/): the header
// Sec-GPC with the value 1.
func gpcSignal(r *http.Request) bool { return strings.TrimSpace(r.Header.Get("Sec-GPC")) == "1" }

// gpcWellKnown serves /.well-known/gpc.json, which tells user agents
// that this site honours the signal.
func (s *Server) gpcWellKnown(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=86400")
	return writeJSON(w, http.StatusOK, struct {
		GPC        bool   `json:"gpc"`
		LastUpdate string `json:"lastUpdate"`
	}{GPC: true, LastUpdate: gpcLastUpdate})
}

// ---------- Receipts ----------

// receiptSchema serves the JSON Schema every receipt validates against.
func (s *Server) receiptSchema(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/schema+json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err := w.Write(consent.ReceiptSchema)
	return err
}

// receiptsDownload answers GET /account/consents/receipts.json: the
// receipts as a file to keep.
func (s *Server) receiptsDownload(w http.ResponseWriter, r *http.Request) error {
	doc, err := s.Services.Consents.Receipts(r.Context(), mustPrincipal(r).AccountID)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="sessions-consent-receipts.json"`)
	return writeJSONNoStore(w, http.StatusOK, doc)
}

// apiMyConsents answers GET /api/me/consents with the same document.
func (s *Server) apiMyConsents(w http.ResponseWriter, r *http.Request) error {
	doc, err := s.Services.Consents.Receipts(r.Context(), mustPrincipal(r).AccountID)
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

// apiRecordConsent answers POST /api/me/consents: the member gives,
// refuses or withdraws consent for purposes. 201 with the receipts of the
// records written.
func (s *Server) apiRecordConsent(w http.ResponseWriter, r *http.Request) error {
	var body consentPostJSON
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	recs, err := s.Services.Consents.RecordChoice(r.Context(), actorOf(r),
		consents.Choice{SubjectID: body.SubjectID, Purposes: body.Purposes, State: consent.State(body.State), Method: consent.API}, s.browser(r))
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
	o, err := s.Services.Consents.Overview(r.Context(), mustPrincipal(r).AccountID, s.browser(r))
	if err != nil {
		return err
	}
	v := consentsPageView{GPC: o.GPC, Done: map[string]string{"withdrawn": "Your consent was withdrawn. We stopped using your data for that purpose."}[r.URL.Query().Get("done")]}
	for _, st := range o.Purposes {
		row := consentRowView{Purpose: st.Purpose.ID, Name: st.Purpose.Name, Description: st.Purpose.Description, State: "none"}
		if rec := st.Record; st.HasRecord {
			row.State = string(st.State)
			row.Since = staffTime(rec.At)
			row.Method = methodLabels[rec.Method]
			row.Notice = rec.NoticeID + " notice, version " + rec.NoticeVersion
			row.RecordID = rec.ID
			row.CanWithdraw = st.State == consent.Given
		}
		row.InUse, row.Reason = st.Decision.Allowed, st.Decision.Reason
		row.GPCOff = st.Decision.Reason == gate.ReasonGPC
		v.Rows = append(v.Rows, row)
	}
	for i := len(o.History) - 1; i >= 0; i-- {
		rec := o.History[i]
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
	res, err := s.Services.Consents.Withdraw(r.Context(), mustPrincipal(r).AccountID, r.PathValue("purpose"), s.browser(r))
	if err != nil {
		return err
	}
	if len(res.Dropped) > 0 {
		s.setCookie(w, s.cookieName(cookies.ChoiceCookie), cookies.Encode(s.Secret, res.Choice), cookies.ReaskAt(res.Choice.At))
		for _, e := range cookies.Registry() {
			if e.Kind == cookies.Cookie && slices.Contains(res.Dropped, e.Category) {
				s.clearCookie(w, e.NameFor(s.Config.Secure()))
			}
		}
	}
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
// for a member; see consents.Service.SetRestriction.
func (s *Server) apiSetRestriction(w http.ResponseWriter, r *http.Request) error {
	var body restrictionJSON
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if body.Restricted == nil {
		return &errs.Error{Code: errs.Invalid, Message: "some fields are not valid", Fields: map[string]string{"restricted": "must be true or false"}}
	}
	id := r.PathValue("id")
	if err := s.Services.Consents.SetRestriction(r.Context(), actorOf(r), id, *body.Restricted); err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, restrictionStateJSON{PersonID: id, Restricted: *body.Restricted})
}
