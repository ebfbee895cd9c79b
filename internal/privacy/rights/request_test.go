package rights_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/rights"
)

func at(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 10, 0, 0, 0, time.UTC) }

func TestRequestDeadlines(t *testing.T) {
	cases := []struct {
		name     string
		received time.Time
		months   int // extension; 0 for the first deadline
		want     time.Time
	}{
		{"31 January, short February", at(2026, 1, 31), 0, at(2026, 2, 28)},
		{"31 January, leap year", at(2028, 1, 31), 0, at(2028, 2, 29)},
		{"30 January, leap year", at(2028, 1, 30), 0, at(2028, 2, 29)},
		{"mid-month", at(2026, 1, 15), 0, at(2026, 2, 15)},
		{"31 March into April", at(2026, 3, 31), 0, at(2026, 4, 30)},
		{"31 May into June", at(2026, 5, 31), 0, at(2026, 6, 30)},
		{"December into the next year", at(2026, 12, 31), 0, at(2027, 1, 31)},
		{"28 February", at(2026, 2, 28), 0, at(2026, 3, 28)},
		{"29 February, leap year", at(2028, 2, 29), 0, at(2028, 3, 29)},
		{"31 January extended by one", at(2026, 1, 31), 1, at(2026, 3, 31)},
		{"31 January extended by two", at(2026, 1, 31), 2, at(2026, 4, 30)},
		{"30 November extended by two", at(2026, 11, 30), 2, at(2027, 2, 28)},
		{"31 December extended by two, leap", at(2027, 12, 31), 2, at(2028, 3, 31)},
		{"30 December extended by one, leap", at(2027, 12, 30), 1, at(2028, 2, 29)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := rights.DueAfterExtension(tc.received, tc.months)
			if !got.Equal(tc.want) {
				t.Errorf("received %s, extended %d: due %s, want %s", tc.received.Format(time.DateOnly), tc.months,
					got.Format(time.DateOnly), tc.want.Format(time.DateOnly))
			}
			if tc.months == 0 && !got.Equal(account.DueOneMonthAfter(tc.received)) {
				t.Error("the first deadline differs from account.DueOneMonthAfter")
			}
		})
	}
}

func TestRequestLifecycle(t *testing.T) {
	received := at(2026, 1, 31)
	base := rights.Request{ID: "req_1", Kind: rights.KindRights, Rights: []rights.Right{rights.RightAccess},
		ReceivedAt: received, DueAt: rights.DueAfterExtension(received, 0)}
	inMonth := at(2026, 2, 10)
	late := at(2026, 3, 1)
	reason := "We need to gather records from two systems."
	cases := []struct {
		name  string
		state rights.RequestState
		kind  string
		step  rights.RequestStep
		now   time.Time
		want  rights.RequestState
		code  errs.Code // "" when the step is allowed
	}{
		{"verify opens", rights.StateVerifying, "", rights.RequestStep{Action: rights.ActVerify}, inMonth, rights.StateReceived, ""},
		{"start", rights.StateReceived, "", rights.RequestStep{Action: rights.ActStart}, inMonth, rights.StateInProgress, ""},
		{"start twice", rights.StateInProgress, "", rights.RequestStep{Action: rights.ActStart}, inMonth, "", errs.Conflict},
		{"start unverified", rights.StateVerifying, "", rights.RequestStep{Action: rights.ActStart}, inMonth, "", errs.Conflict},
		{"extend received", rights.StateReceived, "", rights.RequestStep{Action: rights.ActExtend, Reason: reason, Months: 2}, inMonth, rights.StateExtended, ""},
		{"extend in progress", rights.StateInProgress, "", rights.RequestStep{Action: rights.ActExtend, Reason: reason, Months: 1}, inMonth, rights.StateExtended, ""},
		{"extend twice", rights.StateExtended, "", rights.RequestStep{Action: rights.ActExtend, Reason: reason, Months: 1}, inMonth, "", errs.Conflict},
		{"extend after the first month", rights.StateInProgress, "", rights.RequestStep{Action: rights.ActExtend, Reason: reason, Months: 1}, late, "", errs.Conflict},
		{"extend on the due day", rights.StateInProgress, "", rights.RequestStep{Action: rights.ActExtend, Reason: reason, Months: 1}, base.DueAt, "", errs.Conflict},
		{"extend without reasons", rights.StateInProgress, "", rights.RequestStep{Action: rights.ActExtend, Reason: "  ", Months: 1}, inMonth, "", errs.Invalid},
		{"extend by three months", rights.StateInProgress, "", rights.RequestStep{Action: rights.ActExtend, Reason: reason, Months: 3}, inMonth, "", errs.Invalid},
		{"extend by none", rights.StateInProgress, "", rights.RequestStep{Action: rights.ActExtend, Reason: reason}, inMonth, "", errs.Invalid},
		{"complete in progress", rights.StateInProgress, "", rights.RequestStep{Action: rights.ActComplete}, late, rights.StateCompleted, ""},
		{"complete extended", rights.StateExtended, "", rights.RequestStep{Action: rights.ActComplete, Reason: "Sent."}, late, rights.StateCompleted, ""},
		{"complete unstarted", rights.StateReceived, "", rights.RequestStep{Action: rights.ActComplete}, inMonth, "", errs.Conflict},
		{"refuse received", rights.StateReceived, "", rights.RequestStep{Action: rights.ActRefuse, Reason: "Manifestly excessive: the fourth identical request this month."}, inMonth, rights.StateRefused, ""},
		{"refuse extended", rights.StateExtended, "", rights.RequestStep{Action: rights.ActRefuse, Reason: reason}, late, rights.StateRefused, ""},
		{"refuse without reasons", rights.StateReceived, "", rights.RequestStep{Action: rights.ActRefuse, Reason: "no"}, inMonth, "", errs.Invalid},
		{"refuse completed", rights.StateCompleted, "", rights.RequestStep{Action: rights.ActRefuse, Reason: reason}, inMonth, "", errs.Conflict},
		{"complete refused", rights.StateRefused, "", rights.RequestStep{Action: rights.ActComplete}, inMonth, "", errs.Conflict},
		{"unknown action", rights.StateReceived, "", rights.RequestStep{Action: "approve"}, inMonth, "", errs.Invalid},
		{"staff step on delete-my-account", rights.StateReceived, account.RequestErasure, rights.RequestStep{Action: rights.ActStart}, inMonth, "", errs.Conflict},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			r.State = tc.state
			if tc.kind != "" {
				r.Kind = tc.kind
			}
			got, err := r.Apply(tc.step, tc.now)
			if tc.code != "" {
				e, ok := errs.As(err)
				if !ok || e.Code != tc.code {
					t.Fatalf("error %v, want code %s", err, tc.code)
				}
				if got.State != tc.state {
					t.Errorf("state moved to %s on a refused step", got.State)
				}
				if r.Allowed(tc.step.Action, tc.now) && tc.code == errs.Conflict {
					t.Error("Allowed offers a step Apply refuses")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tc.want {
				t.Errorf("state %s, want %s", got.State, tc.want)
			}
			if !r.Allowed(tc.step.Action, tc.now) {
				t.Error("Allowed hides a step Apply takes")
			}
			switch tc.step.Action {
			case rights.ActExtend:
				if want := rights.DueAfterExtension(received, tc.step.Months); !got.DueAt.Equal(want) {
					t.Errorf("due %s after extension, want %s", got.DueAt, want)
				}
				if got.ExtensionReason != tc.step.Reason {
					t.Errorf("extension reason %q", got.ExtensionReason)
				}
			case rights.ActVerify:
				if !got.ReceivedAt.Equal(tc.now) || !got.DueAt.Equal(account.DueOneMonthAfter(tc.now)) {
					t.Errorf("verified request received %s due %s", got.ReceivedAt, got.DueAt)
				}
			case rights.ActRefuse:
				if got.Decision == "" {
					t.Error("refusal reasons not kept")
				}
			}
		})
	}
}

func TestRequestNoticesSayWhatTheLawAsks(t *testing.T) {
	r := rights.Request{ID: "req_1", Rights: []rights.Right{rights.RightErasure}, ReceivedAt: at(2026, 1, 31),
		DueAt: at(2026, 2, 28), Decision: "Manifestly unfounded.", ExtensionReason: "Many records to search."}
	_, refusal := r.Notice(rights.ActRefuse)
	for _, want := range []string{"Manifestly unfounded.", "supervisory authority", "req_1"} {
		if !strings.Contains(refusal, want) {
			t.Errorf("refusal lacks %q:\n%s", want, refusal)
		}
	}
	_, ext := r.Notice(rights.ActExtend)
	for _, want := range []string{"Many records to search.", "28 February 2026"} {
		if !strings.Contains(ext, want) {
			t.Errorf("extension lacks %q:\n%s", want, ext)
		}
	}
	for _, a := range append([]rights.RequestAction{rights.ActVerify}, rights.StaffActions...) {
		if s, body := r.Notice(a); s == "" || body == "" {
			t.Errorf("no message for %s", a)
		}
	}
}

func TestRequestDueSoonAndOverdue(t *testing.T) {
	r := rights.Request{State: rights.StateInProgress, DueAt: at(2026, 3, 10)}
	cases := []struct {
		now              time.Time
		overdue, dueSoon bool
	}{
		{at(2026, 3, 1), false, false},
		{at(2026, 3, 3), false, true},
		{at(2026, 3, 10), false, true},
		{at(2026, 3, 11), true, false},
	}
	for _, tc := range cases {
		if r.Overdue(tc.now) != tc.overdue || r.DueSoon(tc.now) != tc.dueSoon {
			t.Errorf("at %s: overdue %v due soon %v", tc.now.Format(time.DateOnly), r.Overdue(tc.now), r.DueSoon(tc.now))
		}
	}
	r.State = rights.StateCompleted
	if r.Overdue(at(2026, 4, 1)) {
		t.Error("a completed request is overdue")
	}
}

func TestIntakeClean(t *testing.T) {
	now := at(2026, 3, 2)
	m := datamap.Default()
	cases := []struct {
		name  string
		in    rights.Intake
		field string // "" when valid
	}{
		{"member, several rights", rights.Intake{Channel: rights.ChannelAccount, Rights: []rights.Right{"erasure", "access", "access"}}, ""},
		{"no right", rights.Intake{Channel: rights.ChannelAccount}, rights.FieldRights},
		{"unknown right", rights.Intake{Channel: rights.ChannelAccount, Rights: []rights.Right{"everything"}}, rights.FieldRights},
		{"public form needs an address", rights.Intake{Channel: rights.ChannelWebForm, Rights: []rights.Right{"access"}}, rights.FieldEmail},
		{"public form", rights.Intake{Channel: rights.ChannelWebForm, Rights: []rights.Right{"access"}, Email: " Ada@Example.COM "}, ""},
		{"rectification needs details", rights.Intake{Channel: rights.ChannelAccount, Rights: []rights.Right{"rectification"}}, rights.FieldDetails},
		{"rectification of a listed field", rights.Intake{Channel: rights.ChannelAccount, Rights: []rights.Right{"rectification"}, Details: "My company is Acme.", Field: "profiles.company", Statement: "I left in 2025."}, ""},
		{"rectification of an unknown field", rights.Intake{Channel: rights.ChannelAccount, Rights: []rights.Right{"rectification"}, Details: "x", Field: "accounts.password_hash"}, rights.FieldField},
		{"statement without field", rights.Intake{Channel: rights.ChannelAccount, Rights: []rights.Right{"rectification"}, Details: "x", Statement: "y"}, rights.FieldField},
		{"letter from the future", rights.Intake{Channel: rights.ChannelPost, Rights: []rights.Right{"access"}, Email: "a@example.com", ReceivedAt: now.Add(time.Hour)}, rights.FieldReceivedAt},
		{"letter of last week", rights.Intake{Channel: rights.ChannelPost, Rights: []rights.Right{"access"}, Email: "a@example.com", ReceivedAt: now.AddDate(0, 0, -7)}, ""},
		{"unknown channel", rights.Intake{Channel: "fax", Rights: []rights.Right{"access"}, Email: "a@example.com"}, rights.FieldChannel},
		{"details too long", rights.Intake{Channel: rights.ChannelAccount, Rights: []rights.Right{"access"}, Details: strings.Repeat("x", rights.MaxDetails+1)}, rights.FieldDetails},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			err := in.Clean(m, now)
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e, ok := errs.As(err)
			if !ok || e.Fields[tc.field] == "" {
				t.Fatalf("error %v, want one on %s", err, tc.field)
			}
		})
	}
	in := rights.Intake{Channel: rights.ChannelWebForm, Rights: []rights.Right{"erasure", "access", "access"}, Email: " Ada@Example.COM "}
	if err := in.Clean(m, now); err != nil {
		t.Fatal(err)
	}
	if in.Email != "ada@example.com" || len(in.Rights) != 2 || in.Rights[0] != rights.RightAccess {
		t.Errorf("cleaned to %+v", in)
	}
}

func TestVerificationCode(t *testing.T) {
	secret := []byte("a-secret-of-at-least-32-bytes-long!!")
	seen := map[string]bool{}
	for range 50 {
		c := rights.NewCode()
		if len(c) != 6 || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("code %q is not six digits", c)
		}
		seen[c] = true
	}
	if len(seen) < 45 {
		t.Errorf("only %d distinct codes in 50", len(seen))
	}
	d := rights.CodeDigest(secret, "req_1", "123456")
	if !rights.CodeMatches(secret, "req_1", " 123456 ", d) {
		t.Error("the right code does not match")
	}
	if rights.CodeMatches(secret, "req_2", "123456", d) || rights.CodeMatches(secret, "req_1", "123457", d) {
		t.Error("a digest matches another request or code")
	}
}

func TestRectifiableFieldsComeFromTheMap(t *testing.T) {
	fields := rights.RectifiableFields(datamap.Default())
	ids := map[string]bool{}
	for _, f := range fields {
		ids[f.ID()] = true
	}
	if !ids["profiles.company"] || !ids["accounts.name"] {
		t.Errorf("profile and account fields missing: %v", ids)
	}
	if ids["accounts.password_hash"] || ids["accounts.id"] {
		t.Error("derived values are offered for rectification")
	}
}
