package store_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/clock"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/database/dbtest"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/service/dsr"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

var rqSecret = []byte("requests-store-secret-0123456789abcdef")

var rqNow = time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)

// rqRights is the rights service over db at the clock clk.
func rqRights(t *testing.T, db *database.DB, clk clock.Clock) *dsr.Service {
	t.Helper()
	s, _ := rightsService(t, db, rqSecret, nil, clk)
	return s
}

// rqCode opens a verification for email and returns the request id and
// the code read from the outbox ("" when none was sent).
func rqCode(t *testing.T, db *database.DB, email string, now time.Time) (string, string) {
	t.Helper()
	in := rights.Intake{Channel: rights.ChannelWebForm, Rights: []rights.Right{rights.RightAccess}, Email: email}
	id, err := rqRights(t, db, clock.NewFake(now)).OpenVerification(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var text string
	err = db.QueryRow(context.Background(), `SELECT body_text FROM mail_outbox WHERE template = 'rights.request_code' AND to_address = ?
		ORDER BY created_at DESC, id DESC LIMIT 1`, email).Scan(&text)
	if errors.Is(err, database.ErrNotFound) {
		return id, ""
	}
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM account_requests WHERE id = ?`, id).Scan(&n); err != nil || n == 0 {
		return id, "" // past the limit nothing was recorded or sent
	}
	return id, regexp.MustCompile(`\d{6}`).FindString(text)
}

// rqVerify types code for the request id at now.
func rqVerify(t *testing.T, db *database.DB, id, code string, now time.Time) (rights.Request, error) {
	t.Helper()
	return rqRights(t, db, clock.NewFake(now)).VerifyRequest(context.Background(), id, code)
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func isInvalid(err error) bool {
	e, ok := errs.As(err)
	return ok && e.Code == errs.Invalid
}

func TestVerifyRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	member := mktAccount(t, db, "member@example.com", true)

	t.Run("the fourth try is refused, even with the right code", func(t *testing.T) {
		id, code := rqCode(t, db, "guest@example.org", rqNow)
		for range rights.CodeAttempts {
			if _, err := rqVerify(t, db, id, wrongCode(code), rqNow); !isInvalid(err) {
				t.Fatalf("wrong code: %v", err)
			}
		}
		if _, err := rqVerify(t, db, id, code, rqNow); errs.CodeOf(err) != errs.RateLimited {
			t.Fatalf("fourth try: %v, want refused as too many", err)
		}
	})
	t.Run("expired after ten minutes", func(t *testing.T) {
		id, code := rqCode(t, db, "late@example.org", rqNow)
		if _, err := rqVerify(t, db, id, code, rqNow.Add(rights.CodeLife)); !isInvalid(err) {
			t.Fatalf("expired code: %v", err)
		}
	})
	t.Run("unknown request answers alike", func(t *testing.T) {
		_, err := rqVerify(t, db, "req_nothing", "123456", rqNow)
		_, code := rqCode(t, db, "other@example.org", rqNow)
		id2, _ := rqCode(t, db, "other2@example.org", rqNow)
		_, err2 := rqVerify(t, db, id2, wrongCode(code), rqNow)
		if !isInvalid(err) || err.Error() != err2.Error() {
			t.Errorf("unknown id %v, wrong code %v", err, err2)
		}
	})
	t.Run("opens the request, linked to the account, due a month later", func(t *testing.T) {
		id, code := rqCode(t, db, "member@example.com", rqNow)
		at := rqNow.Add(5 * time.Minute)
		mails := rqCount(t, db, "mail_outbox")
		r, err := rqVerify(t, db, id, code, at)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != rights.StateReceived || r.AccountID != member || !r.DueAt.Equal(account.DueOneMonthAfter(at)) || rqCount(t, db, "mail_outbox") != mails+1 {
			t.Errorf("opened %+v, no acknowledgement", r)
		}
		if r.DueAt.Month() != time.February || r.DueAt.Day() != 28 {
			t.Errorf("received 31 January, due %s", r.DueAt)
		}
		// The member sees it among their own.
		if _, err := store.RequestOf(ctx, db, member, id); err != nil {
			t.Error(err)
		}
		if _, err := rqVerify(t, db, id, code, at); !isInvalid(err) {
			t.Errorf("second use of the code: %v", err)
		}
	})
	t.Run("no more codes past the per-address limit", func(t *testing.T) {
		for i := range rights.VerifyingPerAddress {
			if _, code := rqCode(t, db, "flood@example.org", rqNow); code == "" {
				t.Fatalf("request %d sent no code", i+1)
			}
		}
		id, code := rqCode(t, db, "flood@example.org", rqNow)
		if code != "" || !strings.HasPrefix(id, "req_") {
			t.Errorf("past the limit: id %q code %q", id, code)
		}
		if _, code := rqCode(t, db, "flood@example.org", rqNow.Add(rights.VerifyingWindow+time.Second)); code == "" {
			t.Error("the limit does not end with its window")
		}
	})
	t.Run("unverified requests are purged a day after the code expired", func(t *testing.T) {
		n, err := store.PurgeUnverifiedRequests(ctx, db, rqNow.Add(rights.CodeLife+23*time.Hour))
		if err != nil || n != 0 {
			t.Fatalf("purged %d too early (%v)", n, err)
		}
		n, err = store.PurgeUnverifiedRequests(ctx, db, rqNow.Add(2*time.Hour+rights.CodeLife+24*time.Hour))
		if err != nil || n == 0 {
			t.Fatalf("purged %d (%v)", n, err)
		}
		var left int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM account_requests WHERE state = 'verifying'`).Scan(&left); err != nil || left != 0 {
			t.Errorf("%d unverified left (%v)", left, err)
		}
	})
}

func TestDeleteMyAccountRequestsJoinTheQueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	id := mktAccount(t, db, "leaving@example.com", true)
	req, err := store.OpenAccountErasure(ctx, db, id, rqNow)
	if err != nil {
		t.Fatal(err)
	}
	list, counts, err := store.RequestQueue(ctx, db, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != req.ID || !list[0].Has(rights.RightErasure) || !list[0].ByEngine() || counts[rights.StateReceived] != 1 {
		t.Fatalf("queue %+v counts %v", list, counts)
	}
	// Staff do not decide it: the erasure engine carries it out.
	_, err = rqRights(t, db, clock.NewFake(rqNow)).AdvanceRequest(ctx, rqStaff("x"), req.ID, rights.RequestStep{Action: rights.ActStart})
	if e, ok := errs.As(err); !ok || e.Code != errs.Conflict {
		t.Errorf("staff start of an engine request: %v", err)
	}
}

func TestAdvanceRequestAuditsAndMailsInOneStep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Open(t)
	id := mktAccount(t, db, "ada@example.com", true)
	staffP := rqStaff("acc_staff")
	clk := clock.NewFake(rqNow)
	svc := rqRights(t, db, clk)
	mails := rqCount(t, db, "mail_outbox")
	r, err := svc.FileMemberRequest(ctx, id, rights.Intake{Channel: rights.ChannelAccount, Rights: []rights.Right{rights.RightRestriction}})
	if err != nil || rqCount(t, db, "mail_outbox") != mails+1 {
		t.Fatalf("file: %v, no acknowledgement", err)
	}
	// A refused step changes nothing: no state, no audit, no mail.
	before := rqCount(t, db, "audit_log")
	mails = rqCount(t, db, "mail_outbox")
	if _, err := svc.AdvanceRequest(ctx, staffP, r.ID, rights.RequestStep{Action: rights.ActRefuse, Reason: "no"}); !isInvalid(err) {
		t.Fatalf("refusal without reasons: %v", err)
	}
	if rqCount(t, db, "audit_log") != before || rqCount(t, db, "mail_outbox") != mails {
		t.Error("a refused step left an audit entry or a message")
	}
	if _, err := svc.AdvanceRequest(ctx, staffP, r.ID, rights.RequestStep{Action: rights.ActStart}); err != nil || rqCount(t, db, "mail_outbox") != mails+1 {
		t.Fatalf("start: %v, no message", err)
	}
	if on, _ := store.Restricted(ctx, db, id); !on {
		t.Error("start did not restrict")
	}
	hist, err := store.RequestHistory(ctx, db, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, h := range hist {
		actions = append(actions, h.Action)
	}
	if strings.Join(actions, " ") != "request.receive request.start" {
		t.Errorf("history %v", actions)
	}
	// Past the first month, no extension.
	clk.Set(r.FirstDue())
	_, err = svc.AdvanceRequest(ctx, staffP, r.ID, rights.RequestStep{Action: rights.ActExtend, Reason: "Complex request.", Months: 1})
	if e, ok := errs.As(err); !ok || e.Code != errs.Conflict {
		t.Errorf("late extension: %v", err)
	}
}

// rqStaff is a privacy officer acting on requests.
func rqStaff(id string) service.Actor {
	return service.Actor{AccountID: id, Roles: []staff.Role{staff.PrivacyOfficer}}
}

func rqCount(t *testing.T, db *database.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
