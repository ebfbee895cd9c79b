package account

import (
	"testing"
	"time"
)

func TestDueOneMonthAfter(t *testing.T) {
	at := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 14, 30, 0, 0, time.UTC) }
	cases := []struct{ in, want time.Time }{
		{at(2026, 1, 31), at(2026, 2, 28)},
		{at(2028, 1, 31), at(2028, 2, 29)}, // leap year
		{at(2026, 1, 15), at(2026, 2, 15)},
		{at(2026, 3, 31), at(2026, 4, 30)},
		{at(2026, 8, 31), at(2026, 9, 30)},
		{at(2026, 12, 31), at(2027, 1, 31)},
		{at(2026, 2, 28), at(2026, 3, 28)},
	}
	for _, tc := range cases {
		if got := DueOneMonthAfter(tc.in); !got.Equal(tc.want) {
			t.Errorf("DueOneMonthAfter(%s) = %s, want %s", tc.in.Format(time.DateTime), got.Format(time.DateTime), tc.want.Format(time.DateTime))
		}
	}
	if got := AddMonthsClamped(at(2026, 1, 31), 3); !got.Equal(at(2026, 4, 30)) {
		t.Errorf("three months after 31 January = %s", got)
	}
}

func TestCanReactivate(t *testing.T) {
	off := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if !CanReactivate(off, off.Add(29*24*time.Hour), 0) {
		t.Error("day 29 refused with the default grace")
	}
	if CanReactivate(off, off.Add(30*24*time.Hour), 0) {
		t.Error("day 30 accepted with the default 30-day grace")
	}
	if !CanReactivate(off, off.Add(50*24*time.Hour), 60*24*time.Hour) {
		t.Error("a configured longer grace is ignored")
	}
}
