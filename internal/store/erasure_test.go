package store_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/privacy/rights/markerscan"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
	"github.com/sessionshq/sessions/internal/store"
)

var rightsSecret = []byte("rights-test-secret-0123456789abcdef")

// insert writes one row from column → value pairs.
func insert(t *testing.T, db *database.DB, table string, cols map[string]any) {
	t.Helper()
	var names, marks []string
	var args []any
	for c, v := range cols {
		names = append(names, `"`+c+`"`)
		marks = append(marks, "?")
		args = append(args, v)
	}
	if _, err := db.Exec(context.Background(), `INSERT INTO `+table+` (`+strings.Join(names, ", ")+`) VALUES (`+strings.Join(marks, ", ")+`)`, args...); err != nil {
		t.Fatalf("insert into %s: %v", table, err)
	}
}

// rightsWorld is one member full of markers, another member who shares a
// meeting with them, and the services the rights engine needs.
type rightsWorld struct {
	db      *database.DB
	clk     *clock.Fake
	blobs   *blob.Store
	blobDir string
	m       *markers
	id      string
	email   string
	other   string
	filled  map[string]bool
}

func newRightsWorld(t *testing.T) *rightsWorld {
	t.Helper()
	ctx := context.Background()
	db := dbtest.Open(t)
	clk := clock.NewFake(time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	blobs, err := blob.New(ctx, blob.Config{Dir: dir, Index: store.NewBlobIndex(db), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	w := &rightsWorld{db: db, clk: clk, blobs: blobs, blobDir: dir, m: newMarkers(), filled: map[string]bool{}}
	w.fill(t)
	return w
}

func (w *rightsWorld) row(t *testing.T, table string, cols map[string]any) {
	t.Helper()
	insert(t, w.db, table, cols)
	w.filled[table] = true
}

func (w *rightsWorld) fill(t *testing.T) {
	ctx := context.Background()
	m, now := w.m, w.clk.Now()
	w.id = account.NewID()
	w.email = m.Email("accounts", "email")
	m.Keep(w.id, "accounts", "id")
	if err := store.CreateAccount(ctx, w.db, account.Account{
		ID: w.id, Email: w.email, PasswordHash: m.Mk("accounts", "password_hash"), PasswordChangedAt: now, Name: m.Mk("accounts", "name"),
		Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now,
	}); err != nil {
		t.Fatal(err)
	}
	w.filled["accounts"] = true
	w.other = account.NewID()
	if err := store.CreateAccount(ctx, w.db, account.Account{
		ID: w.other, Email: "other@example.com", PasswordHash: "x", PasswordChangedAt: now, Name: "Other Member",
		Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now,
	}); err != nil {
		t.Fatal(err)
	}

	avatar, err := w.blobs.Put(ctx, blob.PutInput{PersonID: w.id, Kind: "avatar", ContentType: "image/png"}, strings.NewReader(m.Mk("blobs", "key")+" avatar bytes"))
	if err != nil {
		t.Fatal(err)
	}
	upload, err := w.blobs.Put(ctx, blob.PutInput{PersonID: w.id, Kind: "upload", ContentType: "text/plain"}, strings.NewReader(m.Mk("blobs", "key")+" uploaded file"))
	if err != nil {
		t.Fatal(err)
	}
	m.Keep(avatar.Key, "blobs", "key")
	m.Keep(upload.Key, "blobs", "key")
	w.filled["blobs"] = true

	w.row(t, "profiles", map[string]any{
		"account_id": w.id, "username": m.Mk("profiles", "username"), "phone": m.Mk("profiles", "phone"), "company": m.Mk("profiles", "company"),
		"address_street": m.Mk("profiles", "address_street"), "address_city": m.Mk("profiles", "address_city"),
		"address_postcode": m.Mk("profiles", "address_postcode"), "address_region": m.Mk("profiles", "address_region"),
		"address_country": "GB", "birth_date": "1990-12-10", "gender": m.Mk("profiles", "gender"), "country": "GB",
		"city": m.Mk("profiles", "city"), "interests": `["` + m.Mk("profiles", "interests") + `"]`,
		"linkedin_url": "https://www.linkedin.com/in/" + m.Mk("profiles", "linkedin_url"), "facebook_url": "https://facebook.com/" + m.Mk("profiles", "facebook_url"),
		"avatar_key": avatar.Key, "created_at": now, "updated_at": now,
	})
	w.row(t, "account_sessions", map[string]any{"id": "ses_" + w.id, "account_id": w.id, "token_hash": m.Mk("account_sessions", "token_hash"),
		"client": m.Mk("account_sessions", "client"), "created_at": now, "last_seen_at": now, "expires_at": now.Add(time.Hour)})
	w.row(t, "api_tokens", map[string]any{"id": "tok_" + w.id, "account_id": w.id, "name": m.Mk("api_tokens", "name"),
		"token_hash": m.Mk("api_tokens", "token_hash"), "created_at": now})
	w.row(t, "recovery_codes", map[string]any{"account_id": w.id, "code_hash": m.Mk("recovery_codes", "code_hash"), "created_at": now})
	w.row(t, "marketing_preferences", map[string]any{"account_id": w.id, "channel": "email", "enabled": true, "updated_at": now})
	w.row(t, "objections", map[string]any{"id": "obj_" + w.id, "person_id": w.id, "kind": "legitimate-interest", "method": "settings",
		"statement": m.Mk("objections", "statement"), "status": "pending", "created_at": now})
	if _, err := store.SeedSubprocessors(ctx, w.db, vendors.Seed(), now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.PublishFirstNotice(ctx, w.db, now); err != nil {
		t.Fatal(err)
	}
	w.row(t, "notice_acknowledgements", map[string]any{"account_id": w.id, "version": 1, "acknowledged_at": now})
	w.row(t, "person_restrictions", map[string]any{"person_id": w.id, "restricted_at": now})
	if _, err := store.EnqueueMail(ctx, w.db, now, mail.Message{PersonID: w.id, Category: mail.Transactional, Template: "test.markers",
		To: w.email, Subject: m.Mk("mail_outbox", "subject"), Text: m.Mk("mail_outbox", "body_text")}); err != nil {
		t.Fatal(err)
	}
	w.filled["mail_outbox"] = true
	// Consent evidence is kept under a legal obligation: its marker may
	// stay after erasure.
	w.row(t, "consent_records", map[string]any{"id": "cns_" + w.id, "subject_kind": "member", "subject_id": w.id, "notice_id": "cookies",
		"notice_version": "1", "notice_hash": strings.Repeat("a", 64), "purposes": `["analytics"]`, "legal_basis": "consent",
		"method": "banner", "at": now, "state": "given", "ip": "192.0.2.0", "user_agent": m.Mk("consent_records", "user_agent"), "gpc": false})
	m.Keep(w.id, "consent_records", "subject_id")
	if err := store.AppendAudit(ctx, w.db, rightsSecret, audit.Entry{At: now, Actor: audit.Party{Kind: "member", ID: w.id},
		Action: "profile.update", Subject: audit.Party{Kind: "member", ID: w.id}, Purpose: "account"}); err != nil {
		t.Fatal(err)
	}
	w.filled["audit_log"] = true

	// Meetings, when the schema has them: one the member hosts, and one
	// the other member hosts in which the member takes part, leads an
	// agenda item and shares a resource.
	if _, ok := datamap.Default().Table("meeting_participants"); ok {
		w.row(t, "meetings", map[string]any{"id": "mtg_own_" + w.id, "host_id": w.id, "title": "Own meeting", "starts_at": now,
			"time_zone": "Europe/London", "duration_minutes": 30, "state": "scheduled", "created_at": now, "updated_at": now})
		w.row(t, "meetings", map[string]any{"id": "mtg_shared_" + w.id, "host_id": w.other, "title": "Shared meeting", "starts_at": now,
			"time_zone": "Europe/London", "duration_minutes": 30, "state": "scheduled", "created_at": now, "updated_at": now})
		part := "par_" + w.id
		m.Keep(part, "meeting_participants", "id")
		w.row(t, "meeting_participants", map[string]any{"id": part, "meeting_id": "mtg_shared_" + w.id, "account_id": w.id,
			"email": w.email, "name": m.Mk("meeting_participants", "name"), "role": "participant", "created_at": now})
		w.row(t, "meeting_participants", map[string]any{"id": "par_host_" + w.id, "meeting_id": "mtg_own_" + w.id, "account_id": w.id,
			"role": "host", "created_at": now})
		w.row(t, "agenda_items", map[string]any{"id": "agi_" + w.id, "meeting_id": "mtg_shared_" + w.id, "position": 1, "title": "Shared item",
			"owner_participant_id": part, "created_by": w.id, "created_at": now, "updated_at": now})
		w.row(t, "agenda_templates", map[string]any{"id": "agt_" + w.id, "account_id": w.id, "name": m.Mk("agenda_templates", "name"),
			"items": `[{"title":"` + m.Mk("agenda_templates", "items") + `"}]`, "created_at": now})
		w.row(t, "meeting_resources", map[string]any{"id": "res_" + w.id, "meeting_id": "mtg_shared_" + w.id, "added_by": w.id,
			"kind": "link", "title": "Shared link", "url": "https://example.com/doc", "provider": "web", "created_at": now})
	}
}

// markers are the marker set of internal/privacy/rights/markerscan, with
// where naming its Where map for the tests written against it.
type markers struct {
	*markerscan.Markers
	where map[string]string
}

func newMarkers() *markers {
	m := markerscan.New()
	return &markers{Markers: m, where: m.Where}
}

// keptColumn reports whether the data map keeps table.column at erasure.
func keptColumn(where string) bool { return markerscan.Kept(where) }

func (w *rightsWorld) scanRaw(t *testing.T) []byte {
	t.Helper()
	return markerscan.ScanRaw(t, w.db, w.blobDir)
}

func (w *rightsWorld) eraser() *store.Eraser {
	return &store.Eraser{DB: w.db, Secret: rightsSecret, Files: w.blobs, Map: datamap.Default(), Clock: w.clk, Batch: 2}
}

func (w *rightsWorld) exporter() *store.Exporter {
	return &store.Exporter{DB: w.db, Blobs: w.blobs, Map: datamap.Default(), Clock: w.clk, Secret: rightsSecret}
}

// readExport returns the export's archive entries by name.
func readExport(t *testing.T, w *rightsWorld, x rights.Export) map[string][]byte {
	t.Helper()
	body, _, err := w.blobs.Get(context.Background(), x.BlobKey)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}

func TestExportThenErasureLeavesNoMarker(t *testing.T) {
	ctx := context.Background()
	w := newRightsWorld(t)

	// Every person-keyed table of the data map the test could not fill is
	// named, so that a new table is noticed.
	for _, tb := range rights.ExportPlan(datamap.Default()) {
		if !w.filled[tb.Name] {
			t.Logf("no rows written to %s", tb.Name)
		}
	}

	// Access: every marker is in the export, and so are the Art. 15
	// sections.
	x, created, err := store.RequestExport(ctx, w.db, rightsSecret, w.id, rights.ExportAccess, w.clk.Now())
	if err != nil || !created {
		t.Fatalf("request export: %v %v", created, err)
	}
	if err := w.exporter().Build(ctx, x.ID); err != nil {
		t.Fatalf("build export: %v", err)
	}
	x, err = store.ExportOf(ctx, w.db, w.id, x.ID)
	if err != nil || x.State != rights.ExportReady || x.RowsDone != x.RowsTotal || x.RowsTotal == 0 {
		t.Fatalf("export after build = %+v, %v", x, err)
	}
	if _, err := store.ExportOf(ctx, w.db, w.other, x.ID); err == nil {
		t.Fatal("another member can read the export")
	}
	files := readExport(t, w, x)
	var everything bytes.Buffer
	for name, b := range files {
		everything.WriteString(name + "\n")
		everything.Write(b)
	}
	for v, where := range w.m.Where {
		if !bytes.Contains(everything.Bytes(), []byte(v)) {
			t.Errorf("marker of %s is not in the export", where)
		}
	}
	for _, name := range []string{"data.json", "portable.json", "portable.schema.json", "index.html", "art15.html", "art15.json", "tables/accounts.csv", "tables/profiles.csv"} {
		if _, ok := files[name]; !ok {
			t.Errorf("export lacks %s", name)
		}
	}
	var art15 map[string]json.RawMessage
	if err := json.Unmarshal(files["art15.json"], &art15); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"purposes", "categories", "recipients", "third_country_transfers", "retention", "sources", "rights", "complaint", "automated_decisions"} {
		if len(art15[k]) == 0 || string(art15[k]) == "null" {
			t.Errorf("art15.json has no %s", k)
		}
	}
	var data map[string]any
	if err := json.Unmarshal(files["data.json"], &data); err != nil {
		t.Fatalf("data.json is not JSON: %v", err)
	}
	var portable struct {
		Format string                     `json:"format"`
		Tables map[string]json.RawMessage `json:"tables"`
	}
	if err := json.Unmarshal(files["portable.json"], &portable); err != nil || portable.Format != rights.PortableFormat {
		t.Fatalf("portable.json: %v %q", err, portable.Format)
	}
	if strings.Contains(string(files["portable.json"]), "password_hash") || strings.Contains(string(files["portable.json"]), "token_hash") {
		t.Error("portable.json holds data the member did not provide")
	}
	if !strings.Contains(string(files["portable.json"]), w.email) {
		t.Error("portable.json lacks the address the member gave")
	}

	// Erasure, carried out from the member's own request.
	if _, _, err := store.RequestAccountErasure(ctx, w.db, rightsSecret, w.id, w.clk.Now(), nil); err != nil {
		t.Fatal(err)
	}
	e := w.eraser()
	started, err := e.StartRequestedErasures(ctx)
	if err != nil || len(started) != 1 {
		t.Fatalf("start requested erasures: %v %v", started, err)
	}
	if err := e.Run(ctx, started[0]); err != nil {
		t.Fatalf("run: %v", err)
	}
	run, err := store.ErasureRun(ctx, w.db, started[0])
	if err != nil || run.State != rights.RunDone || run.Person.AccountID != "" || run.RowsDone == 0 || run.FilesDone < 3 {
		t.Fatalf("run after erasure = %+v, %v", run, err)
	}
	reqs, err := w.db.Query(ctx, `SELECT state FROM account_requests`)
	if err != nil {
		t.Fatal(err)
	}
	for reqs.Next() {
		var s string
		_ = reqs.Scan(&s)
		if s != store.RequestCompleted {
			t.Errorf("request state %q after erasure", s)
		}
	}
	reqs.Close()

	raw := w.scanRaw(t)
	for v, where := range w.m.Where {
		if bytes.Contains(raw, []byte(v)) && !markerscan.Kept(where) {
			t.Errorf("marker of %s survived erasure", where)
		}
	}
	// What others share stays, without the member.
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM accounts WHERE id = '`+w.other+`'`); n != 1 {
		t.Error("the other member was erased too")
	}
	if _, ok := datamap.Default().Table("meeting_participants"); ok {
		if n := countRows(t, w.db, `SELECT COUNT(*) FROM agenda_items WHERE created_by IS NULL AND owner_participant_id IS NULL`); n != 1 {
			t.Errorf("shared agenda item: %d de-identified rows, want 1", n)
		}
	}
	if res, err := store.VerifyAudit(ctx, w.db, rightsSecret, nil); err != nil || !res.Intact {
		t.Errorf("audit chain after erasure: %+v %v", res, err)
	}

	// A second run is harmless and finds nothing more.
	if err := e.Run(ctx, started[0]); err != nil {
		t.Fatal(err)
	}
}

// interruptingFiles cancels the erasure's context after its first file,
// as a process killed mid-run would stop.
type interruptingFiles struct {
	store.FileRemover
	cancel context.CancelFunc
	n      int
}

func (f *interruptingFiles) Delete(ctx context.Context, key string) error {
	err := f.FileRemover.Delete(ctx, key)
	if f.n++; f.n == 1 {
		f.cancel()
	}
	return err
}

func TestErasureHeldThenInterruptedThenResumed(t *testing.T) {
	ctx := context.Background()
	w := newRightsWorld(t)
	now := w.clk.Now()
	runID, err := store.StartErasure(ctx, w.db, rightsSecret, rights.Person{AccountID: w.id}, rights.ReasonInactive, now)
	if err != nil {
		t.Fatal(err)
	}
	again, err := store.StartErasure(ctx, w.db, rightsSecret, rights.Person{AccountID: w.id}, rights.ReasonInactive, now)
	if err != nil || again != runID {
		t.Fatalf("second start = %q, %v; want the open run %q", again, err, runID)
	}

	// A legal hold keeps everything while it lasts.
	insert(t, w.db, "legal_holds", map[string]any{"id": "hold_" + w.id, "person_id": w.id, "reason": "legal claim",
		"starts_at": now.Add(-time.Hour), "ends_at": now.Add(48 * time.Hour), "created_at": now})
	e := w.eraser()
	e.Held = store.PersonHeld
	if err := e.Run(ctx, runID); err != nil {
		t.Fatal(err)
	}
	if run, _ := store.ErasureRun(ctx, w.db, runID); run.State != rights.RunHeld || run.RowsDone != 0 {
		t.Fatalf("held run = %+v", run)
	}
	if n := countRows(t, w.db, `SELECT COUNT(*) FROM accounts WHERE id = ?`, w.id); n != 1 {
		t.Fatal("a held person was erased")
	}

	// Once the hold is over the run starts, is cut short, and finishes
	// when run again.
	w.clk.Advance(72 * time.Hour)
	cut, cancel := context.WithCancel(ctx)
	defer cancel()
	e.Files = &interruptingFiles{FileRemover: w.blobs, cancel: cancel}
	if err := e.Run(cut, runID); err == nil {
		t.Fatal("an interrupted run reported success")
	}
	run, err := store.ErasureRun(ctx, w.db, runID)
	if err != nil || run.State != rights.RunWorking || run.Person.AccountID != w.id {
		t.Fatalf("interrupted run = %+v, %v", run, err)
	}
	e.Files = w.blobs
	// The lease of the interrupted worker was released; a new one takes over.
	if err := e.Run(ctx, runID); err != nil {
		t.Fatal(err)
	}
	if run, _ := store.ErasureRun(ctx, w.db, runID); run.State != rights.RunDone {
		t.Fatalf("resumed run = %+v", run)
	}
	raw := w.scanRaw(t)
	for v, where := range w.m.Where {
		if bytes.Contains(raw, []byte(v)) && !markerscan.Kept(where) {
			t.Errorf("marker of %s survived the resumed erasure", where)
		}
	}
}
