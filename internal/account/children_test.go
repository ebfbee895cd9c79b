package account

import (
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
)

func TestRestrictions(t *testing.T) {
	now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	born := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	confirmed := now.Add(-time.Hour)
	cases := []struct {
		name      string
		p         Profile
		child     bool
		allowed   bool
		reasonHas string
	}{
		{"no date of birth", Profile{Country: "DE"}, false, true, "not a child"},
		{"adult", Profile{BirthDate: born(1990, 1, 1), Country: "DE"}, false, true, "not a child"},
		{"child in Germany", Profile{BirthDate: born(2012, 1, 1), Country: "DE"}, true, false, "until a parent or guardian confirms"},
		{"same age is an adult in Austria", Profile{BirthDate: born(2012, 1, 1), Country: "AT"}, false, true, "not a child"},
		{"child without a country uses 16", Profile{BirthDate: born(2011, 1, 1)}, true, false, "until"},
		{"confirmed child", Profile{BirthDate: born(2012, 1, 1), Country: "DE", GuardianConfirmedAt: &confirmed}, true, true, "confirmed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := RestrictionsFor(tc.p, now)
			if r.Child != tc.child {
				t.Errorf("child = %v, want %v", r.Child, tc.child)
			}
			for what, got := range map[string]bool{"marketing": r.Marketing, "analytics": r.Analytics, "recordings": r.Recording, "AI": r.AI} {
				if got != tc.allowed {
					t.Errorf("%s allowed = %v, want %v", what, got, tc.allowed)
				}
			}
			if !strings.Contains(r.Reason, tc.reasonHas) {
				t.Errorf("reason %q does not say %q", r.Reason, tc.reasonHas)
			}
		})
	}
}

func TestGuardianNoticeDigestFollowsTheText(t *testing.T) {
	d := GuardianNoticeDigest()
	if len(d) != 64 || d != GuardianNoticeDigest() {
		t.Fatalf("digest %q is not a stable SHA-256", d)
	}
	text := strings.Join(GuardianNotice(), " ")
	for _, feature := range []string{"marketing", "analytics", "recordings", "AI assistant"} {
		if !strings.Contains(text, feature) {
			t.Errorf("the guardian is not told about %s", feature)
		}
	}
}

func TestCleanGuardianEmail(t *testing.T) {
	got, err := CleanGuardianEmail(" Parent@Example.COM ", "child@example.com")
	if err != nil || got != "parent@example.com" {
		t.Fatalf("= %q, %v", got, err)
	}
	for _, bad := range []string{"", "not-an-address", "parent@localhost", "Parent <parent@example.com>", "child@example.com", strings.Repeat("a", 250) + "@example.com"} {
		_, err := CleanGuardianEmail(bad, "child@example.com")
		if e, ok := errs.As(err); !ok || e.Fields[FieldGuardianEmail] == "" {
			t.Errorf("%q accepted (%v)", bad, err)
		}
	}
}
