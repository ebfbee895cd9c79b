package web

import (
	"net/http"
	"sort"
	"strconv"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/audit"
)

// auditPageSize is how many entries the console shows at a time.
const auditPageSize = 50

// auditVerifyResponse is the body of GET /api/admin/audit/verify.
type auditVerifyResponse struct {
	Intact bool `json:"intact"`
	// Entries counts the entries that verified: all of them when intact,
	// those before the first broken link otherwise.
	Entries     int64                `json:"entries"`
	Head        auditCheckpointJSON  `json:"head"`
	FirstBroken *auditBreakJSON      `json:"first_broken"`
	Anchor      *auditCheckpointJSON `json:"anchor,omitempty"`
}

type auditCheckpointJSON struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

type auditBreakJSON struct {
	Seq     int64  `json:"seq"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func newAuditVerifyResponse(res audit.Result, anchor *audit.Checkpoint) auditVerifyResponse {
	out := auditVerifyResponse{
		Intact:  res.Intact,
		Entries: res.Entries,
		Head:    auditCheckpointJSON{Seq: res.Head.Seq, Hash: res.Head.Hash},
	}
	if b := res.FirstBroken; b != nil {
		out.FirstBroken = &auditBreakJSON{Seq: b.Seq, Reason: string(b.Reason), Message: b.Message}
	}
	if anchor != nil {
		out.Anchor = &auditCheckpointJSON{Seq: anchor.Seq, Hash: anchor.Hash}
	}
	return out
}

// auditVerify checks the whole chain, optionally against ?anchor=SEQ:HASH,
// a head published earlier. Only an anchor reveals entries cut off the end.
func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request) error {
	var anchor *audit.Checkpoint
	if v := r.URL.Query().Get("anchor"); v != "" {
		c, err := audit.ParseCheckpoint(v)
		if err != nil {
			return &errs.Error{Code: errs.Invalid, Message: "the anchor is not valid", Fields: map[string]string{"anchor": err.Error()}}
		}
		anchor = &c
	}
	res, err := s.Services.Console.VerifyAudit(r.Context(), actorOf(r), anchor)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newAuditVerifyResponse(res, anchor))
}

// auditPageView is what admin_audit.html shows: the verification result
// and one page of entries. Entries carry ids, never other personal data.
type auditPageView struct {
	Verify  auditVerifyResponse
	Entries []auditRow
	// Older is the ?before= value of the next page, 0 on the last.
	Older int64
	// Newer says whether this is not the newest page.
	Newer bool
}

type auditRow struct {
	Seq         int64
	At          string
	ActorKind   string
	ActorID     string
	Action      string
	SubjectKind string
	SubjectID   string
	Purpose     string
	// ActorErased and SubjectErased mark ids cleared by erasure: the
	// pseudonym remains, the id is gone.
	ActorErased   bool
	SubjectErased bool
	Detail        []auditDetail
	// DetailUnreadable flags a detail that is not in canonical form, which
	// only tampering produces; its raw text is not shown.
	DetailUnreadable bool
	Hash             string // shortened, to match against the full chain
	Broken           bool   // the first broken link
}

type auditDetail struct{ Key, Value string }

// auditPage is the staff console's view of the audit log: whether the
// chain is intact and the newest entries, older ones by ?before=SEQ.
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) error {
	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return errs.E(errs.Invalid, "before must be an entry number of 1 or more")
		}
		before = n
	}
	// One extra entry tells whether an older page exists.
	page, err := s.Services.Console.AuditLog(r.Context(), actorOf(r), before, auditPageSize+1)
	if err != nil {
		return err
	}
	res, recs := page.Verify, page.Entries
	v := auditPageView{Verify: newAuditVerifyResponse(res, nil), Newer: before > 0}
	if len(recs) > auditPageSize {
		recs = recs[:auditPageSize]
		v.Older = recs[len(recs)-1].Seq
	}
	for _, rec := range recs {
		row := auditRow{
			Seq:           rec.Seq,
			At:            rec.At.UTC().Format("2006-01-02 15:04:05 UTC"),
			ActorKind:     rec.ActorKind,
			ActorID:       rec.ActorID,
			Action:        rec.Action,
			SubjectKind:   rec.SubjectKind,
			SubjectID:     rec.SubjectID,
			Purpose:       rec.Purpose,
			ActorErased:   rec.ActorID == "" && rec.ActorRef != "",
			SubjectErased: rec.SubjectID == "" && rec.SubjectRef != "",
			Hash:          rec.Hash[:min(12, len(rec.Hash))],
			Broken:        res.FirstBroken != nil && res.FirstBroken.Seq == rec.Seq,
		}
		d, err := audit.DecodeDetail(rec.Detail)
		if err != nil {
			row.DetailUnreadable = true
		}
		for k, val := range d {
			row.Detail = append(row.Detail, auditDetail{k, val})
		}
		sort.Slice(row.Detail, func(i, j int) bool { return row.Detail[i].Key < row.Detail[j].Key })
		v.Entries = append(v.Entries, row)
	}
	return s.pages.render(w, r, http.StatusOK, "admin_audit", view{
		Title:   "Audit log",
		Section: "admin",
		Data:    v,
	})
}
