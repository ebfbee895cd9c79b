package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/meeting"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/service/meetings"
)

// Meetings: the API under /api/meetings and /api/agenda-templates, and the
// pages under /meetings. routes.go wraps every handler here in s.member.
// The use cases, and who may do what, are the meetings service's
// (internal/service/meetings); someone who may not see a meeting gets
// 404, never 403, so that ids cannot be probed. Joining the call, the
// lobby and the room page live elsewhere (the detail page links to the
// room).

// meetingUploadLimit bounds the body of an upload: the file plus room for
// the multipart framing and a title.
const meetingUploadLimit = meeting.MaxFileBytes + 64<<10

// meetingFor loads the meeting in the path with what the member may do.
func (s *Server) meetingFor(r *http.Request) (*principal, meeting.Meeting, meeting.Access, error) {
	p := mustPrincipal(r)
	m, acc, err := s.Services.Meetings.Get(r.Context(), p.AccountID, r.PathValue("id"))
	return p, m, acc, err
}

// ---- JSON shapes ----

type meetingJSON struct {
	ID              string     `json:"id"`
	OrgID           *string    `json:"org_id"`
	HostID          *string    `json:"host_id"`
	Title           string     `json:"title"`
	Description     string     `json:"description"`
	Start           time.Time  `json:"start"`
	TimeZone        string     `json:"time_zone"`
	DurationMinutes int        `json:"duration_minutes"`
	RRule           *string    `json:"rrule"`
	ExDates         []string   `json:"exdates"`
	FollowsID       *string    `json:"follows_id"`
	State           string     `json:"state"`
	Locked          bool       `json:"locked"`
	HasPasscode     bool       `json:"has_passcode"`
	Lobby           bool       `json:"lobby"`
	ICalSequence    int        `json:"ical_sequence"`
	NextOccurrence  *time.Time `json:"next_occurrence"`
	Role            *string    `json:"role"`
	CanEdit         bool       `json:"can_edit"`
	RoomURL         string     `json:"room_url"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	CancelledAt     *time.Time `json:"cancelled_at"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// jsonList converts items for a list in an answer: [] rather than null
// when there are none.
func jsonList[T, J any](items []T, conv func(T) J) []J {
	out := make([]J, 0, len(items))
	for _, it := range items {
		out = append(out, conv(it))
	}
	return out
}

func newMeetingJSON(m meeting.Meeting, acc meeting.Access, now time.Time) meetingJSON {
	j := meetingJSON{
		ID: m.ID, OrgID: optString(m.OrgID), HostID: optString(m.HostID), Title: m.Title, Description: m.Description,
		Start: m.StartsAt, TimeZone: m.TimeZone, DurationMinutes: m.DurationMinutes, RRule: optString(m.RRule),
		ExDates: []string{}, FollowsID: optString(m.FollowsID), State: string(m.State), Locked: m.Locked,
		HasPasscode: m.HasPasscode(), Lobby: m.Lobby, ICalSequence: m.ICalSequence, Role: optString(string(acc.Role)),
		CanEdit: acc.CanEdit() && m.State == meeting.Scheduled, RoomURL: "/meetings/" + url.PathEscape(m.ID) + "/room",
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, CancelledAt: m.CancelledAt,
	}
	for _, t := range m.ExDates {
		j.ExDates = append(j.ExDates, t.Format(time.RFC3339))
	}
	if m.State == meeting.Scheduled {
		if next, ok := m.Next(now); ok {
			j.NextOccurrence = &next
		}
	}
	return j
}

type participantJSON struct {
	ID        string  `json:"id"`
	AccountID *string `json:"account_id"`
	Name      string  `json:"name"`
	// Email is shown to hosts and co-hosts only.
	Email *string `json:"email,omitempty"`
	Role  string  `json:"role"`
	// State is "invited" until the person first comes in, "accepted" after.
	State string `json:"state"`
	// Guest is null while invited: whether the address belongs to an
	// account is not told before the person comes in.
	Guest      *bool     `json:"guest"`
	LobbyState *string   `json:"lobby_state"`
	CreatedAt  time.Time `json:"created_at"`
}

// Participant states in the API.
const (
	participantInvited  = "invited"
	participantAccepted = "accepted"
)

// newParticipantJSON answers with p as the service lists it
// (meeting.Participant.Listed), which hides who an invitee is until they
// come in.
func newParticipantJSON(p meeting.Participant, withEmail bool) participantJSON {
	j := participantJSON{ID: p.ID, AccountID: optString(p.AccountID), Name: p.DisplayNameOrEmpty(), Role: string(p.Role),
		State: participantInvited, LobbyState: optString(p.LobbyState), CreatedAt: p.CreatedAt}
	if p.Accepted() {
		guest := p.Guest()
		j.State, j.Guest = participantAccepted, &guest
	}
	if withEmail && p.Email != "" {
		j.Email = &p.Email
	}
	return j
}

type agendaItemJSON struct {
	ID                 string    `json:"id"`
	Position           int       `json:"position"`
	Title              string    `json:"title"`
	PlannedMinutes     int       `json:"planned_minutes"`
	Notes              string    `json:"notes"`
	OwnerParticipantID *string   `json:"owner_participant_id"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

func newAgendaItemJSON(it meeting.AgendaItem) agendaItemJSON {
	return agendaItemJSON{ID: it.ID, Position: it.Position, Title: it.Title, PlannedMinutes: it.PlannedMinutes,
		Notes: it.Notes, OwnerParticipantID: optString(it.OwnerParticipantID), CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt}
}

type templateJSON struct {
	ID        string                 `json:"id"`
	Name      string                 `json:"name"`
	OrgID     *string                `json:"org_id"`
	Own       bool                   `json:"own"`
	Items     []meeting.TemplateItem `json:"items"`
	CreatedAt time.Time              `json:"created_at"`
}

func newTemplateJSON(t meeting.Template, accountID string) templateJSON {
	return templateJSON{ID: t.ID, Name: t.Name, OrgID: optString(t.OrgID), Own: t.AccountID == accountID, Items: t.Items, CreatedAt: t.CreatedAt}
}

type resourceJSON struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Title       string    `json:"title"`
	URL         *string   `json:"url"`
	Provider    *string   `json:"provider"`
	EmbedURL    *string   `json:"embed_url"`
	ContentType *string   `json:"content_type"`
	SizeBytes   *int64    `json:"size_bytes"`
	DownloadURL *string   `json:"download_url"`
	Mine        bool      `json:"mine"`
	CreatedAt   time.Time `json:"created_at"`
}

func newResourceJSON(r meeting.Resource, accountID string) resourceJSON {
	j := resourceJSON{ID: r.ID, Kind: string(r.Kind), Title: r.Title, Mine: r.AddedBy != "" && r.AddedBy == accountID, CreatedAt: r.CreatedAt}
	if r.Kind == meeting.LinkResource {
		j.URL, j.Provider, j.EmbedURL = optString(r.URL), optString(r.Provider), optString(r.EmbedURL())
	} else {
		d := "/api/meetings/" + url.PathEscape(r.MeetingID) + "/resources/" + url.PathEscape(r.ID)
		size := r.SizeBytes
		j.ContentType, j.SizeBytes, j.DownloadURL = optString(r.ContentType), &size, &d
	}
	return j
}

// ---- input ----

// meetingBody is a meeting as the API takes it; PATCH leaves absent
// fields as they are.
type meetingBody struct {
	Title           *string   `json:"title"`
	Description     *string   `json:"description"`
	Start           *string   `json:"start"`
	TimeZone        *string   `json:"time_zone"`
	DurationMinutes *int      `json:"duration_minutes"`
	RRule           *string   `json:"rrule"`
	ExDates         *[]string `json:"exdates"`
	FollowsID       *string   `json:"follows_id"`
	OrgID           *string   `json:"org_id"`
	Passcode        *string   `json:"passcode"`
	Lobby           *bool     `json:"lobby"`
}

func (b meetingBody) apply(in meeting.Input) meeting.Input {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&in.Title, b.Title)
	set(&in.Description, b.Description)
	set(&in.Start, b.Start)
	set(&in.TimeZone, b.TimeZone)
	set(&in.RRule, b.RRule)
	set(&in.FollowsID, b.FollowsID)
	if b.DurationMinutes != nil {
		in.DurationMinutes = *b.DurationMinutes
	}
	if b.ExDates != nil {
		in.ExDates = *b.ExDates
	}
	if b.Lobby != nil {
		in.Lobby = *b.Lobby
	}
	in.Passcode = b.Passcode
	return in
}

// meetingReadUpload reads a multipart upload with the file in "file" and
// an optional "title", without temporary files. Over the limit is 413.
func meetingReadUpload(r *http.Request) (data []byte, filename, title string, err error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", "", errs.E(errs.Malformed, "the upload must be multipart/form-data")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, "", "", meetingUploadError(err)
		}
		switch part.FormName() {
		case "file":
			filename = part.FileName()
			data, err = io.ReadAll(io.LimitReader(part, meeting.MaxFileBytes+1))
		case "title":
			var b []byte
			b, err = io.ReadAll(io.LimitReader(part, 4096))
			title = string(b)
		}
		part.Close()
		if err != nil {
			return nil, "", "", meetingUploadError(err)
		}
	}
	if data == nil {
		return nil, "", "", &errs.Error{Code: errs.Invalid, Message: "no file was sent", Fields: map[string]string{"file": "choose a file to upload"}}
	}
	return data, filename, title, nil
}

func meetingUploadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errs.E(errs.TooLarge, "the file is larger than 20 MB")
	}
	return errs.E(errs.Malformed, "the upload could not be read")
}

// meetingResourceFor opens the resource {rid} of the meeting {id}, which
// the member must be able to see.
func (s *Server) meetingResourceFor(r *http.Request) (*principal, meetings.Opened, error) {
	p := mustPrincipal(r)
	o, err := s.Services.Meetings.OpenResource(r.Context(), p.AccountID, r.PathValue("id"), r.PathValue("rid"))
	return p, o, err
}

// meetingServeFile writes a shared file as a download that a browser
// neither sniffs nor runs, whatever its content.
func meetingServeFile(w http.ResponseWriter, o meetings.Opened) error {
	if o.Body == nil {
		return errs.E(errs.NotFound, "this resource is not a stored file")
	}
	defer o.Body.Close()
	h := w.Header()
	h.Set("Content-Type", o.ContentType)
	h.Set("Content-Length", strconv.FormatInt(o.Size, 10))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": o.Filename}))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "private, no-store")
	_, err := io.Copy(w, o.Body)
	return err
}

// meetingCalendar writes the meeting as an iCalendar file (PUBLISH).
func (s *Server) meetingCalendar(w http.ResponseWriter, r *http.Request) error {
	cal, err := s.Services.Meetings.Calendar(r.Context(), mustPrincipal(r).AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="meeting.ics"`)
	w.Header().Set("Cache-Control", "private, no-store")
	_, err = w.Write(cal)
	return err
}

// ---- API ----

// apiMeetingsList answers GET /api/meetings.
func (s *Server) apiMeetingsList(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	list, err := s.Services.Meetings.List(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	return writeJSONNoStore(w, http.StatusOK, map[string]any{"meetings": jsonList(list, func(l meeting.Listed) meetingJSON {
		return newMeetingJSON(l.Meeting, l.Access, now)
	})})
}

// apiMeetingsCreate answers POST /api/meetings.
func (s *Server) apiMeetingsCreate(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	var b meetingBody
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	in := b.apply(meeting.Input{Lobby: true})
	orgID := ""
	if b.OrgID != nil {
		orgID = *b.OrgID
	}
	m, err := s.Services.Meetings.Create(r.Context(), p.AccountID, orgID, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/meetings/"+url.PathEscape(m.ID))
	return writeJSONNoStore(w, http.StatusCreated, newMeetingJSON(m, meeting.Access{Role: meeting.Host}, s.Clock.Now()))
}

// apiMeetingGet answers GET /api/meetings/{id}.
func (s *Server) apiMeetingGet(w http.ResponseWriter, r *http.Request) error {
	_, m, acc, err := s.meetingFor(r)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newMeetingJSON(m, acc, s.Clock.Now()))
}

// apiMeetingPatch answers PATCH /api/meetings/{id}.
func (s *Server) apiMeetingPatch(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	m, acc, err := s.Services.Meetings.ForEdit(r.Context(), p.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	var b meetingBody
	if err := decodeJSON(r, &b); err != nil {
		return err
	}
	if b.OrgID != nil {
		return &errs.Error{Code: errs.Invalid, Message: "a meeting's organisation cannot change", Fields: map[string]string{"org_id": "cannot change"}}
	}
	m, err = s.Services.Meetings.Update(r.Context(), p.AccountID, m.ID, b.apply(meeting.InputOf(m)))
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newMeetingJSON(m, acc, s.Clock.Now()))
}

// apiMeetingDelete answers DELETE /api/meetings/{id}: it cancels the
// meeting, telling its participants; with ?permanently=true it deletes a
// cancelled meeting for good.
func (s *Server) apiMeetingDelete(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	id := r.PathValue("id")
	if r.URL.Query().Get("permanently") == "true" {
		if err := s.Services.Meetings.Delete(r.Context(), p.AccountID, id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	m, err := s.Services.Meetings.Cancel(r.Context(), p.AccountID, id)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newMeetingJSON(m, meeting.Access{Role: meeting.Host}, s.Clock.Now()))
}

// apiMeetingCalendar answers GET /api/meetings/{id}/calendar.ics.
func (s *Server) apiMeetingCalendar(w http.ResponseWriter, r *http.Request) error {
	return s.meetingCalendar(w, r)
}

// apiParticipants answers GET /api/meetings/{id}/participants.
func (s *Server) apiParticipants(w http.ResponseWriter, r *http.Request) error {
	ps, acc, err := s.Services.Meetings.Participants(r.Context(), mustPrincipal(r).AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]any{"participants": jsonList(ps, func(pt meeting.Participant) participantJSON {
		return newParticipantJSON(pt, acc.CanEdit())
	})})
}

// apiParticipantsInvite answers POST /api/meetings/{id}/participants.
func (s *Server) apiParticipantsInvite(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	var in struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	pt, err := s.Services.Meetings.Invite(r.Context(), p.AccountID, r.PathValue("id"), in.Email, in.Role)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusCreated, newParticipantJSON(pt, true))
}

// apiParticipantPatch answers PATCH /api/meetings/{id}/participants/{pid}.
func (s *Server) apiParticipantPatch(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	var in struct {
		Role string `json:"role"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	pt, err := s.Services.Meetings.ChangeRole(r.Context(), p.AccountID, r.PathValue("id"), r.PathValue("pid"), meeting.Role(in.Role))
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newParticipantJSON(pt, true))
}

// apiParticipantDelete answers DELETE /api/meetings/{id}/participants/{pid}.
func (s *Server) apiParticipantDelete(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	if err := s.Services.Meetings.RemoveParticipant(r.Context(), p.AccountID, r.PathValue("id"), r.PathValue("pid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type agendaItemBody struct {
	Title              string `json:"title"`
	PlannedMinutes     int    `json:"planned_minutes"`
	Notes              string `json:"notes"`
	OwnerParticipantID string `json:"owner_participant_id"`
}

// decodeAgendaItem reads the JSON of one agenda item.
func decodeAgendaItem(r *http.Request) (meeting.ItemInput, error) {
	var b agendaItemBody
	if err := decodeJSON(r, &b); err != nil {
		return meeting.ItemInput{}, err
	}
	return meeting.ItemInput{Title: b.Title, PlannedMinutes: b.PlannedMinutes, Notes: b.Notes, OwnerParticipantID: b.OwnerParticipantID}, nil
}

func writeAgenda(w http.ResponseWriter, status int, items []meeting.AgendaItem) error {
	out := struct {
		Items        []agendaItemJSON `json:"items"`
		TotalMinutes int              `json:"total_minutes"`
	}{Items: jsonList(items, newAgendaItemJSON), TotalMinutes: meeting.TotalMinutes(items)}
	return writeJSONNoStore(w, status, out)
}

// apiAgenda answers GET /api/meetings/{id}/agenda.
func (s *Server) apiAgenda(w http.ResponseWriter, r *http.Request) error {
	items, err := s.Services.Meetings.Agenda(r.Context(), mustPrincipal(r).AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeAgenda(w, http.StatusOK, items)
}

// apiAgendaAdd answers POST /api/meetings/{id}/agenda.
func (s *Server) apiAgendaAdd(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	in, err := decodeAgendaItem(r)
	if err != nil {
		return err
	}
	items, err := s.Services.Meetings.AddAgendaItems(r.Context(), p.AccountID, r.PathValue("id"), []meeting.ItemInput{in})
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusCreated, newAgendaItemJSON(items[0]))
}

// apiAgendaPatch answers PATCH /api/meetings/{id}/agenda/{itemID}: the
// item is rewritten whole.
func (s *Server) apiAgendaPatch(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	in, err := decodeAgendaItem(r)
	if err != nil {
		return err
	}
	it, err := s.Services.Meetings.UpdateAgendaItem(r.Context(), p.AccountID, r.PathValue("id"), r.PathValue("itemID"), in)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newAgendaItemJSON(it))
}

// apiAgendaDelete answers DELETE /api/meetings/{id}/agenda/{itemID}.
func (s *Server) apiAgendaDelete(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	if err := s.Services.Meetings.DeleteAgendaItem(r.Context(), p.AccountID, r.PathValue("id"), r.PathValue("itemID")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiAgendaOrder answers PUT /api/meetings/{id}/agenda/order.
func (s *Server) apiAgendaOrder(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	var in struct {
		Order []string `json:"order"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	items, err := s.Services.Meetings.ReorderAgenda(r.Context(), p.AccountID, r.PathValue("id"), in.Order)
	if err != nil {
		return err
	}
	return writeAgenda(w, http.StatusOK, items)
}

// apiAgendaFromTemplate answers POST
// /api/meetings/{id}/agenda/from-template/{templateID}.
func (s *Server) apiAgendaFromTemplate(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	items, err := s.Services.Meetings.ApplyTemplate(r.Context(), p.AccountID, r.PathValue("id"), r.PathValue("templateID"))
	if err != nil {
		return err
	}
	return writeAgenda(w, http.StatusOK, items)
}

// apiTemplates answers GET /api/agenda-templates.
func (s *Server) apiTemplates(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	ts, err := s.Services.Meetings.Templates(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]any{"templates": jsonList(ts, func(t meeting.Template) templateJSON {
		return newTemplateJSON(t, p.AccountID)
	})})
}

// apiTemplateCreate answers POST /api/agenda-templates: the agenda of
// meeting_id saved under name.
func (s *Server) apiTemplateCreate(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	var in struct {
		MeetingID string `json:"meeting_id"`
		Name      string `json:"name"`
		OrgID     string `json:"org_id"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	t, err := s.Services.Meetings.SaveTemplate(r.Context(), p.AccountID, in.MeetingID, in.OrgID, in.Name)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusCreated, newTemplateJSON(t, p.AccountID))
}

// apiResources answers GET /api/meetings/{id}/resources.
func (s *Server) apiResources(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	rs, err := s.Services.Meetings.Resources(r.Context(), p.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, map[string]any{"resources": jsonList(rs, func(res meeting.Resource) resourceJSON {
		return newResourceJSON(res, p.AccountID)
	})})
}

// apiResourceAdd answers POST /api/meetings/{id}/resources: a
// multipart/form-data upload (file, title) or a JSON link {title, url}.
func (s *Server) apiResourceAdd(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	id := r.PathValue("id")
	var (
		res meeting.Resource
		err error
	)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		data, filename, title, rerr := meetingReadUpload(r)
		if rerr != nil {
			return rerr
		}
		res, err = s.Services.Meetings.AddFile(r.Context(), p.AccountID, id, data, filename, title)
	} else {
		var in struct {
			Title string `json:"title"`
			URL   string `json:"url"`
		}
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		res, err = s.Services.Meetings.AddLink(r.Context(), p.AccountID, id, in.Title, in.URL)
	}
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusCreated, newResourceJSON(res, p.AccountID))
}

// apiResourceGet answers GET /api/meetings/{id}/resources/{rid}: a file's
// content, or a link's description.
func (s *Server) apiResourceGet(w http.ResponseWriter, r *http.Request) error {
	p, o, err := s.meetingResourceFor(r)
	if err != nil {
		return err
	}
	if o.Resource.Kind == meeting.LinkResource {
		return writeJSONNoStore(w, http.StatusOK, newResourceJSON(o.Resource, p.AccountID))
	}
	return meetingServeFile(w, o)
}

// apiResourceDelete answers DELETE /api/meetings/{id}/resources/{rid}.
func (s *Server) apiResourceDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.Services.Meetings.DeleteResource(r.Context(), mustPrincipal(r).AccountID, r.PathValue("id"), r.PathValue("rid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ---- pages ----

// meetingForm is one form's typed values and messages, as on the
// organisation pages: orgFormFrom fills it from a request and a refusal.
type meetingForm = orgForm

func newMeetingForm() *meetingForm {
	return &meetingForm{Values: map[string]string{}, Errors: map[string]string{}}
}

// accessLabel names the member's part in a meeting: their role, or the
// organisation's admin looking on.
func accessLabel(acc meeting.Access) string {
	if acc.Role == "" {
		return "Organisation admin"
	}
	return acc.Role.Label()
}

type meetingRow struct {
	ID, Title, When, Repeats, RoleLabel, State string
	Cancelled, Past                            bool
}

type meetingsListView struct {
	Upcoming, Past []meetingRow
	Done           string
}

var meetingDone = map[string]string{
	"created":   "The meeting was created.",
	"saved":     "Your changes were saved; invited participants were sent the update.",
	"cancelled": "The meeting was cancelled and its participants were told.",
	"deleted":   "The meeting was deleted.",
	"invited":   "The invitation was sent.",
	"removed":   "The participant was removed and told.",
	"agenda":    "The agenda was updated.",
	"template":  "The agenda was saved as a template.",
	"resource":  "The resources were updated.",
}

// meetingsPage answers GET /meetings.
func (s *Server) meetingsPage(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	list, err := s.Services.Meetings.List(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	mine, mineKnown, err := s.viewerZone(r)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	v := meetingsListView{Done: meetingDone[r.URL.Query().Get("done")]}
	for _, l := range list {
		row := meetingRow{ID: l.ID, Title: l.Title, State: string(l.State), Cancelled: l.State == meeting.Cancelled}
		row.RoleLabel = accessLabel(l.Access)
		next, ok := l.Next(now)
		if !ok {
			next = l.StartsAt
		}
		loc := l.Location()
		if mineKnown {
			loc = mine
		}
		row.When = next.In(loc).Format("Mon 2 Jan 2006, 15:04") + " " + loc.String()
		row.Repeats = l.Sentence()
		if ok && !row.Cancelled {
			v.Upcoming = append(v.Upcoming, row)
		} else {
			row.Past = true
			v.Past = append(v.Past, row)
		}
	}
	return s.pages.render(w, r, http.StatusOK, "meetings_list", view{Title: "Meetings", Section: "meetings", Data: v})
}

type meetingNewView struct {
	Form *scheduleForm
	// Orgs are those the member may schedule in.
	Orgs []org.Organisation
	// DetectZone lets the page's script put the browser's zone in the
	// form, when no zone was known to the server.
	DetectZone bool
}

func (s *Server) renderMeetingNew(w http.ResponseWriter, r *http.Request, status int, f *scheduleForm, detect bool) error {
	p := mustPrincipal(r)
	orgs, err := s.Services.Meetings.HostOrganisations(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	people, err := s.Services.Meetings.Colleagues(r.Context(), p.AccountID)
	if err != nil {
		return err
	}
	ticked := r.PostForm["invite_member"]
	for _, c := range people {
		f.Colleagues = append(f.Colleagues, colleagueChoice{Colleague: c, Checked: slices.Contains(ticked, c.Email)})
	}
	return s.pages.render(w, r, status, "meetings_new", view{Title: "New meeting", Section: "meetings",
		Data: meetingNewView{Form: f, Orgs: orgs, DetectZone: detect}})
}

// meetingsNewPage answers GET /meetings/new. The first meeting starts
// tomorrow at the next full hour, in the member's zone when it is known.
func (s *Server) meetingsNewPage(w http.ResponseWriter, r *http.Request) error {
	loc, known, err := s.viewerZone(r)
	if err != nil {
		return err
	}
	if !known {
		loc = time.UTC
	}
	start := s.Clock.Now().In(loc).Add(24 * time.Hour).Truncate(time.Hour)
	f := newMeetingForm()
	f.Values = map[string]string{"start_date": start.Format("2006-01-02"), "start_time": start.Format("15:04"),
		"time_zone": loc.String(), "duration_minutes": "30", "lobby": "on", "repeat_interval": "1", "repeat_ends": meeting.EndsNever,
		"follows_id": r.URL.Query().Get("follows")}
	return s.renderMeetingNew(w, r, http.StatusOK, newScheduleForm(f, nil, nil), !known)
}

// meetingsCreateForm answers POST /meetings.
func (s *Server) meetingsCreateForm(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	if err := readForm(r); err != nil {
		return err
	}
	m, err := s.Services.Meetings.CreateAndInvite(r.Context(), p.AccountID, r.PostForm.Get("org_id"), meetingInputFromForm(r, meeting.Input{}),
		invitedFromForm(r))
	if c := errs.CodeOf(err); c == errs.Invalid || c == errs.Forbidden || c == errs.RateLimited {
		setRetryAfter(w, err)
		return s.renderMeetingNew(w, r, statusOf[c], scheduleFormFrom(r, err), false)
	}
	if err != nil {
		return err
	}
	meetingRedirect(w, r, m.ID, "created")
	return nil
}

// meetingSections are where on the meeting's page each change is seen:
// after a form, the page opens at that section rather than at its top.
var meetingSections = map[string]string{
	"invited": "people", "removed": "people", "agenda": "agenda", "template": "agenda", "resource": "resources",
	"saved": "details", "cancelled": "top", "created": "top",
}

func meetingRedirect(w http.ResponseWriter, r *http.Request, id, done string) {
	to := "/meetings/" + url.PathEscape(id) + "?done=" + done
	if sec := meetingSections[done]; sec != "" {
		to += "#" + sec
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

type participantRow struct {
	ID, Name, Email, RoleLabel string
	// Invited is true until the person first comes in; Guest is only
	// said after that.
	Invited, Guest, CanRemove bool
}

// Who names the participant to a host: their name, or the address they
// were invited at until they come in.
func (p participantRow) Who() string {
	if p.Invited && p.Email != "" {
		return p.Email
	}
	return p.Name
}

type agendaRow struct {
	meeting.AgendaItem
	Owner       string
	First, Last bool
}

type resourceRow struct {
	meeting.Resource
	Label, Size string
	CanDelete   bool
}

type meetingPageView struct {
	Meeting      meeting.Meeting
	Times        meetingTimes
	PageURL      string
	RoleLabel    string
	CanEdit      bool
	IsHost       bool
	Cancelled    bool
	Participants []participantRow
	Agenda       []agendaRow
	TotalMinutes int
	Resources    []resourceRow
	Templates    []meeting.Template
	Edit         *scheduleForm
	Invite       *meetingForm
	Item         *meetingForm
	// EditItem is the edit form of the agenda item EditItemID, sent back
	// with what to correct.
	EditItem   *meetingForm
	EditItemID string
	Resource   *meetingForm
	Done       string
	Problem    string
}

// meetingPageData reads the meeting in the path and what its page shows
// the member.
func (s *Server) meetingPageData(r *http.Request) (*meetingPageView, error) {
	p := mustPrincipal(r)
	d, err := s.Services.Meetings.Page(r.Context(), p.AccountID, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	mine, ok, err := s.viewerZone(r)
	if err != nil {
		return nil, err
	}
	m, acc, now := d.Meeting, d.Access, s.Clock.Now()
	v := &meetingPageView{Meeting: m, Times: timesFor(m, now, mine, ok), PageURL: meeting.LinksFor(s.Config.BaseURL).Page(m.ID),
		RoleLabel: accessLabel(acc), CanEdit: acc.CanEdit() && m.State == meeting.Scheduled,
		IsHost: acc.IsHost(), Cancelled: m.State == meeting.Cancelled,
		Invite: newMeetingForm(), Item: newMeetingForm(), Resource: newMeetingForm(), Edit: scheduleFormOf(m)}
	names := map[string]string{}
	for _, pt := range d.Participants {
		row := participantRow{ID: pt.ID, Name: pt.DisplayNameOrEmpty(), RoleLabel: pt.Role.Label(), Invited: !pt.Accepted(),
			Guest: pt.Accepted() && pt.Guest()}
		if row.Name == "" {
			row.Name = "Invited participant"
		}
		if v.CanEdit {
			row.Email = pt.Email
			row.CanRemove = pt.Role != meeting.Host && (pt.Role != meeting.CoHost || acc.IsHost())
		}
		names[pt.ID] = row.Name
		v.Participants = append(v.Participants, row)
	}
	items := d.Agenda
	for i, it := range items {
		v.Agenda = append(v.Agenda, agendaRow{AgendaItem: it, Owner: names[it.OwnerParticipantID], First: i == 0, Last: i == len(items)-1})
	}
	v.TotalMinutes = meeting.TotalMinutes(items)
	for _, res := range d.Resources {
		row := resourceRow{Resource: res, Label: res.ProviderLabel(), CanDelete: acc.CanEdit() || (res.AddedBy == p.AccountID && acc.IsParticipant())}
		if res.Kind == meeting.FileResource {
			row.Label = "File"
			row.Size = humanSize(res.SizeBytes)
		}
		v.Resources = append(v.Resources, row)
	}
	if v.CanEdit {
		v.Templates = d.Templates
	}
	return v, nil
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

func (s *Server) renderMeetingPage(w http.ResponseWriter, r *http.Request, status int, v *meetingPageView) error {
	return s.pages.render(w, r, status, "meetings_show", view{Title: v.Meeting.Title, Section: "meetings", Data: v})
}

// meetingPage answers GET /meetings/{id}.
func (s *Server) meetingPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.meetingPageData(r)
	if err != nil {
		return err
	}
	v.Done = meetingDone[r.URL.Query().Get("done")]
	return s.renderMeetingPage(w, r, http.StatusOK, v)
}

// meetingFormResult finishes a form on the meeting page: success goes
// back to the page with a message; a refusal the person can correct shows
// the page again with what was typed and why; anything else is an error
// page. form picks which of the page's forms gets the messages.
func (s *Server) meetingFormResult(w http.ResponseWriter, r *http.Request, err error, done string, form func(*meetingPageView, *meetingForm), fields ...string) error {
	if err == nil {
		meetingRedirect(w, r, r.PathValue("id"), done)
		return nil
	}
	code := errs.CodeOf(err)
	if code != errs.Invalid && code != errs.Conflict && code != errs.Forbidden && code != errs.Unsupported && code != errs.TooLarge &&
		code != errs.RateLimited {
		return err
	}
	v, lerr := s.meetingPageData(r)
	if lerr != nil {
		return lerr
	}
	setRetryAfter(w, err)
	f := orgFormFrom(r, err, fields...)
	if e, ok := errs.As(err); ok && len(e.Fields) == 0 {
		v.Problem = sentence(e.Message)
	}
	if form != nil {
		form(v, f)
	}
	return s.renderMeetingPage(w, r, statusOf[code], v)
}

// meetingEditForm answers POST /meetings/{id}.
func (s *Server) meetingEditForm(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	m, _, err := s.Services.Meetings.ForEdit(r.Context(), p.AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := readForm(r); err != nil {
		return err
	}
	_, err = s.Services.Meetings.Update(r.Context(), p.AccountID, m.ID, meetingInputFromForm(r, meeting.InputOf(m)))
	return s.meetingFormResult(w, r, err, "saved", func(v *meetingPageView, _ *meetingForm) { v.Edit = scheduleFormFrom(r, err) })
}

// confirmView asks before a change that cannot be undone.
type confirmView struct {
	Question, Detail, Button string
	// Action is where the confirmed form posts; Back, the section of the
	// meeting's page to go back to.
	Action, Back string
}

// confirmed reports whether the form carries the person's confirmation
// (confirm=yes, which the buttons of the confirming step send). When it
// does not, as when a page's own dialog could not ask, it answers with a
// page that asks, whose button sends the form again, confirmed.
func (s *Server) confirmed(w http.ResponseWriter, r *http.Request, section string, ask func(*meetingPageView) (question, detail, button string, ok bool)) (bool, error) {
	if err := readForm(r); err != nil {
		return false, err
	}
	if r.PostForm.Get("confirm") == "yes" {
		return true, nil
	}
	v, err := s.meetingPageData(r)
	if err != nil {
		return false, err
	}
	q, detail, button, ok := ask(v)
	if !ok {
		return false, errs.E(errs.NotFound, "there is no such item in this meeting")
	}
	cv := confirmView{Question: q, Detail: detail, Button: button, Action: r.URL.Path,
		Back: "/meetings/" + url.PathEscape(v.Meeting.ID) + "#" + section}
	return false, s.pages.render(w, r, http.StatusOK, "meetings_confirm", view{Title: q, Section: "account", Data: cv})
}

// meetingCancelForm answers POST /meetings/{id}/cancel.
func (s *Server) meetingCancelForm(w http.ResponseWriter, r *http.Request) error {
	ok, err := s.confirmed(w, r, "top", func(v *meetingPageView) (string, string, string, bool) {
		return "Cancel " + v.Meeting.Title + "?", "Everyone invited is told, the meeting leaves their calendars, and their links stop working. This cannot be undone.",
			"Cancel the meeting", true
	})
	if !ok {
		return err
	}
	_, err = s.Services.Meetings.Cancel(r.Context(), mustPrincipal(r).AccountID, r.PathValue("id"))
	return s.meetingFormResult(w, r, err, "cancelled", nil)
}

// meetingDeleteForm answers POST /meetings/{id}/delete.
func (s *Server) meetingDeleteForm(w http.ResponseWriter, r *http.Request) error {
	ok, err := s.confirmed(w, r, "top", func(v *meetingPageView) (string, string, string, bool) {
		return "Delete " + v.Meeting.Title + " for good?", "Its agenda, files and participant list are deleted with it. This cannot be undone.",
			"Delete the meeting", true
	})
	if !ok {
		return err
	}
	if err := s.Services.Meetings.Delete(r.Context(), mustPrincipal(r).AccountID, r.PathValue("id")); err != nil {
		return s.meetingFormResult(w, r, err, "", nil)
	}
	http.Redirect(w, r, "/meetings?done=deleted", http.StatusSeeOther)
	return nil
}

// meetingInviteForm answers POST /meetings/{id}/participants.
func (s *Server) meetingInviteForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	_, err := s.Services.Meetings.Invite(r.Context(), mustPrincipal(r).AccountID, r.PathValue("id"), r.PostForm.Get("email"), r.PostForm.Get("role"))
	return s.meetingFormResult(w, r, err, "invited", func(v *meetingPageView, f *meetingForm) { v.Invite = f }, "email", "role")
}

// meetingRemoveForm answers POST /meetings/{id}/participants/{pid}/remove.
func (s *Server) meetingRemoveForm(w http.ResponseWriter, r *http.Request) error {
	ok, err := s.confirmed(w, r, "people", func(v *meetingPageView) (string, string, string, bool) {
		for _, pt := range v.Participants {
			if pt.ID == r.PathValue("pid") {
				return "Remove " + pt.Who() + "?", "They are told by e-mail, the meeting leaves their calendar, and their link stops working.",
					"Remove " + pt.Who(), true
			}
		}
		return "", "", "", false
	})
	if !ok {
		return err
	}
	err = s.Services.Meetings.RemoveParticipant(r.Context(), mustPrincipal(r).AccountID, r.PathValue("id"), r.PathValue("pid"))
	return s.meetingFormResult(w, r, err, "removed", nil)
}

// meetingAgendaForm answers POST /meetings/{id}/agenda: a new item.
func (s *Server) meetingAgendaForm(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	if err := readForm(r); err != nil {
		return err
	}
	minutes, _ := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("planned_minutes")))
	_, err := s.Services.Meetings.AddAgendaItems(r.Context(), p.AccountID, r.PathValue("id"), []meeting.ItemInput{{Title: r.PostForm.Get("title"),
		PlannedMinutes: minutes, Notes: r.PostForm.Get("notes"), OwnerParticipantID: r.PostForm.Get("owner_participant_id")}})
	return s.meetingFormResult(w, r, err, "agenda", func(v *meetingPageView, f *meetingForm) { v.Item = f }, "title", "planned_minutes", "notes", "owner_participant_id")
}

// meetingAgendaDeleteForm answers POST /meetings/{id}/agenda/{itemID}/delete.
func (s *Server) meetingAgendaDeleteForm(w http.ResponseWriter, r *http.Request) error {
	ok, err := s.confirmed(w, r, "agenda", func(v *meetingPageView) (string, string, string, bool) {
		for _, it := range v.Agenda {
			if it.ID == r.PathValue("itemID") {
				return "Remove “" + it.Title + "” from the agenda?", "Its notes go with it.", "Remove the item", true
			}
		}
		return "", "", "", false
	})
	if !ok {
		return err
	}
	err = s.Services.Meetings.DeleteAgendaItem(r.Context(), mustPrincipal(r).AccountID, r.PathValue("id"), r.PathValue("itemID"))
	return s.meetingFormResult(w, r, err, "agenda", nil)
}

// meetingAgendaEditForm answers POST /meetings/{id}/agenda/{itemID}: the
// item rewritten whole.
func (s *Server) meetingAgendaEditForm(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	if err := readForm(r); err != nil {
		return err
	}
	minutes, _ := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("planned_minutes")))
	itemID := r.PathValue("itemID")
	_, err := s.Services.Meetings.UpdateAgendaItem(r.Context(), p.AccountID, r.PathValue("id"), itemID, meeting.ItemInput{Title: r.PostForm.Get("title"),
		PlannedMinutes: minutes, Notes: r.PostForm.Get("notes"), OwnerParticipantID: r.PostForm.Get("owner_participant_id")})
	return s.meetingFormResult(w, r, err, "agenda", func(v *meetingPageView, f *meetingForm) { v.EditItem, v.EditItemID = f, itemID },
		"title", "planned_minutes", "notes", "owner_participant_id")
}

// meetingAgendaMoveForm answers POST /meetings/{id}/agenda/{itemID}/move
// with direction "up" or "down", the phone-friendly way to reorder.
func (s *Server) meetingAgendaMoveForm(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	if err := readForm(r); err != nil {
		return err
	}
	_, err := s.Services.Meetings.MoveAgendaItem(r.Context(), p.AccountID, r.PathValue("id"), r.PathValue("itemID"), r.PostForm.Get("direction"))
	return s.meetingFormResult(w, r, err, "agenda", nil)
}

// meetingTemplateForm answers POST /meetings/{id}/agenda/template.
func (s *Server) meetingTemplateForm(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	if err := readForm(r); err != nil {
		return err
	}
	_, err := s.Services.Meetings.SaveTemplate(r.Context(), p.AccountID, r.PathValue("id"), "", r.PostForm.Get("name"))
	return s.meetingFormResult(w, r, err, "template", nil)
}

// meetingApplyTemplateForm answers POST /meetings/{id}/agenda/apply.
func (s *Server) meetingApplyTemplateForm(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	if err := readForm(r); err != nil {
		return err
	}
	_, err := s.Services.Meetings.ApplyTemplate(r.Context(), p.AccountID, r.PathValue("id"), r.PostForm.Get("template_id"))
	return s.meetingFormResult(w, r, err, "agenda", nil)
}

// meetingResourceForm answers POST /meetings/{id}/resources: a
// multipart form with a file, or a link.
func (s *Server) meetingResourceForm(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	id := r.PathValue("id")
	var err error
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		data, filename, title, rerr := meetingReadUpload(r)
		if rerr != nil {
			return rerr
		}
		_, err = s.Services.Meetings.AddFile(r.Context(), p.AccountID, id, data, filename, title)
		r.PostForm = url.Values{}
	} else {
		if err := readForm(r); err != nil {
			return err
		}
		_, err = s.Services.Meetings.AddLink(r.Context(), p.AccountID, id, r.PostForm.Get("title"), r.PostForm.Get("url"))
	}
	return s.meetingFormResult(w, r, err, "resource", func(v *meetingPageView, f *meetingForm) { v.Resource = f }, "title", "url")
}

// meetingResourceDeleteForm answers POST /meetings/{id}/resources/{rid}/delete.
func (s *Server) meetingResourceDeleteForm(w http.ResponseWriter, r *http.Request) error {
	ok, err := s.confirmed(w, r, "resources", func(v *meetingPageView) (string, string, string, bool) {
		for _, res := range v.Resources {
			if res.ID == r.PathValue("rid") {
				return "Remove “" + res.Title + "”?", "Nobody in the meeting will find it here any more; a file is deleted.", "Remove it", true
			}
		}
		return "", "", "", false
	})
	if !ok {
		return err
	}
	err = s.Services.Meetings.DeleteResource(r.Context(), mustPrincipal(r).AccountID, r.PathValue("id"), r.PathValue("rid"))
	return s.meetingFormResult(w, r, err, "resource", nil)
}

// meetingFilePage answers GET /meetings/{id}/resources/{rid}.
func (s *Server) meetingFilePage(w http.ResponseWriter, r *http.Request) error {
	_, o, err := s.meetingResourceFor(r)
	if err != nil {
		return err
	}
	return meetingServeFile(w, o)
}

// meetingCalendarPage answers GET /meetings/{id}/calendar.ics.
func (s *Server) meetingCalendarPage(w http.ResponseWriter, r *http.Request) error {
	return s.meetingCalendar(w, r)
}
