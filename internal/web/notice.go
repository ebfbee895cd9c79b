package web

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/notice"
)

// The privacy notice: the published versions and their public history,
// the banner that asks members to acknowledge a significant change, and
// the staff page that compares the generated text with the last published
// version and publishes a new one. The text itself is written by
// internal/privacy/notice from the data map and the registry; the use
// cases, and the job that announces a significant version by e-mail, are
// internal/service/notices'.

// noticeDate formats a publication date for people.
func noticeDate(t time.Time) string { return t.UTC().Format("2 January 2006") }

// noticeTitle reads the title from a published body's first line.
func noticeTitle(body string) string {
	line, _, _ := strings.Cut(body, "\n")
	if t, ok := strings.CutPrefix(line, "# "); ok {
		return t
	}
	return "Privacy notice"
}

func noticeURL(n int) string { return notice.PathNotice + "/v/" + strconv.Itoa(n) }

// ---------- JSON ----------

// noticeVersionJSON is a version without its text.
type noticeVersionJSON struct {
	NoticeID    string    `json:"notice_id"`
	Version     int       `json:"version"`
	SHA256      string    `json:"sha256"`
	PublishedAt time.Time `json:"published_at"`
	Significant bool      `json:"significant"`
	Summary     string    `json:"summary"`
	URL         string    `json:"url"`
}

func newNoticeVersionJSON(v notice.Version) noticeVersionJSON {
	return noticeVersionJSON{
		NoticeID: notice.ID, Version: v.Number, SHA256: v.Hash, PublishedAt: v.PublishedAt,
		Significant: v.Significant, Summary: v.Summary, URL: noticeURL(v.Number),
	}
}

// noticeJSON is a version with its text: the sections for display and
// the Markdown body whose SHA-256 is sha256.
type noticeJSON struct {
	noticeVersionJSON
	Title    string           `json:"title"`
	Body     string           `json:"body"`
	Sections []notice.Section `json:"sections"`
}

func newNoticeJSON(v notice.Version) noticeJSON {
	sections := v.Sections
	if sections == nil {
		sections = []notice.Section{}
	}
	return noticeJSON{noticeVersionJSON: newNoticeVersionJSON(v), Title: noticeTitle(v.Body), Body: v.Body, Sections: sections}
}

type noticeVersionListJSON struct {
	Versions []noticeVersionJSON `json:"versions"`
}

// ---------- Public pages and API ----------

// blockView is a notice block with its inline links resolved.
type blockView struct {
	Kind    string
	Spans   []notice.Span
	Items   [][]notice.Span
	Columns []string
	Rows    [][]string
}

type sectionView struct {
	ID     string
	Title  string
	Blocks []blockView
}

func newSectionViews(sections []notice.Section) []sectionView {
	out := make([]sectionView, 0, len(sections))
	for _, s := range sections {
		sv := sectionView{ID: s.ID, Title: s.Title}
		for _, b := range s.Blocks {
			bv := blockView{Kind: b.Kind, Columns: b.Columns, Rows: b.Rows}
			switch b.Kind {
			case notice.Paragraph:
				bv.Spans = notice.Inline(b.Text)
			case notice.List:
				for _, it := range b.Items {
					bv.Items = append(bv.Items, notice.Inline(it))
				}
			}
			sv.Blocks = append(sv.Blocks, bv)
		}
		out = append(out, sv)
	}
	return out
}

// privacyNoticeView is one version on its page.
type privacyNoticeView struct {
	Title       string
	Number      int
	Date        string
	Significant bool
	Summary     string
	Hash        string
	Sections    []sectionView
	// Current is the number of the current version; it differs from
	// Number on the page of an earlier version.
	Current int
}

func (s *Server) renderPrivacyNotice(w http.ResponseWriter, r *http.Request, v notice.Version, current int) error {
	title := noticeTitle(v.Body)
	page := title
	if v.Number != current {
		page = title + ", version " + v.Label()
	}
	return s.pages.render(w, r, http.StatusOK, "notice_version", view{
		Title:       page,
		Description: "What personal data Sessions keeps, why, for how long, who receives it and your rights.",
		Section:     "privacy",
		Data: privacyNoticeView{
			Title: title, Number: v.Number, Date: noticeDate(v.PublishedAt), Significant: v.Significant,
			Summary: v.Summary, Hash: v.Hash, Sections: newSectionViews(v.Sections), Current: current,
		},
	})
}

func (s *Server) noticePage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Services.Notices.Current(r.Context())
	if err != nil {
		return err
	}
	return s.renderPrivacyNotice(w, r, v, v.Number)
}

// noticeNumber reads {n}; anything but a positive number finds nothing.
func noticeNumber(r *http.Request) (int, error) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || r.PathValue("n") != strconv.Itoa(n) {
		return 0, errs.E(errs.NotFound, "there is no such version of the privacy notice")
	}
	return n, nil
}

func (s *Server) noticeVersionPage(w http.ResponseWriter, r *http.Request) error {
	n, err := noticeNumber(r)
	if err != nil {
		return err
	}
	p, err := s.Services.Notices.Version(r.Context(), n)
	if err != nil {
		return err
	}
	return s.renderPrivacyNotice(w, r, p.Version, p.Current)
}

// noticeHistoryRow is one version in the history.
type noticeHistoryRow struct {
	Number      int
	Date        string
	Significant bool
	Summary     string
	Hash        string
	URL         string
}

func (s *Server) noticeHistoryPage(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Services.Notices.History(r.Context())
	if err != nil {
		return err
	}
	rows := make([]noticeHistoryRow, 0, len(list))
	for _, v := range list {
		rows = append(rows, noticeHistoryRow{Number: v.Number, Date: noticeDate(v.PublishedAt), Significant: v.Significant,
			Summary: v.Summary, Hash: v.Hash, URL: noticeURL(v.Number)})
	}
	return s.pages.render(w, r, http.StatusOK, "notice_history", view{
		Title:       "Privacy notice history",
		Description: "Every version of the Sessions privacy notice, with what changed.",
		Section:     "privacy",
		Data:        rows,
	})
}

func (s *Server) noticeAPI(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Services.Notices.Current(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newNoticeJSON(v))
}

func (s *Server) noticeVersionsAPI(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Services.Notices.History(r.Context())
	if err != nil {
		return err
	}
	out := noticeVersionListJSON{Versions: make([]noticeVersionJSON, 0, len(list))}
	for _, v := range list {
		out.Versions = append(out.Versions, newNoticeVersionJSON(v))
	}
	return writeJSON(w, http.StatusOK, out)
}

// ---------- The banner and acknowledgements ----------

// noticeBanner is what the layout shows a signed-in member while a
// significant version waits for their acknowledgement.
type noticeBanner struct {
	Version int
	Date    string
	Summary string
	URL     string
	// Next is the page to return to after acknowledging.
	Next string
}

// noticeBannerFor is the layout's hook: nil for anonymous visitors and
// for members with nothing to acknowledge. A failed lookup is logged and
// shows no banner, so that it never breaks a page.
func (s *Server) noticeBannerFor(r *http.Request, p *principal) *noticeBanner {
	if p == nil || p.AccountID == "" || s.Services == nil {
		return nil
	}
	v, ok, err := s.Services.Notices.ToAcknowledge(r.Context(), p.AccountID)
	if err != nil {
		s.Log.LogAttrs(r.Context(), slog.LevelError, "notice banner lookup failed", slog.String("error", err.Error()))
		return nil
	}
	if !ok {
		return nil
	}
	return &noticeBanner{Version: v.Number, Date: noticeDate(v.PublishedAt), Summary: v.Summary,
		URL: noticeURL(v.Number), Next: localPath(r.URL.RequestURI(), afterSignIn)}
}

// noticeAcknowledgeForm is the banner's button: it records the
// acknowledgement and goes back to the page the member was on.
func (s *Server) noticeAcknowledgeForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	n := 0
	if raw := strings.TrimSpace(r.PostForm.Get("version")); raw != "" {
		var err error
		if n, err = strconv.Atoi(raw); err != nil {
			return &errs.Error{Code: errs.Invalid, Message: "there is no such version of the notice",
				Fields: map[string]string{"version": "must be a version number"}}
		}
	}
	if _, err := s.Services.Notices.Acknowledge(r.Context(), actorOf(r), n); err != nil {
		return err
	}
	next := r.PostForm.Get("next")
	if next == "" {
		next = notice.PathNotice
	}
	http.Redirect(w, r, localPath(next, afterSignIn), http.StatusSeeOther)
	return nil
}

// noticeAckInputJSON is the optional body of POST /api/me/notice/acknowledge.
type noticeAckInputJSON struct {
	Version *int `json:"version"`
}

type noticeAckJSON struct {
	NoticeID       string    `json:"notice_id"`
	Version        int       `json:"version"`
	AcknowledgedAt time.Time `json:"acknowledged_at"`
}

func (s *Server) apiNoticeAcknowledge(w http.ResponseWriter, r *http.Request) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return jsonError(err)
	}
	n := 0
	if len(bytes.TrimSpace(raw)) > 0 {
		var in noticeAckInputJSON
		r.Body = io.NopCloser(bytes.NewReader(raw))
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		if in.Version != nil {
			n = *in.Version
			if n == 0 {
				n = -1 // zero is no version; only an absent field means "the current one"
			}
		}
	}
	ack, err := s.Services.Notices.Acknowledge(r.Context(), actorOf(r), n)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, noticeAckJSON{NoticeID: notice.ID, Version: ack.Version, AcknowledgedAt: ack.AcknowledgedAt})
}

// ---------- Staff: publishing ----------

// diffLineView is one line of a section's diff on the staff page.
type diffLineView struct {
	Class  string // notice-add, notice-del or none
	Prefix string
	Text   string
}

// sectionDiffView is one section of the comparison on the staff page.
type sectionDiffView struct {
	Title  string
	Change string
	Lines  []diffLineView
}

func newSectionDiffViews(diff []notice.SectionDiff) []sectionDiffView {
	out := make([]sectionDiffView, 0, len(diff))
	for _, d := range diff {
		v := sectionDiffView{Title: d.Title, Change: string(d.Change)}
		for _, l := range d.Lines {
			switch l.Op {
			case '+':
				v.Lines = append(v.Lines, diffLineView{Class: "notice-add", Prefix: "+ ", Text: l.Text})
			case '-':
				v.Lines = append(v.Lines, diffLineView{Class: "notice-del", Prefix: "- ", Text: l.Text})
			default:
				v.Lines = append(v.Lines, diffLineView{Prefix: "  ", Text: l.Text})
			}
		}
		out = append(out, v)
	}
	return out
}

// adminNoticeView is the staff page.
type adminNoticeView struct {
	Published     noticeVersionJSON
	PublishedDate string
	Next          int
	Hash          string
	Changed       bool
	Diff          []sectionDiffView
	ChangedCount  int
	// The form, filled again after a refused submission.
	Summary     string
	Significant bool
	Errors      map[string]string
	Problem     string
	// Just is the version just published, after the redirect.
	Just int
}

func (s *Server) renderAdminNotice(w http.ResponseWriter, r *http.Request, status int, form adminNoticeView) error {
	d, err := s.Services.Notices.Draft(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	form.Published = newNoticeVersionJSON(d.Published)
	form.PublishedDate = noticeDate(d.Published.PublishedAt)
	form.Next = d.Published.Number + 1
	form.Hash, form.Changed, form.Diff = d.Hash, d.Changed, newSectionDiffViews(d.Diff)
	for _, sd := range d.Diff {
		if sd.Change != notice.Unchanged {
			form.ChangedCount++
		}
	}
	return s.pages.render(w, r, status, "notice_admin", view{Title: "Privacy notice", Section: "admin", Data: form})
}

func (s *Server) adminNoticePage(w http.ResponseWriter, r *http.Request) error {
	v := adminNoticeView{}
	if n, err := strconv.Atoi(r.URL.Query().Get("published")); err == nil && n > 0 {
		v.Just = n
	}
	return s.renderAdminNotice(w, r, http.StatusOK, v)
}

// adminNoticePost publishes from the staff form. A refused publication
// shows the page again with what was typed and why; nothing is written.
func (s *Server) adminNoticePost(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	p := notice.Publication{
		Significant: r.PostForm.Get("significant") != "",
		Summary:     r.PostForm.Get("summary"),
		ExpectHash:  r.PostForm.Get("sha256"),
	}
	v, err := s.Services.Notices.Publish(r.Context(), actorOf(r), p)
	if e, ok := errs.As(err); ok && (e.Code == errs.Invalid || e.Code == errs.Conflict) {
		status := http.StatusUnprocessableEntity
		if e.Code == errs.Conflict {
			status = http.StatusConflict
		}
		return s.renderAdminNotice(w, r, status, adminNoticeView{Summary: p.Summary, Significant: p.Significant, Errors: e.Fields, Problem: e.Message})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/notice?published="+url.QueryEscape(v.Label()), http.StatusSeeOther)
	return nil
}

// noticeSectionChangeJSON says how one section of the generated text
// differs from the last published version.
type noticeSectionChangeJSON struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Change string `json:"change"`
}

// noticeDraftJSON is GET /api/admin/notice.
type noticeDraftJSON struct {
	Published noticeVersionJSON         `json:"published"`
	SHA256    string                    `json:"sha256"`
	Changed   bool                      `json:"changed"`
	Sections  []noticeSectionChangeJSON `json:"sections"`
}

func (s *Server) apiAdminNotice(w http.ResponseWriter, r *http.Request) error {
	d, err := s.Services.Notices.Draft(r.Context(), actorOf(r))
	if err != nil {
		return err
	}
	out := noticeDraftJSON{Published: newNoticeVersionJSON(d.Published), SHA256: d.Hash, Changed: d.Changed,
		Sections: make([]noticeSectionChangeJSON, 0, len(d.Diff))}
	for _, sd := range d.Diff {
		out.Sections = append(out.Sections, noticeSectionChangeJSON{ID: sd.ID, Title: sd.Title, Change: string(sd.Change)})
	}
	return writeJSONNoStore(w, http.StatusOK, out)
}

// noticePublishJSON is the body of POST /api/admin/notice. significant
// and summary are required; sha256, when given, must be the hash of the
// generated text the caller reviewed.
type noticePublishJSON struct {
	Significant *bool   `json:"significant"`
	Summary     *string `json:"summary"`
	SHA256      string  `json:"sha256"`
}

func (s *Server) apiAdminNoticePublish(w http.ResponseWriter, r *http.Request) error {
	var in noticePublishJSON
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	missing := errs.Validation{}
	if in.Significant == nil {
		missing.Add("significant", "is required")
	}
	if in.Summary == nil {
		missing.Add("summary", "say what changed in this version")
	}
	if err := missing.Err(); err != nil {
		return err
	}
	v, err := s.Services.Notices.Publish(r.Context(), actorOf(r),
		notice.Publication{Significant: *in.Significant, Summary: *in.Summary, ExpectHash: in.SHA256})
	if err != nil {
		return err
	}
	w.Header().Set("Location", noticeURL(v.Number))
	return writeJSON(w, http.StatusCreated, newNoticeJSON(v))
}
