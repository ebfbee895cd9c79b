package web

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/marketing"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/service/campaigns"
)

// Marketing: a member's preferences per channel and their objections
// (signed in, or through the signed link every marketing message
// carries), the RFC 8058 one-click unsubscribe, campaigns composed by
// staff (internal/service/campaigns sends them from a job), and the
// staff queue of objections to legitimate-interest processing. There is
// no route, handler or query that sells or shares personal data for
// anyone else's marketing.

// ---- the JSON shape ----

// marketingJSON is the body of GET and PUT /api/me/marketing.
type marketingJSON struct {
	// Basis is the lawful basis of marketing: legitimate interest.
	Basis       string          `json:"basis"`
	Customer    bool            `json:"customer"`
	Child       bool            `json:"child"`
	MayOptIn    bool            `json:"may_opt_in"`
	Explanation string          `json:"explanation"`
	Channels    map[string]bool `json:"channels"`
	// ObjectedToMarketing and ObjectedToProfiling are final once true.
	ObjectedToMarketing bool            `json:"objected_to_marketing"`
	ObjectedToProfiling bool            `json:"objected_to_profiling"`
	Suppressed          bool            `json:"suppressed"`
	Objections          []objectionJSON `json:"objections"`
}

type objectionJSON struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Method     string     `json:"method"`
	CampaignID string     `json:"campaign_id"`
	Purpose    string     `json:"purpose"`
	Statement  string     `json:"statement"`
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"created_at"`
	DecidedAt  *time.Time `json:"decided_at"`
	Grounds    string     `json:"grounds"`
}

func objectionOut(o marketing.Objection) objectionJSON {
	return objectionJSON{
		ID: o.ID, Kind: string(o.Kind), Method: string(o.Method), CampaignID: o.CampaignID, Purpose: o.Purpose,
		Statement: o.Statement, Status: string(o.Status), CreatedAt: o.CreatedAt, DecidedAt: o.DecidedAt, Grounds: o.Grounds,
	}
}

func marketingOut(p marketing.Preferences, objections []marketing.Objection) marketingJSON {
	out := marketingJSON{
		Basis: string(datamap.LegitimateInterest), Customer: p.Relationship.Customer, Child: p.Relationship.Child,
		MayOptIn: p.Relationship.MayOptIn() && !p.Objected, Explanation: p.Relationship.Explain(),
		Channels:            map[string]bool{},
		ObjectedToMarketing: p.Objected, ObjectedToProfiling: p.ProfilingObjected, Suppressed: p.Suppressed,
		Objections: []objectionJSON{},
	}
	for c, on := range p.Channels() {
		out.Channels[string(c)] = on
	}
	for _, o := range objections {
		out.Objections = append(out.Objections, objectionOut(o))
	}
	return out
}

// ---- the API ----

// apiMarketingGet is GET /api/me/marketing.
func (s *Server) apiMarketingGet(w http.ResponseWriter, r *http.Request) error {
	o, err := s.Services.Campaigns.Overview(r.Context(), mustPrincipal(r).AccountID)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, marketingOut(o.Prefs, o.Objections))
}

// marketingPut is the body of PUT /api/me/marketing: the channels to
// set; channels left out keep their state.
type marketingPut struct {
	Channels map[string]bool `json:"channels"`
}

// apiMarketingPut is PUT /api/me/marketing.
func (s *Server) apiMarketingPut(w http.ResponseWriter, r *http.Request) error {
	var in marketingPut
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Channels == nil {
		return &errs.Error{Code: errs.Invalid, Message: "some fields are not valid", Fields: map[string]string{marketing.FieldChannels: "is required: an object of channel names to true or false"}}
	}
	if err := s.Services.Campaigns.SetChannels(r.Context(), actorOf(r), in.Channels, marketing.ByAPI); err != nil {
		return err
	}
	return s.apiMarketingGet(w, r)
}

// apiObjectionPost is POST /api/me/objections: 201 with the objection
// when it was recorded, 200 with it when it already was.
func (s *Server) apiObjectionPost(w http.ResponseWriter, r *http.Request) error {
	var in marketing.ObjectionRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.Services.Campaigns.Object(r.Context(), actorOf(r), in, marketing.ByAPI)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Changed {
		status = http.StatusCreated
	}
	return writeJSON(w, status, objectionOut(res.Objection))
}

// ---- the preferences page ----

// channelRow is one channel on the preferences page.
type channelRow struct {
	Channel marketing.Channel
	Label   string
	On      bool
	// Locked is true when the person may not switch the channel on here.
	Locked bool
}

// marketingPageData is what marketing_preferences.html shows, signed in
// or through a message's link.
type marketingPageData struct {
	Prefs       marketing.Preferences
	Channels    []channelRow
	Explanation string
	Objections  []marketing.Objection
	// Link is true on the page opened by a message's signed link; Base is
	// where its forms post.
	Link     bool
	Base     string
	Notice   string
	Errors   map[string]string
	Purposes []datamap.Purpose // purposes an objection to legitimate interest may name
	// Typed re-shows the objection form after it was refused.
	Typed marketing.ObjectionRequest
}

var marketingNotices = map[string]string{
	"saved":     "Your choices were saved.",
	"objected":  "You objected to direct marketing. Every channel is off for good and your address is on our suppression list.",
	"profiling": "You objected to profiling. We no longer use your data to shape what you are shown.",
	"requested": "We recorded your objection. Staff will weigh it and you will see the decision here.",
}

func (s *Server) renderMarketing(w http.ResponseWriter, r *http.Request, status int, accountID string, d marketingPageData) error {
	o, err := s.Services.Campaigns.Overview(r.Context(), accountID)
	if err != nil {
		return err
	}
	p := o.Prefs
	d.Prefs, d.Explanation, d.Purposes = p, p.Relationship.Explain(), o.Purposes
	if !d.Link {
		d.Objections = o.Objections
	}
	for _, c := range marketing.Channels {
		on := p.On(c)
		d.Channels = append(d.Channels, channelRow{Channel: c, Label: c.Label(), On: on,
			Locked: !on && (d.Link || p.Objected || !p.Relationship.MayOptIn() || (c == marketing.Email && p.Suppressed))})
	}
	title := "Marketing preferences"
	section := "account"
	if d.Link {
		section = ""
	}
	return s.pages.render(w, r, status, "marketing_preferences", view{Title: title, Section: section, Data: d})
}

// marketingPage is GET /account/marketing.
func (s *Server) marketingPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderMarketing(w, r, http.StatusOK, mustPrincipal(r).AccountID,
		marketingPageData{Base: "/account/marketing", Notice: marketingNotices[r.URL.Query().Get("done")]})
}

// channelForm reads the channel checkboxes (a ticked box is on) and
// returns the channels whose state the person changed; a box left as it
// was, such as a locked one, asks for nothing.
func channelForm(r *http.Request, p marketing.Preferences) map[string]bool {
	want := map[string]bool{}
	for _, c := range marketing.Channels {
		if ticked := r.PostForm.Get(string(c)) == "on"; ticked != p.On(c) {
			want[string(c)] = ticked
		}
	}
	return want
}

// marketingForm is POST /account/marketing, the channels.
func (s *Server) marketingForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	id := mustPrincipal(r).AccountID
	p, err := s.Services.Campaigns.Preferences(r.Context(), id)
	if err != nil {
		return err
	}
	err = s.Services.Campaigns.SetChannels(r.Context(), actorOf(r), channelForm(r, p), marketing.BySettings)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		return s.renderMarketing(w, r, http.StatusUnprocessableEntity, id, marketingPageData{Base: "/account/marketing", Errors: e.Fields})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account/marketing?done=saved", http.StatusSeeOther)
	return nil
}

// objectionForm reads the objection form.
func objectionForm(r *http.Request) marketing.ObjectionRequest {
	return marketing.ObjectionRequest{
		Kind: marketing.ObjectionKind(r.PostForm.Get(marketing.FieldKind)), Purpose: r.PostForm.Get(marketing.FieldPurpose),
		Statement: r.PostForm.Get(marketing.FieldStatement),
	}
}

func objectionDone(kind marketing.ObjectionKind) string {
	switch kind {
	case marketing.ObjectMarketing:
		return "objected"
	case marketing.ObjectProfiling:
		return "profiling"
	}
	return "requested"
}

// marketingObjectForm is POST /account/marketing/objections.
func (s *Server) marketingObjectForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	id := mustPrincipal(r).AccountID
	in := objectionForm(r)
	res, err := s.Services.Campaigns.Object(r.Context(), actorOf(r), in, marketing.BySettings)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		return s.renderMarketing(w, r, http.StatusUnprocessableEntity, id, marketingPageData{Base: "/account/marketing", Errors: e.Fields, Typed: in})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account/marketing?done="+objectionDone(res.Objection.Kind), http.StatusSeeOther)
	return nil
}

// ---- the page a message's link opens ----

// linkPerson checks the preferences token of the request. A token that
// was altered or forged is refused with 400, and nothing is written; a
// token for an account that no longer exists finds nothing.
func (s *Server) linkPerson(r *http.Request) (string, string, error) {
	token := r.PathValue("token")
	id, err := s.Services.Campaigns.LinkAccount(r.Context(), token)
	if err != nil {
		return "", "", err
	}
	return id, preferencesPath(token), nil
}

// marketingLinkPage is GET /marketing/preferences/{token}.
func (s *Server) marketingLinkPage(w http.ResponseWriter, r *http.Request) error {
	id, base, err := s.linkPerson(r)
	if err != nil {
		return err
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	return s.renderMarketing(w, r, http.StatusOK, id, marketingPageData{Link: true, Base: base, Notice: marketingNotices[r.URL.Query().Get("done")]})
}

// marketingLinkForm is POST /marketing/preferences/{token}: channels may
// be switched off, never on, from a link.
func (s *Server) marketingLinkForm(w http.ResponseWriter, r *http.Request) error {
	id, base, err := s.linkPerson(r)
	if err != nil {
		return err
	}
	if err := readForm(r); err != nil {
		return err
	}
	p, err := s.Services.Campaigns.Preferences(r.Context(), id)
	if err != nil {
		return err
	}
	err = s.Services.Campaigns.SetChannelsByLink(r.Context(), r.PathValue("token"), channelForm(r, p))
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		return s.renderMarketing(w, r, http.StatusUnprocessableEntity, id, marketingPageData{Link: true, Base: base, Errors: e.Fields})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, base+"?done=saved", http.StatusSeeOther)
	return nil
}

// marketingLinkObjectForm is POST /marketing/preferences/{token}/objections:
// the absolute objections, to marketing or to profiling. Objections that
// staff weigh need the person signed in, since they carry their reasons.
func (s *Server) marketingLinkObjectForm(w http.ResponseWriter, r *http.Request) error {
	_, base, err := s.linkPerson(r)
	if err != nil {
		return err
	}
	if err := readForm(r); err != nil {
		return err
	}
	res, err := s.Services.Campaigns.ObjectByLink(r.Context(), r.PathValue("token"), marketing.ObjectionKind(r.PostForm.Get(marketing.FieldKind)))
	if err != nil {
		return err
	}
	http.Redirect(w, r, base+"?done="+objectionDone(res.Objection.Kind), http.StatusSeeOther)
	return nil
}

// ---- one-click unsubscribe (RFC 8058) ----

// unsubscribeData is what marketing_unsubscribe.html shows.
type unsubscribeData struct {
	Done        bool // the person is unsubscribed
	Already     bool // they were before this request
	Action      string
	Preferences string
}

// preferencesPath is the page a preferences token opens.
func preferencesPath(token string) string { return "/marketing/preferences/" + url.PathEscape(token) }

func unsubscribeView(u campaigns.Unsubscription) unsubscribeData {
	d := unsubscribeData{Done: u.Done, Already: u.Already}
	if u.PreferencesToken != "" {
		d.Preferences = preferencesPath(u.PreferencesToken)
	}
	return d
}

// unsubscribePage is GET /unsubscribe/{token}: a confirmation with a
// button. A GET never unsubscribes, because link scanners and previews
// follow links nobody clicked.
func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	u, err := s.Services.Campaigns.UnsubscribeState(r.Context(), token)
	if err != nil {
		return err
	}
	d := unsubscribeView(u)
	d.Action = "/unsubscribe/" + url.PathEscape(token)
	w.Header().Set("Referrer-Policy", "no-referrer")
	return s.pages.render(w, r, http.StatusOK, "marketing_unsubscribe", view{Title: "Unsubscribe", Data: d})
}

// unsubscribePost is POST /unsubscribe/{token}, the one-click
// unsubscribe: mail providers post List-Unsubscribe=One-Click to it
// without cookies, and the confirmation page's button posts the same.
// It records the objection to direct marketing and the suppression at
// once, answers 200 without a redirect, and is idempotent: a replayed
// token changes nothing. A token that was altered, forged or is too old
// is refused before the body is read.
func (s *Server) unsubscribePost(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	if _, _, err := s.Services.Campaigns.CheckUnsubscribe(token); err != nil {
		return err
	}
	if err := r.ParseMultipartForm(64 << 10); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errs.E(errs.TooLarge, "the request is larger than %d bytes", tooBig.Limit)
		}
		return errs.E(errs.Malformed, "the request could not be read")
	}
	if r.PostForm.Get("List-Unsubscribe") != "One-Click" {
		return errs.E(errs.Malformed, "a one-click unsubscribe posts List-Unsubscribe=One-Click")
	}
	u, err := s.Services.Campaigns.Unsubscribe(r.Context(), token)
	if err != nil {
		return err
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	return s.pages.render(w, r, http.StatusOK, "marketing_unsubscribe", view{Title: "Unsubscribed", Data: unsubscribeView(u)})
}

// ---- staff: campaigns ----

// campaignsData is what marketing_campaigns.html shows.
type campaignsData struct {
	Campaigns []marketing.Campaign
	Draft     marketing.CampaignDraft
	Errors    map[string]string
}

// campaignsPage is GET /admin/campaigns: the campaigns and the form
// that composes one.
func (s *Server) campaignsPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderCampaigns(w, r, http.StatusOK, campaignsData{})
}

func (s *Server) renderCampaigns(w http.ResponseWriter, r *http.Request, status int, d campaignsData) error {
	list, err := s.Services.Campaigns.Campaigns(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	d.Campaigns = list
	return s.pages.render(w, r, status, "marketing_campaigns", view{Title: "Campaigns", Section: "admin", Data: d})
}

// campaignCreateForm is POST /admin/campaigns: it stores a draft.
func (s *Server) campaignCreateForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	d := marketing.CampaignDraft{
		Subject: r.PostForm.Get(marketing.FieldSubject), Text: r.PostForm.Get(marketing.FieldText), HTML: r.PostForm.Get(marketing.FieldHTML),
	}
	c, err := s.Services.Campaigns.CreateCampaign(r.Context(), actorOf(r), d)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		_ = d.Clean() // the form shows the text trimmed, as it would be stored
		return s.renderCampaigns(w, r, http.StatusUnprocessableEntity, campaignsData{Draft: d, Errors: e.Fields})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/campaigns/"+url.PathEscape(c.ID), http.StatusSeeOther)
	return nil
}

// campaignData is what marketing_campaign.html shows.
type campaignData struct {
	Campaign marketing.Campaign
	Notice   string
}

// campaignPage is GET /admin/campaigns/{id}.
func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Services.Campaigns.Campaign(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	d := campaignData{Campaign: c}
	if r.URL.Query().Get("done") == "sending" {
		d.Notice = "Sending has started. The job works through the members within the next minutes; reload to follow it."
	}
	return s.pages.render(w, r, http.StatusOK, "marketing_campaign", view{Title: c.Subject, Section: "admin", Data: d})
}

// campaignSendForm is POST /admin/campaigns/{id}/send: the campaign is
// handed to the sending job.
func (s *Server) campaignSendForm(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Services.Campaigns.StartCampaign(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/campaigns/"+url.PathEscape(c.ID)+"?done=sending", http.StatusSeeOther)
	return nil
}

// ---- staff: objections to legitimate-interest processing ----

// objectionsData is what marketing_objections.html shows. The queue names
// no one: weighing an objection needs its grounds, not whose they are.
type objectionsData struct {
	Pending  []marketing.Objection
	Purposes map[string]string
	Notice   string
	Errors   map[string]string
	FailedID string
	Typed    marketing.Decision
}

// objectionsPage is GET /admin/objections.
func (s *Server) objectionsPage(w http.ResponseWriter, r *http.Request) error {
	d := objectionsData{}
	if r.URL.Query().Get("done") == "decided" {
		d.Notice = "The decision was recorded. The person sees it on their marketing page."
	}
	return s.renderObjections(w, r, http.StatusOK, d)
}

func (s *Server) renderObjections(w http.ResponseWriter, r *http.Request, status int, d objectionsData) error {
	q, err := s.Services.Campaigns.PendingObjections(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	d.Pending = q.Pending
	d.Purposes = map[string]string{"": "All processing that rests on our legitimate interest"}
	for id, name := range q.PurposeNames {
		d.Purposes[id] = name
	}
	return s.pages.render(w, r, status, "marketing_objections", view{Title: "Objections", Section: "admin", Data: d})
}

// objectionDecideForm is POST /admin/objections/{id}.
func (s *Server) objectionDecideForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	d := marketing.Decision{Status: marketing.ObjectionStatus(r.PostForm.Get(marketing.FieldStatus)), Grounds: r.PostForm.Get(marketing.FieldGrounds)}
	_, err := s.Services.Campaigns.DecideObjection(r.Context(), actorOf(r), id, d)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		_ = d.Clean() // the form shows the grounds trimmed, as they would be stored
		return s.renderObjections(w, r, http.StatusUnprocessableEntity, objectionsData{Errors: e.Fields, FailedID: id, Typed: d})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/objections?done=decided", http.StatusSeeOther)
	return nil
}
