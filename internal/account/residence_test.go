package account

import (
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/country"
)

func TestControllersByResidence(t *testing.T) {
	cases := []struct {
		country string
		want    []string
	}{
		{"DE", []string{Inc.Name, Romania.Name}},
		{"GB", []string{Inc.Name, Romania.Name}},
		{"CH", []string{Inc.Name, Romania.Name}},
		{"NO", []string{Inc.Name, Romania.Name}},
		{"US", []string{Inc.Name}},
		{"JP", []string{Inc.Name}},
		{"", []string{Inc.Name}},
	}
	for _, tc := range cases {
		got := ControllersFor(tc.country)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d controllers, want %v", tc.country, len(got), tc.want)
			continue
		}
		for i := range got {
			if got[i].Name != tc.want[i] {
				t.Errorf("%s: controller %d is %s, want %s", tc.country, i, got[i].Name, tc.want[i])
			}
		}
	}
}

func TestChildByCountry(t *testing.T) {
	now := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	born := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	cases := []struct {
		dob     time.Time
		country string
		child   bool
	}{
		{born(2012, 6, 15), "DE", true},  // 14 in Germany (16)
		{born(2010, 6, 15), "DE", false}, // 16 today
		{born(2010, 6, 16), "DE", true},  // 16 tomorrow
		{born(2012, 6, 15), "AT", false}, // 14 in Austria (14)
		{born(2013, 6, 15), "GB", false}, // 13 in the UK (13)
		{born(2013, 6, 16), "GB", true},
		{born(2011, 1, 1), "US", true}, // default 16
		{born(1990, 1, 1), "US", false},
		{born(2012, 1, 1), "", true},
	}
	for _, tc := range cases {
		if got := IsChild(tc.dob, tc.country, now); got != tc.child {
			t.Errorf("born %s in %q: child = %v, want %v", tc.dob.Format(time.DateOnly), tc.country, got, tc.child)
		}
	}
}

func TestConsentAgesAreForKnownCountries(t *testing.T) {
	for code := range consentAge {
		if _, ok := country.Normalise(code); !ok {
			t.Errorf("consent age for unknown country %s", code)
		}
	}
}
