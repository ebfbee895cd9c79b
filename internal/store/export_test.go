package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/store"
)

func TestExportHoldsMeetingsAsICalendar(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newRightsWorld(t)
	x, _ := w.requestExport(t, rights.ExportAccess)
	if err := w.rights(t).BuildExport(ctx, x.ID); err != nil {
		t.Fatal(err)
	}
	x, _ = store.ExportOf(ctx, w.db, w.id, x.ID)
	files := readExport(t, w, x)
	ics := string(files["meetings.ics"])
	// The meetings the member hosts and the one they take part in.
	for _, uid := range []string{"UID:mtg_own_" + w.id + "@", "UID:" + w.planned + "@", "UID:mtg_shared_" + w.id + "@"} {
		if !strings.Contains(ics, uid) {
			t.Errorf("meetings.ics lacks %s:\n%s", uid, ics)
		}
	}
	if n := strings.Count(ics, "BEGIN:VCALENDAR"); n != 3 || strings.Count(ics, "END:VCALENDAR") != 3 {
		t.Errorf("meetings.ics holds %d calendars, want 3", n)
	}
	if !strings.Contains(ics, "SUMMARY:Shared meeting") || !strings.Contains(ics, "\r\n") {
		t.Errorf("meetings.ics is not a calendar of the meetings:\n%s", ics)
	}
	if !bytes.Contains(files["index.html"], []byte(`href="meetings.ics"`)) {
		t.Error("the index does not link meetings.ics")
	}
}

// TestExportWithMorePlacesThanParameters gives a guest's address more
// places in meetings than either database accepts parameters in one
// statement (SQLite 32,766, PostgreSQL 65,535): the export must still
// hold every one. (Erasure lists them in chunks; the kill test of the
// binary erases thousands.)
func TestExportWithMorePlacesThanParameters(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("writes 70,000 rows")
	}
	ctx := context.Background()
	w := newRightsWorld(t)
	const places = 70_000
	now := w.clk.Now()
	gen := `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) SELECT i FROM n`
	if w.db.Dialect() == database.Postgres {
		gen = `SELECT i FROM generate_series(1, ?::int) AS i`
	}
	if _, err := w.db.Exec(ctx, `INSERT INTO meeting_participants (id, meeting_id, email, role, created_at)
		SELECT 'par_many_' || CAST(i AS TEXT), ?, ?, 'participant', ? FROM (`+gen+`) AS s`,
		"mtg_shared_"+w.id, w.email, now, places); err != nil {
		t.Fatal(err)
	}
	p, err := store.ResolvePerson(ctx, w.db, datamap.Default(), rights.Person{AccountID: w.id})
	if err != nil || len(p.ParticipantIDs) < places {
		t.Fatalf("resolved %d places, %v", len(p.ParticipantIDs), err)
	}
	x, _ := w.requestExport(t, rights.ExportAccess)
	if err := w.rights(t).BuildExport(ctx, x.ID); err != nil {
		t.Fatalf("build: %v", err)
	}
	x, _ = store.ExportOf(ctx, w.db, w.id, x.ID)
	files := readExport(t, w, x)
	var data struct {
		Tables map[string]struct {
			Rows []map[string]any `json:"rows"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(files["data.json"], &data); err != nil {
		t.Fatal(err)
	}
	if got := len(data.Tables["meeting_participants"].Rows); got < places {
		t.Errorf("data.json holds %d places in meetings, want at least %d", got, places)
	}
	if got := bytes.Count(files["tables/meeting_participants.csv"], []byte("par_many_")); got != places {
		t.Errorf("the CSV holds %d of the %d places", got, places)
	}
}
