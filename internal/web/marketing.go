package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/marketing"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/gate"
	"github.com/sessionshq/sessions/internal/store"
)

// Marketing: a member's preferences per channel and their objections
// (signed in, or through the signed link every marketing message
// carries), the RFC 8058 one-click unsubscribe, campaigns composed by
// staff and sent by a job, and the staff queue of objections to
// legitimate-interest processing. There is no route, handler or query
// that sells or shares personal data for anyone else's marketing.

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

// loadMarketing reads a member's marketing state and objections.
func (s *Server) loadMarketing(ctx context.Context, accountID string) (marketing.Preferences, []marketing.Objection, error) {
	p, _, err := store.MarketingPreferences(ctx, s.DB, s.Secret, accountID, s.Clock.Now())
	if err != nil {
		return p, nil, err
	}
	objections, err := store.ObjectionsOf(ctx, s.DB, accountID)
	return p, objections, err
}

// ---- the API ----

// apiMarketingGet is GET /api/me/marketing.
func (s *Server) apiMarketingGet(w http.ResponseWriter, r *http.Request) error {
	p, objections, err := s.loadMarketing(r.Context(), mustPrincipal(r).AccountID)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, marketingOut(p, objections))
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
	id := mustPrincipal(r).AccountID
	if err := s.setChannels(r.Context(), memberActor(id), id, in.Channels, true, marketing.ByAPI); err != nil {
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
	id := mustPrincipal(r).AccountID
	res, err := s.object(r.Context(), memberActor(id), id, in, marketing.ByAPI, "")
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Changed {
		status = http.StatusCreated
	}
	return writeJSON(w, status, objectionOut(res.Objection))
}

// setChannels checks and stores the channel states a person asks for.
func (s *Server) setChannels(ctx context.Context, actor audit.Party, accountID string, want map[string]bool, allowOn bool, method marketing.Method) error {
	p, _, err := store.MarketingPreferences(ctx, s.DB, s.Secret, accountID, s.Clock.Now())
	if err != nil {
		return err
	}
	changes, err := p.Edit(want, allowOn)
	if err != nil {
		return err
	}
	return store.SetMarketingChannels(ctx, s.DB, s.Secret, actor, accountID, changes, method, s.Clock.Now())
}

// object records an objection and logs, without personal data, that one
// was made.
func (s *Server) object(ctx context.Context, actor audit.Party, accountID string, in marketing.ObjectionRequest, method marketing.Method, campaignID string) (store.ObjectionResult, error) {
	if err := in.Clean(); err != nil {
		return store.ObjectionResult{}, err
	}
	res, err := store.Object(ctx, s.DB, s.Secret, actor, accountID, in, method, campaignID, s.Clock.Now())
	if err != nil {
		return res, err
	}
	if res.Changed {
		s.Log.LogAttrs(ctx, slog.LevelInfo, "objection recorded", slog.String("kind", string(in.Kind)), slog.String("method", string(method)))
	}
	return res, nil
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
	p, objections, err := s.loadMarketing(r.Context(), accountID)
	if err != nil {
		return err
	}
	d.Prefs, d.Explanation = p, p.Relationship.Explain()
	if !d.Link {
		d.Objections = objections
	}
	for _, c := range marketing.Channels {
		on := p.On(c)
		d.Channels = append(d.Channels, channelRow{Channel: c, Label: c.Label(), On: on,
			Locked: !on && (d.Link || p.Objected || !p.Relationship.MayOptIn() || (c == marketing.Email && p.Suppressed))})
	}
	for _, pu := range datamap.Default().Purposes {
		if pu.ID != marketing.Purpose && marketing.LegitimateInterestPurpose(pu.ID) {
			d.Purposes = append(d.Purposes, pu)
		}
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
	p, _, err := store.MarketingPreferences(r.Context(), s.DB, s.Secret, id, s.Clock.Now())
	if err != nil {
		return err
	}
	err = s.setChannels(r.Context(), memberActor(id), id, channelForm(r, p), true, marketing.BySettings)
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
	res, err := s.object(r.Context(), memberActor(id), id, in, marketing.BySettings, "")
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
	id, err := marketing.CheckPreferences(s.Secret, token, s.Clock.Now())
	if err != nil {
		return "", "", errs.E(errs.Malformed, "this link is not valid: it may have been altered or cut short, or it is too old")
	}
	if _, err := store.AccountByID(r.Context(), s.DB, id); errors.Is(err, database.ErrNotFound) {
		return "", "", errs.E(errs.NotFound, "the account this link was for no longer exists, so nothing will be sent to it")
	} else if err != nil {
		return "", "", err
	}
	return id, "/marketing/preferences/" + url.PathEscape(token), nil
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
	p, _, err := store.MarketingPreferences(r.Context(), s.DB, s.Secret, id, s.Clock.Now())
	if err != nil {
		return err
	}
	err = s.setChannels(r.Context(), anonymousParty, id, channelForm(r, p), false, marketing.ByLink)
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
	id, base, err := s.linkPerson(r)
	if err != nil {
		return err
	}
	if err := readForm(r); err != nil {
		return err
	}
	in := marketing.ObjectionRequest{Kind: marketing.ObjectionKind(r.PostForm.Get(marketing.FieldKind))}
	if !in.Kind.Absolute() {
		return &errs.Error{Code: errs.Invalid, Message: "some fields are not valid",
			Fields: map[string]string{marketing.FieldKind: "must be marketing or profiling here; sign in to object to other processing"}}
	}
	res, err := s.object(r.Context(), anonymousParty, id, in, marketing.ByLink, "")
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

// unsubscribeToken checks the token of an unsubscribe URL: 400 and
// nothing written when it was altered, forged or is too old.
func (s *Server) unsubscribeToken(r *http.Request) (personID, campaignID string, err error) {
	personID, campaignID, err = marketing.CheckUnsubscribe(s.Secret, r.PathValue("token"), s.Clock.Now())
	if err != nil {
		return "", "", errs.E(errs.Malformed, "this unsubscribe link is not valid: it may have been altered or cut short, or it is too old. Sign in to change your marketing preferences")
	}
	return personID, campaignID, nil
}

// unsubscribePage is GET /unsubscribe/{token}: a confirmation with a
// button. A GET never unsubscribes, because link scanners and previews
// follow links nobody clicked.
func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) error {
	personID, _, err := s.unsubscribeToken(r)
	if err != nil {
		return err
	}
	d := unsubscribeData{Action: "/unsubscribe/" + url.PathEscape(r.PathValue("token"))}
	p, _, err := store.MarketingPreferences(r.Context(), s.DB, s.Secret, personID, s.Clock.Now())
	switch {
	case errors.Is(err, database.ErrNotFound):
		d.Done, d.Already = true, true
	case err != nil:
		return err
	default:
		d.Already = p.Objected
		d.Done = p.Objected
		d.Preferences = "/marketing/preferences/" + url.PathEscape(marketing.PreferencesToken(s.Secret, personID, s.Clock.Now()))
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	return s.pages.render(w, r, http.StatusOK, "marketing_unsubscribe", view{Title: "Unsubscribe", Data: d})
}

// unsubscribePost is POST /unsubscribe/{token}, the one-click
// unsubscribe: mail providers post List-Unsubscribe=One-Click to it
// without cookies, and the confirmation page's button posts the same.
// It records the objection to direct marketing and the suppression at
// once, answers 200 without a redirect, and is idempotent: a replayed
// token changes nothing.
func (s *Server) unsubscribePost(w http.ResponseWriter, r *http.Request) error {
	personID, campaignID, err := s.unsubscribeToken(r)
	if err != nil {
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
	d := unsubscribeData{Done: true}
	res, err := s.object(r.Context(), anonymousParty, personID, marketing.ObjectionRequest{Kind: marketing.ObjectMarketing}, marketing.ByUnsubscribe, campaignID)
	switch {
	case errors.Is(err, database.ErrNotFound):
		// The account is gone, and with it anything we could send.
		d.Already = true
	case err != nil:
		return err
	default:
		d.Already = !res.Changed
		d.Preferences = "/marketing/preferences/" + url.PathEscape(marketing.PreferencesToken(s.Secret, personID, s.Clock.Now()))
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	return s.pages.render(w, r, http.StatusOK, "marketing_unsubscribe", view{Title: "Unsubscribed", Data: d})
}

// ---- sending campaigns ----

// SendCampaigns works through the campaigns being sent, one batch (one
// transaction) at a time, up to marketing.MaxBatchesPerRun batches; the
// periodic job calls it, and what is left waits for its next run. Every
// message goes to a member the purpose gate allows marketing for, whose
// e-mail channel is on and whose address is not suppressed. It returns
// how many messages it queued.
func (s *Server) SendCampaigns(ctx context.Context) (int, error) {
	ids, err := store.SendingCampaigns(ctx, s.DB)
	if err != nil {
		return 0, err
	}
	queued, batches := 0, 0
	for _, id := range ids {
		for batches < marketing.MaxBatchesPerRun {
			batches++
			res, err := store.SendCampaignBatch(ctx, s.DB, s.Secret, id, s.Clock.Now(), s.campaignGate, s.campaignLinks)
			if err != nil {
				return queued, err
			}
			queued += len(res.MailIDs)
			if s.Mail != nil && len(res.MailIDs) > 0 {
				s.Mail.Dispatch(ctx, res.MailIDs...)
			}
			s.Log.LogAttrs(ctx, slog.LevelInfo, "campaign batch", slog.String("campaign", id),
				slog.Int("queued", len(res.MailIDs)), slog.Int("skipped", res.Skipped), slog.Bool("done", res.Done))
			if res.Done {
				break
			}
		}
	}
	return queued, nil
}

// campaignGate asks the purpose gate about marketing to a member; it
// fails closed.
func (s *Server) campaignGate(ctx context.Context, accountID string) (bool, error) {
	d, err := s.allowedFor(ctx, gate.Member(accountID), marketing.Purpose)
	if err != nil {
		return false, err
	}
	return d.Allowed, nil
}

// campaignLinks makes a recipient's absolute unsubscribe and preference
// links under the server's public address.
func (s *Server) campaignLinks(campaignID string, r marketing.Recipient) marketing.Links {
	base := strings.TrimSuffix(s.Config.BaseURL, "/")
	now := s.Clock.Now()
	return marketing.Links{
		Unsubscribe: base + "/unsubscribe/" + marketing.UnsubscribeToken(s.Secret, r.AccountID, campaignID, now),
		Preferences: base + "/marketing/preferences/" + marketing.PreferencesToken(s.Secret, r.AccountID, now),
	}
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
	list, err := store.ListCampaigns(r.Context(), s.DB)
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
	if err := d.Clean(); err != nil {
		if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
			return s.renderCampaigns(w, r, http.StatusUnprocessableEntity, campaignsData{Draft: d, Errors: e.Fields})
		}
		return err
	}
	c, err := store.CreateCampaign(r.Context(), s.DB, s.Secret, staffActor(r.Context()), d, s.Clock.Now())
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
	c, err := store.GetCampaign(r.Context(), s.DB, r.PathValue("id"))
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
	c, err := store.StartCampaign(r.Context(), s.DB, s.Secret, staffActor(r.Context()), r.PathValue("id"), s.Clock.Now())
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
	list, err := store.PendingObjections(r.Context(), s.DB)
	if err != nil {
		return err
	}
	d.Pending = list
	d.Purposes = map[string]string{"": "All processing that rests on our legitimate interest"}
	for _, p := range datamap.Default().Purposes {
		d.Purposes[p.ID] = p.Name
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
	if err := d.Clean(); err != nil {
		if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
			return s.renderObjections(w, r, http.StatusUnprocessableEntity, objectionsData{Errors: e.Fields, FailedID: id, Typed: d})
		}
		return err
	}
	if _, err := store.DecideObjection(r.Context(), s.DB, s.Secret, staffActor(r.Context()), id, d, s.Clock.Now()); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/objections?done=decided", http.StatusSeeOther)
	return nil
}
