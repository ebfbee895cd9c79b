package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/blob/s3test"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/platform/mail/mailtest"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/privacy/rights/markerscan"
	"github.com/sessionshq/sessions/internal/store"
	"github.com/sessionshq/sessions/internal/video/videotest"
)

// TestScaleOutTwoInstances runs the scaled-out shape of the README: two
// instances of the real binary on one PostgreSQL database, one S3 server
// (versitygw) for their files, a two-node LiveKit cluster through Redis
// for their calls, and a round-robin balancer in front. Instance i talks
// to LiveKit node i, and LiveKit's webhooks reach both instances.
//
// An erasure begun on the first instance is finished by the second after
// the first is killed with SIGKILL; the first then comes back, as in a
// rolling restart. Then, with both serving: a session works on either,
// a file uploaded through one is read through the other from the bucket,
// a member and a guest joining through different instances and different
// LiveKit nodes meet in one room, each webhook is stored once, and a burst
// of wrong sign-ins spread over both locks the address after as many
// failures as one instance allows.
func TestScaleOutTwoInstances(t *testing.T) {
	t.Parallel()
	oneCallAtATime(t)
	if dbtest.Engine() != database.Postgres {
		t.Skip("two instances share one PostgreSQL database: this test runs in the suite's PostgreSQL pass (SESSIONS_TEST_DATABASE=postgres)")
	}
	if testing.Short() {
		t.Skip("starts two instances, an S3 server and a two-node LiveKit cluster")
	}
	c := startScaleOut(t)
	c.eraseThroughACrash(t)
	c.start(t, 0) // the first instance comes back

	t.Run("a session works on both instances", c.checkSessions)
	t.Run("a file uploaded through one instance is read through the other", c.checkUpload)
	called := t.Run("a member and a guest meet in one room across instances and LiveKit nodes", c.checkCall)
	t.Run("each webhook is recorded once", func(t *testing.T) {
		if !called {
			t.Skip("the call did not happen")
		}
		c.checkWebhooks(t)
	})
	t.Run("a burst of wrong sign-ins locks after as many failures as one instance allows", c.checkLockout)
}

// scaleOut is the whole installation under test.
type scaleOut struct {
	db       *database.DB
	bin      string
	env      []string // what every instance shares
	addrs    [2]string
	dataDirs [2]string
	servers  [2]*server
	livekit  []videotest.LiveKit
	bucket   *s3test.Server
	smtp     *mailtest.Server
	balancer *balancer
	webhooks *webhookFanOut
	secret   string

	// The call's meeting, for the webhook check.
	meetingID string
	host      *callPerson
}

func startScaleOut(t *testing.T) *scaleOut {
	t.Helper()
	db, target := dbtest.OpenTarget(t)
	c := &scaleOut{db: db, bin: binaryWithoutSFU(t), secret: "scale-out-secret-of-at-least-32-bytes"}
	c.bucket = s3test.Start(t)
	// The test's own blob store, which seeds the bucket, reads the
	// credentials from the environment as the instances do.
	// The variables are the process's own, not t.Setenv's, because the
	// test runs in parallel with others; none of those reads them, and the
	// children they start use folder storage.
	for _, kv := range c.bucket.Env() {
		k, v, _ := strings.Cut(kv, "=")
		prev, had := os.LookupEnv(k)
		if err := os.Setenv(k, v); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if had {
				_ = os.Setenv(k, prev)
			} else {
				_ = os.Unsetenv(k)
			}
		})
	}
	c.smtp = mailtest.Start(t)
	c.addrs = [2]string{freeAddr(t), freeAddr(t)}
	c.dataDirs = [2]string{t.TempDir(), t.TempDir()}
	c.balancer = newBalancer(t, c.addrs)
	c.webhooks = newWebhookFanOut(t, c.addrs)
	c.livekit = videotest.StartLiveKitCluster(t, c.webhooks.url, 2)
	c.env = append(c.bucket.Env(),
		"SESSIONS_DATABASE_URL="+target.DatabaseURL,
		"SESSIONS_BLOB_URL="+c.bucket.BlobURL(),
		"SESSIONS_SECRET_KEY="+c.secret,
		"SESSIONS_BASE_URL="+c.balancer.url,
		"SESSIONS_TRUSTED_PROXIES=127.0.0.1",
		"SESSIONS_SMTP_ADDR="+c.smtp.Addr, "SESSIONS_SMTP_TLS=none",
		"SESSIONS_ERASURE_LEASE=2s",
		"SESSIONS_LIVEKIT_API_KEY="+c.livekit[0].APIKey,
		"SESSIONS_LIVEKIT_API_SECRET="+c.livekit[0].APISecret,
	)
	return c
}

// start runs instance i (0 or 1) on its own address, data folder and
// LiveKit node.
func (c *scaleOut) start(t *testing.T, i int) *server {
	t.Helper()
	env := append(slices.Clone(c.env),
		"SESSIONS_ADDR="+c.addrs[i],
		"SESSIONS_DATA_DIR="+c.dataDirs[i],
		"SESSIONS_LIVEKIT_URL="+c.livekit[i].URL,
	)
	c.servers[i] = startBinaryFrom(t, c.bin, env...)
	return c.servers[i]
}

// url is where instance i answers directly, past the balancer.
func (c *scaleOut) url(i int) string { return "http://" + c.addrs[i] }

// eraseThroughACrash: the first instance, alone, takes up an erasure of
// a member with thousands of rows and a hundred files in the bucket. It
// is frozen midway (SIGSTOP, so that it can neither finish nor let go),
// the second instance starts, and the first is killed with SIGKILL. The
// second must take the run over once its lease lapses and finish it: no
// marker of the member is left in the database or the bucket.
func (c *scaleOut) eraseThroughACrash(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	db := c.db
	now := time.Now().UTC()
	m := markerscan.New()
	id := account.NewID()
	email := m.Email("accounts", "email")
	m.Keep(id, "accounts", "id")
	if err := store.CreateAccount(ctx, db, account.Account{ID: id, Email: email, PasswordHash: m.Mk("accounts", "password_hash"),
		PasswordChangedAt: now, Name: m.Mk("accounts", "name"), Status: account.Active, CreatedAt: now, UpdatedAt: now, LastActiveAt: now}); err != nil {
		t.Fatal(err)
	}
	other := callMember(t, db, "Olga Other", "olga.other@example.org")
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	series := `SELECT i FROM generate_series(1, ?::int) AS i`
	exec(`INSERT INTO meetings (id, host_id, title, starts_at, time_zone, duration_minutes, state, created_at, updated_at)
		VALUES (?, ?, 'Weekly', ?, 'UTC', 30, 'scheduled', ?, ?)`, "mtg_scale", other.ID, now, now, now)
	exec(`INSERT INTO meeting_participants (id, meeting_id, email, name, role, created_at)
		SELECT 'par_scale_' || CAST(i AS TEXT), ?, ?, ? || CAST(i AS TEXT), 'participant', ? FROM (`+series+`) AS s`,
		"mtg_scale", email, m.Mk("meeting_participants", "name")+"-", now, 2000)
	exec(`INSERT INTO agenda_templates (id, account_id, name, items, created_at)
		SELECT 'agt_scale_' || CAST(i AS TEXT), ?, ? || CAST(i AS TEXT), '[]', ? FROM (`+series+`) AS s`,
		id, m.Mk("agenda_templates", "name")+"-", now, 3000)
	blobs, err := blob.New(ctx, blob.Config{URL: c.bucket.BlobURL(), Index: store.NewBlobIndex(db), Clock: clock.System{}})
	if err != nil {
		t.Fatal(err)
	}
	content := m.Mk("blobs", "content")
	for range 100 {
		if _, err := blobs.Put(ctx, blob.PutInput{PersonID: id, Kind: "upload", ContentType: "text/plain"},
			strings.NewReader(content+strings.Repeat(" file body", 100))); err != nil {
			t.Fatal(err)
		}
	}
	blobs.Close()
	if n := len(c.bucket.Objects(t)); n != 100 {
		t.Fatalf("%d objects in the bucket before the erasure, want 100", n)
	}
	runID, err := store.StartErasure(ctx, db, []byte(c.secret), rights.Person{AccountID: id}, rights.ReasonRequest, now)
	if err != nil {
		t.Fatal(err)
	}

	first := c.start(t, 0)
	waitRun(t, db, runID, 2*time.Minute, func(r rights.Run) bool {
		return r.State == rights.RunDone || (r.State == rights.RunWorking && r.RowsDone > 0)
	})
	if err := first.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	c.start(t, 1)
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-first.done
	killed, err := store.ErasureRun(ctx, db, runID)
	if err != nil {
		t.Fatal(err)
	}
	if killed.State == rights.RunDone {
		t.Fatalf("the erasure finished before the first instance could be killed (%+v); give the member more rows", killed)
	}
	t.Logf("first instance killed at step %q with %d rows and %d files done", killed.Step, killed.RowsDone, killed.FilesDone)

	waitRun(t, db, runID, 2*time.Minute, func(r rights.Run) bool { return r.State == rights.RunDone })
	done, err := store.ErasureRun(ctx, db, runID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Person.AccountID != "" || done.RowsDone < 5000 || done.FilesDone < 100 {
		t.Errorf("finished run = %+v", done)
	}
	// The survivor sends the member the last message; the message leaves
	// the outbox at the next sweep, since it repeats the address erased.
	c.mailTo(t, email)
	videotest.WaitUntil(t, "the delivered erasure notice to leave the outbox", func() bool {
		var queued int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM erasure_runs WHERE id = ? AND notice_mail IS NOT NULL`, runID).Scan(&queued); err != nil {
			t.Fatal(err)
		}
		return queued == 0
	})
	raw := markerscan.ScanRaw(t, db, "")
	left := c.bucket.Objects(t)
	for _, b := range left {
		raw = append(raw, b...)
	}
	if len(left) > 0 {
		t.Errorf("%d of the member's files are still in the bucket", len(left))
	}
	if leaks := m.Leaks(raw); len(leaks) > 0 {
		t.Errorf("markers survived the erasure in %v", leaks)
	}
	var others int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM accounts WHERE id = ?`, other.ID).Scan(&others); err != nil || others != 1 {
		t.Errorf("the other member is gone: %d %v", others, err)
	}
}

// mailTo waits for a message to addr and returns it.
func (c *scaleOut) mailTo(t *testing.T, addr string) *mailtest.Message {
	t.Helper()
	var found *mailtest.Message
	videotest.WaitUntil(t, "a message to "+addr, func() bool {
		for _, msg := range c.smtp.Messages() {
			if strings.Contains(msg.Header.Get("To"), addr) {
				found = msg
				return true
			}
		}
		return false
	})
	return found
}

// checkSessions: signed in through the balancer, the member's session
// works on whichever instance answers and on each directly, and signing
// out on one ends it on the other.
func (c *scaleOut) checkSessions(t *testing.T) {
	const password = "correct horse battery staple"
	sam := browserMember(t, c.db, "Sam Session", "sam.session@example.org", password)
	status, cookie := signInAt(t, c.balancer.url, sam.Email, password)
	if status != http.StatusSeeOther || cookie == nil {
		t.Fatalf("sign-in through the balancer: %d, cookie %v", status, cookie)
	}
	me := func(base string) int {
		t.Helper()
		res := send(t, http.MethodGet, base+"/api/me", nil, func(r *http.Request) { r.AddCookie(cookie) })
		if res.status == http.StatusOK {
			var v struct{ ID string }
			if err := json.Unmarshal(res.body, &v); err != nil || v.ID != sam.ID {
				t.Fatalf("/api/me at %s names %s", base, res.body)
			}
		}
		return res.status
	}
	before := c.balancer.counts()
	for range 4 {
		if s := me(c.balancer.url); s != http.StatusOK {
			t.Fatalf("/api/me through the balancer: %d", s)
		}
	}
	after := c.balancer.counts()
	if after[0] == before[0] || after[1] == before[1] {
		t.Fatalf("the balancer did not alternate: %v then %v", before, after)
	}
	for i := range 2 {
		if s := me(c.url(i)); s != http.StatusOK {
			t.Fatalf("/api/me on instance %d: %d", i+1, s)
		}
	}
	res := send(t, http.MethodPost, c.url(0)+"/signout", nil, func(r *http.Request) { r.AddCookie(cookie) })
	if res.status != http.StatusSeeOther {
		t.Fatalf("sign-out on the first instance: %d", res.status)
	}
	if s := me(c.url(1)); s != http.StatusUnauthorized {
		t.Fatalf("/api/me on the second instance after signing out on the first: %d, want 401", s)
	}
}

// checkUpload: a file uploaded through the first instance is downloaded
// through the second, and lies in the bucket, not in either data folder.
func (c *scaleOut) checkUpload(t *testing.T) {
	host := callMember(t, c.db, "Ulla Uploader", "ulla.uploader@example.org")
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+host.token) }
	meetingID := createMeeting(t, c.url(0), host, "Shared notes")
	content := "Agenda for the scale-out review " + account.NewID() + "\n"
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	part, err := mw.CreateFormFile("file", "notes.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(part, content)
	_ = mw.WriteField("title", "Notes")
	_ = mw.Close()
	res := send(t, http.MethodPost, c.url(0)+"/api/meetings/"+meetingID+"/resources", &form, func(r *http.Request) {
		bearer(r)
		r.Header.Set("Content-Type", mw.FormDataContentType())
	})
	var added struct {
		ID          string `json:"id"`
		DownloadURL string `json:"download_url"`
	}
	if res.status != http.StatusCreated || json.Unmarshal(res.body, &added) != nil || added.DownloadURL == "" {
		t.Fatalf("upload through the first instance: %d %s", res.status, res.body)
	}
	res = send(t, http.MethodGet, c.url(1)+added.DownloadURL, nil, bearer)
	if res.status != http.StatusOK || string(res.body) != content {
		t.Fatalf("download through the second instance: %d %q", res.status, res.body)
	}
	var key string
	if err := c.db.QueryRow(context.Background(), `SELECT blob_key FROM meeting_resources WHERE id = ?`, added.ID).Scan(&key); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.bucket.Objects(t)[key]; !ok || string(got) != content {
		t.Fatalf("the bucket holds %q under %s (present: %v)", got, key, ok)
	}
	for i, dir := range c.dataDirs {
		if _, err := os.Stat(filepath.Join(dir, "blobs")); !os.IsNotExist(err) {
			t.Errorf("instance %d keeps blobs in its data folder: %v", i+1, err)
		}
	}
}

// checkCall: the host makes a meeting through the first instance and
// invites a guest through the second. The host joins through the first
// and is sent to LiveKit node 1; the guest joins through the second,
// waits in the lobby until the host (on the first) admits them, and is
// sent to node 2. Both end up in the one room, each hearing the other.
func (c *scaleOut) checkCall(t *testing.T) {
	ctx := context.Background()
	host := callMember(t, c.db, "Hanna Host", "hanna.host@example.org")
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+host.token) }
	meetingID := createMeeting(t, c.url(0), host, "Across the cluster")
	c.meetingID, c.host = meetingID, host
	const guestEmail = "gus.guest@example.org"
	if res := sendJSON(t, http.MethodPost, c.url(1)+"/api/meetings/"+meetingID+"/participants",
		map[string]string{"email": guestEmail, "role": "participant"}, bearer); res.status != http.StatusCreated {
		t.Fatalf("invite through the second instance: %d %s", res.status, res.body)
	}
	link := regexp.MustCompile(`https?://\S+/j/[A-Za-z0-9._~-]+`).FindString(c.mailTo(t, guestEmail).Text)
	if !strings.HasPrefix(link, c.balancer.url+"/j/") {
		t.Fatalf("the invitation's link %q is not on the public address %s", link, c.balancer.url)
	}
	guestPath := "/api/join/" + strings.TrimPrefix(link, c.balancer.url+"/j/")

	hostAnswer := joinAnswerOf(t, sendJSON(t, http.MethodPost, c.url(0)+"/api/meetings/"+meetingID+"/join", map[string]string{}, bearer), http.StatusOK)
	if hostAnswer.URL != c.livekit[0].URL {
		t.Fatalf("the first instance sent the host to %s, not to its LiveKit node %s", hostAnswer.URL, c.livekit[0].URL)
	}
	waiting := joinAnswerOf(t, sendJSON(t, http.MethodPost, c.url(1)+guestPath,
		map[string]string{"name": "Gus Guest", "email": guestEmail}, nil), http.StatusAccepted)
	if waiting.State != "waiting" {
		t.Fatalf("the guest's answer: %+v", waiting)
	}
	res := send(t, http.MethodGet, c.url(1)+"/api/meetings/"+meetingID+"/lobby", nil, bearer)
	var lobby struct {
		Waiting []struct {
			ID string `json:"id"`
		} `json:"waiting"`
	}
	if res.status != http.StatusOK || json.Unmarshal(res.body, &lobby) != nil || len(lobby.Waiting) != 1 {
		t.Fatalf("the lobby seen through the second instance: %d %s", res.status, res.body)
	}
	guestPID := lobby.Waiting[0].ID
	if res := sendJSON(t, http.MethodPost, c.url(0)+"/api/meetings/"+meetingID+"/lobby/"+guestPID+"/admit", map[string]string{}, bearer); res.status != http.StatusOK {
		t.Fatalf("admit through the first instance: %d %s", res.status, res.body)
	}
	guestAnswer := joinAnswerOf(t, send(t, http.MethodGet, c.url(1)+guestPath, nil, nil), http.StatusOK)
	if guestAnswer.URL != c.livekit[1].URL || guestAnswer.Identity != guestPID {
		t.Fatalf("the second instance sent the guest to %s as %s, want %s as %s", guestAnswer.URL, guestAnswer.Identity, c.livekit[1].URL, guestPID)
	}

	hostEars, guestEars := videotest.NewListener(), videotest.NewListener()
	hostRoom, err := videotest.Connect(hostAnswer.URL, hostAnswer.Token, hostEars.Callback())
	if err != nil {
		t.Fatalf("the host connects to node 1: %v", err)
	}
	defer hostRoom.Disconnect()
	guestRoom, err := videotest.Connect(guestAnswer.URL, guestAnswer.Token, guestEars.Callback())
	if err != nil {
		t.Fatalf("the guest connects to node 2: %v", err)
	}
	defer guestRoom.Disconnect()
	speaking, stop := context.WithCancel(ctx)
	defer stop()
	videotest.Speak(speaking, t, hostRoom)
	videotest.Speak(speaking, t, guestRoom)

	videotest.WaitUntil(t, "each sees the other", func() bool {
		return hasRemote(hostRoom, guestPID) && hasRemote(guestRoom, hostAnswer.Identity)
	})
	videotest.WaitUntil(t, "each hears the other", func() bool { return hostEars.Packets() > 50 && guestEars.Packets() > 50 })
	if hostRoom.SID() != guestRoom.SID() {
		t.Fatalf("the host is in room session %s and the guest in %s", hostRoom.SID(), guestRoom.SID())
	}
	// Either node answers for the one room the cluster holds.
	for i, lk := range c.livekit {
		rooms := lksdk.NewRoomServiceClient(strings.Replace(lk.URL, "ws://", "http://", 1), lk.APIKey, lk.APISecret)
		list, err := rooms.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: meetingID})
		if err != nil {
			t.Fatalf("node %d lists the room: %v", i+1, err)
		}
		var ids []string
		for _, p := range list.Participants {
			ids = append(ids, p.Identity)
		}
		slices.Sort(ids)
		want := []string{hostAnswer.Identity, guestPID}
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("node %d lists %v in the room, want %v", i+1, ids, want)
		}
	}
	t.Logf("host received %d and guest %d RTP packets", hostEars.Packets(), guestEars.Packets())

	videotest.WaitUntil(t, "both attend, through the webhooks", func() bool {
		a := callAttendanceAt(t, c.balancer.url, meetingID, host)
		return a.joined(hostAnswer.Identity) && a.joined(guestPID)
	})
	stop()
	guestRoom.Disconnect()
	hostRoom.Disconnect()
	videotest.WaitUntil(t, "both leave, through the webhooks", func() bool {
		a := callAttendanceAt(t, c.balancer.url, meetingID, host)
		return a.left(hostAnswer.Identity) && a.left(guestPID)
	})
}

// checkWebhooks: every webhook LiveKit sent reached both instances and
// was accepted by both, and each is stored once: one event row per event,
// one attendance row per connection.
func (c *scaleOut) checkWebhooks(t *testing.T) {
	ctx := context.Background()
	var stored, delivered []string
	videotest.WaitUntil(t, "the stored events to match those delivered", func() bool {
		delivered = c.webhooks.accepted()
		stored = stored[:0]
		rows, err := c.db.Query(ctx, `SELECT id FROM livekit_webhook_events`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			stored = append(stored, id)
		}
		slices.Sort(stored)
		return slices.Equal(stored, delivered)
	})
	if refused := c.webhooks.refusals(); len(refused) > 0 {
		t.Errorf("deliveries refused: %v", refused)
	}
	kinds := c.webhooks.kinds()
	if kinds["participant_joined"] < 2 || kinds["participant_left"] < 2 || kinds["room_started"] < 1 {
		t.Errorf("delivered events by kind: %v", kinds)
	}
	var rows, complete int
	if err := c.db.QueryRow(ctx, `SELECT COUNT(*), COUNT(joined_at) + COUNT(left_at) FROM meeting_attendance WHERE meeting_id = ?`,
		c.meetingID).Scan(&rows, &complete); err != nil {
		t.Fatal(err)
	}
	if rows != 2 || complete != 4 {
		t.Errorf("%d attendance rows with %d times, want 2 connections each joined and left", rows, complete)
	}
	t.Logf("%d webhook events, each delivered to both instances and stored once", len(delivered))
}

// checkLockout: on the first instance alone, wrong sign-ins for one
// address are answered 401 until the address locks and 429 after. A
// burst of wrong sign-ins for another address, all at once and spread
// over both instances by the balancer, must lock after the same number
// of failures, and the right password is then refused too.
func (c *scaleOut) checkLockout(t *testing.T) {
	const password = "correct horse battery staple"
	carl := browserMember(t, c.db, "Carl Calibrate", "carl.calibrate@example.org", password)
	limit := 0
	for {
		status, _ := signInAt(t, c.url(0), carl.Email, "wrong password")
		if status == http.StatusTooManyRequests {
			break
		}
		if status != http.StatusUnauthorized || limit > 20 {
			t.Fatalf("wrong sign-in %d on one instance: %d", limit+1, status)
		}
		limit++
	}
	t.Logf("one instance locks an address after %d wrong sign-ins", limit)

	bea := browserMember(t, c.db, "Bea Burst", "bea.burst@example.org", password)
	const burst = 24
	statuses := make([]int, burst)
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range burst {
		wg.Go(func() {
			<-ready
			statuses[i], _ = signInAt(t, c.balancer.url, bea.Email, "wrong password")
		})
	}
	close(ready)
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[http.StatusUnauthorized] != limit || counts[http.StatusTooManyRequests] != burst-limit {
		t.Errorf("%d concurrent wrong sign-ins over both instances were answered %v: want %d checked (401) and the rest refused (429), as on one instance",
			burst, counts, limit)
	}
	if status, _ := signInAt(t, c.balancer.url, bea.Email, password); status != http.StatusTooManyRequests {
		t.Errorf("the right password after the burst: %d, want 429 while the address is locked", status)
	}
}

// ---- the installation's parts ----

// balancer is the load balancer in front of the instances: a reverse
// proxy that hands each request to the next instance in turn and says
// who the client is in X-Forwarded-For.
type balancer struct {
	url    string
	next   atomic.Uint64
	served [2]atomic.Int64
}

func newBalancer(t *testing.T, addrs [2]string) *balancer {
	t.Helper()
	b := &balancer{}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		i := int(b.next.Add(1)-1) % len(addrs)
		b.served[i].Add(1)
		r.SetURL(&url.URL{Scheme: "http", Host: addrs[i]})
		r.SetXForwarded()
		r.Out.Host = r.In.Host // the public address, as a balancer keeps it
	}}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	b.url = srv.URL
	return b
}

// counts is how many requests each instance was handed so far.
func (b *balancer) counts() [2]int64 { return [2]int64{b.served[0].Load(), b.served[1].Load()} }

// webhookFanOut is where the LiveKit nodes send their webhooks. It hands
// every delivery to both instances at once, as a delivery LiveKit retries
// after a timeout may reach the other instance, and answers LiveKit with
// success only when both accepted it.
type webhookFanOut struct {
	url string

	mu      sync.Mutex
	ids     map[string]string // accepted by both: event id to kind
	refused []string
}

// recorded are the events the product stores (video.ReceiveWebhook); the
// others are answered and forgotten.
var recorded = map[string]bool{
	"room_started": true, "room_finished": true, "participant_joined": true,
	"participant_left": true, "participant_connection_aborted": true,
}

func newWebhookFanOut(t *testing.T, addrs [2]string) *webhookFanOut {
	t.Helper()
	f := &webhookFanOut{ids: map[string]string{}}
	client := &http.Client{Timeout: 30 * time.Second}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var ev struct {
			ID    string `json:"id"`
			Event string `json:"event"`
		}
		_ = json.Unmarshal(body, &ev)
		statuses := make([]int, len(addrs))
		var wg sync.WaitGroup
		for i, addr := range addrs {
			wg.Go(func() {
				req, err := http.NewRequest(http.MethodPost, "http://"+addr+r.URL.Path, bytes.NewReader(body))
				if err != nil {
					return
				}
				req.Header = r.Header.Clone()
				resp, err := client.Do(req)
				if err != nil {
					return // status 0: not reached
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			})
		}
		wg.Wait()
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, s := range statuses {
			if s/100 != 2 {
				f.refused = append(f.refused, fmt.Sprintf("%s %s: instance %d answered %d", ev.Event, ev.ID, i+1, s))
				w.WriteHeader(http.StatusBadGateway)
				return
			}
		}
		if recorded[ev.Event] {
			f.ids[ev.ID] = ev.Event
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL + "/api/livekit/webhook"
	return f
}

// accepted are the ids of the stored kinds of event both instances
// accepted, sorted.
func (f *webhookFanOut) accepted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, 0, len(f.ids))
	for id := range f.ids {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (f *webhookFanOut) kinds() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := map[string]int{}
	for _, k := range f.ids {
		n[k]++
	}
	return n
}

func (f *webhookFanOut) refusals() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.refused)
}

// ---- requests ----

type response struct {
	status int
	body   []byte
	header http.Header
}

// send makes one request without following redirects, so that a
// sign-in's 303 and its cookie are seen.
func send(t *testing.T, method, target string, body io.Reader, prepare func(*http.Request)) response {
	t.Helper()
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(req)
	}
	client := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, target, err)
		return response{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: b, header: resp.Header}
}

func sendJSON(t *testing.T, method, target string, v any, prepare func(*http.Request)) response {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, method, target, bytes.NewReader(b), func(r *http.Request) {
		r.Header.Set("Content-Type", "application/json")
		if prepare != nil {
			prepare(r)
		}
	})
}

// signInAt posts the sign-in form at base and returns the status and the
// session cookie, if one was set. It may run on any goroutine.
func signInAt(t *testing.T, base, email, password string) (int, *http.Cookie) {
	form := url.Values{"email": {email}, "password": {password}}
	res := send(t, http.MethodPost, base+"/signin", strings.NewReader(form.Encode()), func(r *http.Request) {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	})
	for _, ck := range (&http.Response{Header: res.header}).Cookies() {
		if ck.Name == "sessions" && ck.Value != "" {
			return res.status, ck
		}
	}
	return res.status, nil
}

func createMeeting(t *testing.T, base string, host *callPerson, title string) string {
	t.Helper()
	res := sendJSON(t, http.MethodPost, base+"/api/meetings", map[string]any{
		"title": title, "start": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "time_zone": "UTC",
		"duration_minutes": 30, "lobby": true,
	}, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+host.token) })
	var m struct {
		ID string `json:"id"`
	}
	if res.status != http.StatusCreated || json.Unmarshal(res.body, &m) != nil || m.ID == "" {
		t.Fatalf("create a meeting: %d %s", res.status, res.body)
	}
	return m.ID
}

func joinAnswerOf(t *testing.T, res response, want int) callJoinAnswer {
	t.Helper()
	var a callJoinAnswer
	if res.status != want || json.Unmarshal(res.body, &a) != nil {
		t.Fatalf("join: %d %s, want %d", res.status, res.body, want)
	}
	return a
}

func callAttendanceAt(t *testing.T, base, meetingID string, host *callPerson) callAttendance {
	t.Helper()
	res := send(t, http.MethodGet, base+"/api/meetings/"+meetingID+"/attendance", nil,
		func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+host.token) })
	var a callAttendance
	if res.status != http.StatusOK || json.Unmarshal(res.body, &a) != nil {
		t.Fatalf("attendance: %d %s", res.status, res.body)
	}
	return a
}

func hasRemote(room *lksdk.Room, identity string) bool {
	for _, p := range room.GetRemoteParticipants() {
		if p.Identity() == identity {
			return true
		}
	}
	return false
}
