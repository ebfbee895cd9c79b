package consent

import (
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
)

func TestTruncateIP(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.123":                "192.0.2.0",
		"203.0.113.7":                "203.0.113.0",
		"2001:db8:abcd:12:34::1":     "2001:db8:abcd::",
		"2001:db8:abcd:ffff:ffff::9": "2001:db8:abcd::",
		"::ffff:198.51.100.77":       "198.51.100.0",
		"fe80::1%eth0":               "fe80::",
		" 10.1.2.3 ":                 "10.1.2.0",
		"not an address":             "",
		"":                           "",
		"192.0.2.1:8080":             "",
	} {
		if got := TruncateIP(in); got != want {
			t.Errorf("TruncateIP(%q) = %q, want %q", in, got, want)
		}
	}
}

func valid() Record {
	return Record{
		ID: NewID(), SubjectKind: Visitor, SubjectID: "vis_0123456789abcdef",
		NoticeID: "cookies", NoticeVersion: "1", NoticeHash: strings.Repeat("ab", 32),
		Purposes: []string{"analytics", "personalisation"}, Basis: datamap.Consent, Method: Banner,
		At: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), State: Given, IP: "192.0.2.0", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)",
	}
}

func TestValidate(t *testing.T) {
	if err := valid().Validate(); err != nil {
		t.Fatalf("valid record refused: %v", err)
	}
	cases := map[string]struct {
		field  string
		change func(*Record)
	}{
		"unknown purpose":         {"purposes", func(r *Record) { r.Purposes = []string{"selling-data"} }},
		"purpose not for consent": {"purposes", func(r *Record) { r.Purposes = []string{"marketing"} }},
		"contract purpose":        {"purposes", func(r *Record) { r.Purposes = []string{"account"} }},
		"no purpose":              {"purposes", func(r *Record) { r.Purposes = nil }},
		"purpose twice":           {"purposes", func(r *Record) { r.Purposes = []string{"analytics", "analytics"} }},
		"unknown state":           {"state", func(r *Record) { r.State = "maybe" }},
		"unknown method":          {"method", func(r *Record) { r.Method = "telepathy" }},
		"unknown subject kind":    {"subject_kind", func(r *Record) { r.SubjectKind = "guest" }},
		"no subject":              {"subject_id", func(r *Record) { r.SubjectID = "" }},
		"control in subject":      {"subject_id", func(r *Record) { r.SubjectID = "vis_\n1" }},
		"other basis":             {"legal_basis", func(r *Record) { r.Basis = datamap.LegitimateInterest }},
		"no notice":               {"notice_id", func(r *Record) { r.NoticeID = "" }},
		"no version":              {"notice_version", func(r *Record) { r.NoticeVersion = "" }},
		"hash not hex":            {"notice_hash", func(r *Record) { r.NoticeHash = strings.Repeat("zz", 32) }},
		"no time":                 {"time", func(r *Record) { r.At = time.Time{} }},
		"full IP":                 {"ip", func(r *Record) { r.IP = "192.0.2.77" }},
		"full IPv6":               {"ip", func(r *Record) { r.IP = "2001:db8:1:2::5" }},
		"long user agent":         {"user_agent", func(r *Record) { r.UserAgent = strings.Repeat("a", MaxUserAgent+1) }},
		"control in user agent":   {"user_agent", func(r *Record) { r.UserAgent = "Mozilla\x00" }},
		"bad id":                  {"id", func(r *Record) { r.ID = "1" }},
		"GPC given":               {"method", func(r *Record) { r.Method, r.GPC = GPC, true }},
		"GPC without the signal":  {"method", func(r *Record) { r.Method, r.State = GPC, Refused }},
		"visitor linked":          {"linked_from", func(r *Record) { r.LinkedFrom = NewID() }},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := valid()
			c.change(&r)
			err := r.Validate()
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid {
				t.Fatalf("Validate = %v, want an invalid error", err)
			}
			if _, ok := e.Fields[c.field]; !ok {
				t.Errorf("fields %v, want one on %s", e.Fields, c.field)
			}
		})
	}
	r := valid()
	r.UserAgent = strings.Repeat("a", MaxUserAgent)
	if err := r.Validate(); err != nil {
		t.Errorf("a user agent of exactly %d bytes is refused: %v", MaxUserAgent, err)
	}
	r = valid()
	r.SubjectKind, r.LinkedFrom = Member, NewID()
	if err := r.Validate(); err != nil {
		t.Errorf("a member record carried over from a visitor is refused: %v", err)
	}
	r = valid()
	r.Purposes = []string{"recording", "ai-processing"}
	if err := r.Validate(); err != nil {
		t.Errorf("feature opt-ins refused: %v", err)
	}
}

func TestStateAt(t *testing.T) {
	r := valid()
	if got := r.StateAt(r.At.AddDate(0, 6, 0).Add(-time.Second)); got != Given {
		t.Errorf("a second before six months: %s", got)
	}
	if got := r.StateAt(r.At.AddDate(0, 6, 0)); got != Expired {
		t.Errorf("at six months: %s", got)
	}
	r.State = Withdrawn
	if got := r.StateAt(r.At.AddDate(1, 0, 0)); got != Withdrawn {
		t.Errorf("a withdrawal does not turn into anything else: %s", got)
	}
}

func TestChoosable(t *testing.T) {
	for _, p := range []string{"analytics", "personalisation", "behaviour-tracking", "recording", "ai-processing"} {
		if !Choosable(p) {
			t.Errorf("%s is not choosable", p)
		}
	}
	for _, p := range []string{"marketing", "account", "security", "", "nope"} {
		if Choosable(p) {
			t.Errorf("%s is choosable", p)
		}
	}
	if got := len(ChoosablePurposes()); got != 5 {
		t.Errorf("%d choosable purposes, want 5", got)
	}
}
