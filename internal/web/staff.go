package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/accounts"
	"github.com/sessionshq/sessions/internal/staff"
)

// The staff console: its guard, its landing page, looking a person up,
// the staff register, the access log a person reads about themselves, and
// the one-time setup of the first administrator. What each role may do is
// decided in internal/staff; routes.go wraps each console route in
// s.can(permission).

// can refuses, before the handler reads anything, a request whose member
// lacks permission p. The rule is the service layer's (service.Actor), the
// one every service method applies again inside its transaction; asking
// it here early keeps strangers' bodies unread.
func (s *Server) can(p staff.Permission) func(handlerFunc) handlerFunc {
	return func(h handlerFunc) handlerFunc {
		return s.member(func(w http.ResponseWriter, r *http.Request) error {
			if err := actorOf(r).Require(p); err != nil {
				return staffRefusal{err}
			}
			return h(w, r)
		})
	}
}

// canEither is can for a route that either of two permissions opens; the
// refusal names the first.
func (s *Server) canEither(p, q staff.Permission) func(handlerFunc) handlerFunc {
	return func(h handlerFunc) handlerFunc {
		return s.member(func(w http.ResponseWriter, r *http.Request) error {
			if a := actorOf(r); !a.Can(q) {
				if err := a.Require(p); err != nil {
					return staffRefusal{err}
				}
			}
			return h(w, r)
		})
	}
}

// actorOf is the service layer's name for the member behind a request,
// nobody when it is anonymous.
func actorOf(r *http.Request) service.Actor {
	p, _ := r.Context().Value(principalKey{}).(*principal)
	if p == nil || p == noPrincipal {
		return service.Actor{}
	}
	return service.Actor{AccountID: p.AccountID, Roles: staff.ParseRoles(p.Staff), Dormant: staff.ParseRoles(p.Dormant)}
}

// staffRoles are the roles of the member behind a guarded request.
func staffRoles(r *http.Request) []staff.Role { return staff.ParseRoles(mustPrincipal(r).Staff) }

// staffActor is the audit log's name for the staff member behind a
// request that went through s.staff.
func staffActor(ctx context.Context) audit.Party {
	p, _ := ctx.Value(principalKey{}).(*principal)
	if p == nil || p == noPrincipal {
		panic("web: staffActor needs a request through s.staff")
	}
	return audit.Party{Kind: "staff", ID: p.AccountID}
}

// staffTime formats a time on console and member pages.
func staffTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// ---------- Landing ----------

// adminView is the instance summary on the console's landing page, shown
// to those who manage settings. It holds no secret: a database URL or
// SMTP host never reaches a page.
type adminView struct {
	BaseURL  string
	Secure   bool
	Database string
	SMTP     bool
}

// consoleView is the landing page: who is signed in, with which roles,
// and the tools those roles open.
type consoleView struct {
	Name          string
	StaffID       string
	Roles         []staff.Role
	People        bool
	Audit         bool
	Subprocessors bool
	Staff         bool
	Outbox        bool
	Analytics     bool
	Notice        bool
	Campaigns     bool
	Objections    bool
	Requests      bool
	Retention     bool
	Instance      *adminView
	// Dormant are the roles the member holds that wait for two-step
	// sign-in; the page then says how to turn it on, and nothing else.
	Dormant []staff.Role
}

// adminPage is the staff console's landing page: each role sees the tools
// it may use, and nothing else. A member whose roles wait for two-step
// sign-in is told to turn it on (403: the console is not theirs yet).
func (s *Server) adminPage(w http.ResponseWriter, r *http.Request) error {
	p := mustPrincipal(r)
	actor := actorOf(r)
	if err := actor.Require(staff.OpenConsole); err != nil {
		if len(actor.Dormant) == 0 {
			return err
		}
		return s.pages.render(w, r, http.StatusForbidden, "admin", view{Title: "Staff console", Section: "admin",
			Data: consoleView{Name: p.Name, StaffID: p.AccountID, Dormant: actor.Dormant}})
	}
	roles := staffRoles(r)
	v := consoleView{
		Name: p.Name, StaffID: p.AccountID, Roles: roles,
		People:        staff.Can(roles, staff.LookUpPeople),
		Audit:         staff.Can(roles, staff.ReadAuditLog),
		Subprocessors: staff.Can(roles, staff.EditSubprocessors),
		Staff:         staff.Can(roles, staff.ManageStaff),
		Outbox:        staff.Can(roles, staff.OperateOutbox),
		Analytics:     staff.Can(roles, staff.ViewAnalytics),
		Notice:        staff.Can(roles, staff.PublishNotice),
		Campaigns:     staff.Can(roles, staff.SendMarketing),
		Objections:    staff.Can(roles, staff.HandleRightsRequests),
		Requests:      staff.Can(roles, staff.HandleRightsRequests),
		Retention:     staff.Can(roles, staff.ReviewRetention),
	}
	if staff.Can(roles, staff.ManageSettings) {
		in, err := s.Services.Console.Instance(r.Context(), actorOf(r))
		if err != nil {
			return err
		}
		v.Instance = &adminView{BaseURL: in.BaseURL, Secure: in.Secure, Database: in.Database, SMTP: in.SMTP}
	}
	return s.pages.render(w, r, http.StatusOK, "admin", view{Title: "Staff console", Section: "admin", Data: v})
}

// ---------- People ----------

// lookUp finds the account id for an e-mail address or id typed by staff;
// the service writes the audit entry of the lookup.
func (s *Server) lookUp(r *http.Request, query string) (string, error) {
	return s.Services.Console.LookUp(r.Context(), actorOf(r), query)
}

// peopleView is the lookup page and, after a search, its result.
type peopleView struct {
	Query    string
	Searched bool
	FoundID  string
	Errors   map[string]string
	Reason   reasonView
}

// peoplePage answers GET /admin/people: the lookup form and, with ?q=,
// the id of the matching account with the form to open it. The lookup
// shows nothing about the person but the id.
func (s *Server) peoplePage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query().Get("q")
	v := peopleView{Query: q, Searched: strings.TrimSpace(q) != ""}
	id, err := s.lookUp(r, q)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		v.Errors, v.Searched = e.Fields, false
		return s.pages.render(w, r, http.StatusUnprocessableEntity, "staff_people", view{Title: "People", Section: "admin", Data: v})
	}
	if err != nil {
		return err
	}
	v.FoundID = id
	if id != "" {
		v.Reason = personReason(id)
	}
	return s.pages.render(w, r, http.StatusOK, "staff_people", view{Title: "People", Section: "admin", Data: v})
}

// reasonView is the form that asks why before showing a person's data.
type reasonView struct {
	Action  string // where the form posts
	Subject string // the id whose data would be shown
	Shows   string // what will be shown, in words
	Reason  string // what was typed, after a refused submission
	Error   string
}

func personReason(id string) reasonView {
	return reasonView{
		Action: "/admin/people/" + url.PathEscape(id), Subject: id,
		Shows: "name, e-mail address, phone number and the state of the account",
	}
}

// personReasonPage answers GET /admin/people/{id}: the reason form.
func (s *Server) personReasonPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderReason(w, r, http.StatusOK, personReason(r.PathValue("id")))
}

func (s *Server) renderReason(w http.ResponseWriter, r *http.Request, status int, v reasonView) error {
	return s.pages.render(w, r, status, "staff_reason", view{Title: "Give a reason", Section: "admin", Data: v})
}

// personPageView is a person's record as staff see it.
type personPageView struct {
	Person      staff.Person
	Created     string
	LastActive  string
	Deactivated string
	LockedUntil string
	Access      staff.Access
	AccessAt    string
}

// viewPerson checks the reason, reads the person and records the look.
func (s *Server) viewPerson(r *http.Request, id, reason string) (staff.Person, staff.Access, error) {
	return s.Services.Console.ViewPerson(r.Context(), actorOf(r), id, reason)
}

// personPost answers POST /admin/people/{id}: with a reason, the person's
// contact details and account status; without one, the form again.
func (s *Server) personPost(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	p, a, err := s.viewPerson(r, id, r.PostForm.Get("reason"))
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		v := personReason(id)
		v.Reason, v.Error = r.PostForm.Get("reason"), e.Fields["reason"]
		return s.renderReason(w, r, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	v := personPageView{
		Person: p, Created: staffTime(p.CreatedAt), LastActive: staffTime(p.LastActiveAt),
		Access: a, AccessAt: staffTime(a.At),
	}
	if p.DeactivatedAt != nil {
		v.Deactivated = staffTime(*p.DeactivatedAt)
	}
	if p.LockedUntil != nil {
		v.LockedUntil = staffTime(*p.LockedUntil)
	}
	return s.pages.render(w, r, http.StatusOK, "staff_person", view{Title: "Person " + p.ID, Section: "admin", Data: v})
}

// personLookupJSON is the body of GET /api/admin/people.
type personLookupJSON struct {
	People []personRefJSON `json:"people"`
}

type personRefJSON struct {
	ID string `json:"id"`
}

// apiPeople answers GET /api/admin/people?q=: the id of the account with
// that e-mail address or id, if any.
func (s *Server) apiPeople(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		return &errs.Error{Code: errs.Invalid, Message: "say whom to look up", Fields: map[string]string{"q": "give an e-mail address or an account id"}}
	}
	id, err := s.lookUp(r, q)
	if err != nil {
		return err
	}
	out := personLookupJSON{People: []personRefJSON{}}
	if id != "" {
		out.People = append(out.People, personRefJSON{ID: id})
	}
	return writeJSONNoStore(w, http.StatusOK, out)
}

// reasonJSON is the body of the API calls that show a person's data.
type reasonJSON struct {
	Reason string `json:"reason"`
}

// personJSON is a person as staff see them, with the access-log entry
// the look wrote.
type personJSON struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Email         string     `json:"email"`
	Phone         *string    `json:"phone"`
	EmailVerified bool       `json:"email_verified"`
	Status        string     `json:"status"`
	Locked        bool       `json:"locked"`
	LockedUntil   *time.Time `json:"locked_until"`
	CreatedAt     time.Time  `json:"created_at"`
	LastActiveAt  time.Time  `json:"last_active_at"`
	DeactivatedAt *time.Time `json:"deactivated_at"`
	Access        accessJSON `json:"access"`
}

// accessJSON is one row of the staff access log.
type accessJSON struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	StaffID   string    `json:"staff_id"`
	StaffRole string    `json:"staff_role"`
	Viewed    string    `json:"viewed"`
	Reason    string    `json:"reason"`
}

func newAccessJSON(a staff.Access) accessJSON {
	return accessJSON{ID: a.ID, At: a.At.UTC(), StaffID: a.StaffID, StaffRole: string(a.Role), Viewed: string(a.View), Reason: a.Reason}
}

// apiPersonView answers POST /api/admin/people/{id}/view with {"reason"}:
// the person's contact details and account status, recorded in the
// access log. It is a POST because every call writes that record.
func (s *Server) apiPersonView(w http.ResponseWriter, r *http.Request) error {
	var body reasonJSON
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	p, a, err := s.viewPerson(r, r.PathValue("id"), body.Reason)
	if err != nil {
		return err
	}
	out := personJSON{
		ID: p.ID, Name: p.Name, Email: p.Email, EmailVerified: p.EmailVerified, Status: p.Status,
		Locked: p.Locked, LockedUntil: p.LockedUntil, CreatedAt: p.CreatedAt, LastActiveAt: p.LastActiveAt,
		DeactivatedAt: p.DeactivatedAt, Access: newAccessJSON(a),
	}
	if p.Phone != "" {
		out.Phone = &p.Phone
	}
	return writeJSONNoStore(w, http.StatusOK, out)
}

// ---------- Staff register ----------

// staffMemberJSON is one staff member in the API.
type staffMemberJSON struct {
	AccountID string     `json:"account_id"`
	Name      string     `json:"name"`
	Email     string     `json:"email"`
	Roles     []string   `json:"roles"`
	Since     *time.Time `json:"since"`
	// Active is whether the roles are in force: only once the account
	// has two-step sign-in on.
	Active bool `json:"active"`
}

func newStaffMemberJSON(m staff.Member) staffMemberJSON {
	roles := make([]string, 0, len(m.Roles))
	for _, r := range m.Roles {
		roles = append(roles, string(r))
	}
	j := staffMemberJSON{AccountID: m.AccountID, Name: m.Name, Email: m.Email, Roles: roles, Active: m.TwoStep}
	if !m.Since.IsZero() {
		j.Since = &m.Since
	}
	return j
}

// staffPageView is the staff register with its grant form.
type staffPageView struct {
	Members []staffRow
	Roles   []staff.Role
	Self    string
	Email   string
	Role    string
	Errors  map[string]string
	Notice  string
}

type staffRow struct {
	staff.Member
	SinceText string
}

// renderStaff shows the register; failed carries a refused grant form.
func (s *Server) renderStaff(w http.ResponseWriter, r *http.Request, status int, v staffPageView) error {
	list, err := s.Services.Console.Staff(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	for _, m := range list {
		v.Members = append(v.Members, staffRow{Member: m, SinceText: staffTime(m.Since)})
	}
	v.Roles, v.Self = staff.Roles, mustPrincipal(r).AccountID
	return s.pages.render(w, r, status, "staff_members", view{Title: "Staff", Section: "admin", Data: v})
}

// staffPage answers GET /admin/staff.
func (s *Server) staffPage(w http.ResponseWriter, r *http.Request) error {
	v := staffPageView{}
	switch r.URL.Query().Get("done") {
	case "granted":
		v.Notice = "The role was granted."
	case "revoked":
		v.Notice = "The role was revoked."
	case "unchanged":
		v.Notice = "The account already held that role."
	}
	return s.renderStaff(w, r, http.StatusOK, v)
}

// staffGrantForm answers POST /admin/staff: grant a role by e-mail.
func (s *Server) staffGrantForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	email, role := r.PostForm.Get("email"), r.PostForm.Get("role")
	_, granted, err := s.Services.Console.GrantRole(r.Context(), actorOf(r), email, role)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		return s.renderStaff(w, r, http.StatusUnprocessableEntity, staffPageView{Email: email, Role: role, Errors: e.Fields})
	}
	if err != nil {
		return err
	}
	done := "granted"
	if !granted {
		done = "unchanged"
	}
	http.Redirect(w, r, "/admin/staff?done="+done, http.StatusSeeOther)
	return nil
}

// staffRevokeForm answers POST /admin/staff/{id}/revoke with the role in
// the form.
func (s *Server) staffRevokeForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	if _, err := s.Services.Console.RevokeRole(r.Context(), actorOf(r), r.PathValue("id"), r.PostForm.Get("role")); err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/staff?done=revoked", http.StatusSeeOther)
	return nil
}

// apiStaffList answers GET /api/admin/staff.
func (s *Server) apiStaffList(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Services.Console.Staff(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	out := struct {
		Staff []staffMemberJSON `json:"staff"`
	}{Staff: make([]staffMemberJSON, 0, len(list))}
	for _, m := range list {
		out.Staff = append(out.Staff, newStaffMemberJSON(m))
	}
	return writeJSONNoStore(w, http.StatusOK, out)
}

// apiStaffGrant answers POST /api/admin/staff with {"email", "role"}: 201
// when the role was granted, 200 when the account already held it.
func (s *Server) apiStaffGrant(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	m, granted, err := s.Services.Console.GrantRole(r.Context(), actorOf(r), body.Email, body.Role)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if granted {
		status = http.StatusCreated
	}
	return writeJSONNoStore(w, status, newStaffMemberJSON(m))
}

// apiStaffRevoke answers DELETE /api/admin/staff/{id}/roles/{role} with
// the account's remaining roles.
func (s *Server) apiStaffRevoke(w http.ResponseWriter, r *http.Request) error {
	m, err := s.Services.Console.RevokeRole(r.Context(), actorOf(r), r.PathValue("id"), r.PathValue("role"))
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newStaffMemberJSON(m))
}

// ---------- Who looked at my data ----------

type accessRow struct {
	At, Role, StaffID, Viewed, Reason string
}

// accessLogPage answers GET /account/access-log: every look staff took at
// the member's data, with the role and staff id (never the staff member's
// name), when, what and why.
func (s *Server) accessLogPage(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Services.Console.AccessLog(r.Context(), mustPrincipal(r).AccountID)
	if err != nil {
		return err
	}
	rows := make([]accessRow, 0, len(list))
	for _, a := range list {
		rows = append(rows, accessRow{At: staffTime(a.At), Role: a.Role.Label(), StaffID: a.StaffID, Viewed: a.View.Label(), Reason: a.Reason})
	}
	return s.pages.render(w, r, http.StatusOK, "staff_access_log", view{Title: "Who looked at my data", Section: "account", Data: rows})
}

// apiMyAccessLog answers GET /api/me/access-log.
func (s *Server) apiMyAccessLog(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Services.Console.AccessLog(r.Context(), mustPrincipal(r).AccountID)
	if err != nil {
		return err
	}
	out := struct {
		Entries []accessJSON `json:"entries"`
	}{Entries: make([]accessJSON, 0, len(list))}
	for _, a := range list {
		out.Entries = append(out.Entries, newAccessJSON(a))
	}
	return writeJSONNoStore(w, http.StatusOK, out)
}

// ---------- First administrator ----------

// setupView is the first administrator's form.
type setupView struct {
	Token  string
	Name   string
	Email  string
	Errors map[string]string
}

// setupPage answers GET /setup?token=: the form that creates the first
// administrator, while the printed link is alive.
func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	if err := s.Services.Accounts.CheckSetupLink(r.Context(), token); err != nil {
		if isDeadLink(err) {
			return s.deadLink(w, r, linkSetup, err)
		}
		return err
	}
	return s.pages.render(w, r, http.StatusOK, "staff_setup", view{Title: "Create the first administrator", Section: "admin", Data: setupView{Token: token}})
}

// setupPost answers POST /setup: it creates the account (or, for an
// address that has one, checks its password), makes it the
// administrator, spends the link and signs the person in, all at once.
func (s *Server) setupPost(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	token := r.PostForm.Get("token")
	res, err := s.Services.Accounts.CreateAccount(r.Context(), accounts.NewAccount{
		Via: accounts.ViaSetupLink, SetupToken: token, Browser: s.accountBrowser(r),
		Name: r.PostForm.Get("name"), Email: r.PostForm.Get("email"), Password: r.PostForm.Get("password"),
	})
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid && len(e.Fields) > 0 {
		return s.pages.render(w, r, http.StatusUnprocessableEntity, "staff_setup", view{
			Title: "Create the first administrator", Section: "admin",
			Data: setupView{Token: token, Name: r.PostForm.Get("name"), Email: r.PostForm.Get("email"), Errors: e.Fields},
		})
	}
	if err != nil {
		return err
	}
	s.startSession(w, res.Session)
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
	return nil
}
