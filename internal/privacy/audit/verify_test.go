package audit

import (
	"fmt"
	"testing"
	"time"
)

// chain seals n entries in memory.
func chain(t *testing.T, n int) []Record {
	t.Helper()
	at := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	prev := Genesis()
	var out []Record
	for i := range n {
		r, err := Seal(testSecret, prev, Entry{
			At:      at.Add(time.Duration(i) * time.Minute),
			Actor:   Party{Kind: "staff", ID: "stf_1"},
			Action:  "profile.read",
			Subject: Party{Kind: "member", ID: fmt.Sprintf("mbr_%d", i)},
			Purpose: "support",
			Detail:  map[string]string{"n": fmt.Sprint(i)},
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
		prev = Checkpoint{r.Seq, r.Hash}
	}
	return out
}

func verify(records []Record, secret []byte, anchor *Checkpoint) Result {
	v := NewVerifier(secret, anchor)
	for _, r := range records {
		if !v.Check(r) {
			break
		}
	}
	return v.Result()
}

func TestVerifyIntact(t *testing.T) {
	rs := chain(t, 5)
	res := verify(rs, testSecret, &Checkpoint{3, rs[2].Hash})
	if !res.Intact || res.Entries != 5 || res.Head != (Checkpoint{5, rs[4].Hash}) || res.FirstBroken != nil {
		t.Fatalf("intact chain: %+v", res)
	}
	if res := verify(nil, testSecret, nil); !res.Intact || res.Entries != 0 || res.Head != Genesis() {
		t.Fatalf("empty log: %+v", res)
	}
}

func TestVerifyNamesFirstBrokenLink(t *testing.T) {
	other := []byte("a different secret of 32 bytes!!")
	cases := []struct {
		name    string
		tamper  func([]Record) []Record
		secret  []byte
		anchor  func([]Record) *Checkpoint
		seq     int64
		reason  Reason
		entries int64
	}{
		{name: "action edited", seq: 3, reason: ReasonEdited, entries: 2,
			tamper: func(rs []Record) []Record { rs[2].Action = "profile.update"; return rs }},
		{name: "time edited", seq: 2, reason: ReasonEdited, entries: 1,
			tamper: func(rs []Record) []Record { rs[1].At = rs[1].At.Add(time.Microsecond); return rs }},
		{name: "detail reformatted", seq: 4, reason: ReasonEdited, entries: 3,
			tamper: func(rs []Record) []Record { rs[3].Detail = `{"n": "3"}`; return rs }},
		{name: "ref edited", seq: 5, reason: ReasonEdited, entries: 4,
			tamper: func(rs []Record) []Record { rs[4].SubjectRef = rs[0].SubjectRef; return rs }},
		{name: "middle deleted", seq: 4, reason: ReasonMissing, entries: 2,
			tamper: func(rs []Record) []Record { return append(rs[:2:2], rs[3:]...) }},
		{name: "first deleted", seq: 2, reason: ReasonMissing, entries: 0,
			tamper: func(rs []Record) []Record { return rs[1:] }},
		{name: "middle deleted and renumbered", seq: 3, reason: ReasonUnlinked, entries: 2,
			tamper: func(rs []Record) []Record {
				rs = append(rs[:2:2], rs[3:]...)
				for i := range rs {
					rs[i].Seq = int64(i + 1)
				}
				return rs
			}},
		{name: "two swapped", seq: 2, reason: ReasonUnlinked, entries: 1,
			tamper: func(rs []Record) []Record {
				rs[1], rs[2] = rs[2], rs[1]
				rs[1].Seq, rs[2].Seq = 2, 3
				return rs
			}},
		{name: "entry rewritten with a fresh hash", seq: 3, reason: ReasonUnlinked, entries: 2,
			tamper: func(rs []Record) []Record {
				rs[1].Purpose = "marketing"
				rs[1].Hash, _ = rs[1].ComputeHash()
				return rs
			}},
		{name: "subject id swapped", seq: 2, reason: ReasonPseudonym, entries: 1, secret: testSecret,
			tamper: func(rs []Record) []Record { rs[1].SubjectID = "mbr_99"; return rs }},
		{name: "actor id swapped", seq: 1, reason: ReasonPseudonym, entries: 0, secret: testSecret,
			tamper: func(rs []Record) []Record { rs[0].ActorID = "stf_2"; return rs }},
		{name: "another secret", seq: 1, reason: ReasonPseudonym, entries: 0, secret: other,
			tamper: func(rs []Record) []Record { return rs }},
		{name: "tail cut, anchored", seq: 4, reason: ReasonTruncated, entries: 3,
			tamper: func(rs []Record) []Record { return rs[:3] },
			anchor: func(rs []Record) *Checkpoint { return &Checkpoint{5, rs[4].Hash} }},
		{name: "tail rewritten, anchored", seq: 4, reason: ReasonAnchor, entries: 3,
			tamper: func(rs []Record) []Record { return rs },
			anchor: func(rs []Record) *Checkpoint { return &Checkpoint{4, rs[0].Hash} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := chain(t, 5)
			var anchor *Checkpoint
			if c.anchor != nil {
				anchor = c.anchor(rs)
			}
			res := verify(c.tamper(rs), c.secret, anchor)
			if res.Intact || res.FirstBroken == nil {
				t.Fatalf("tampering not noticed: %+v", res)
			}
			if b := res.FirstBroken; b.Seq != c.seq || b.Reason != c.reason || b.Message == "" {
				t.Errorf("first broken = %+v, want seq %d reason %s", *b, c.seq, c.reason)
			}
			if res.Entries != c.entries {
				t.Errorf("entries = %d, want %d", res.Entries, c.entries)
			}
		})
	}
}

// What no verification can notice without an anchor: the tail removed, or
// the tail rewritten and re-hashed. This test records that limit.
func TestTailCutIsInvisibleWithoutAnchor(t *testing.T) {
	rs := chain(t, 5)
	if res := verify(rs[:3], testSecret, nil); !res.Intact || res.Entries != 3 {
		t.Fatalf("%+v", res)
	}
}

// Erasure clears ids; the chain and the pseudonym check must both still pass.
func TestVerifyAfterErasure(t *testing.T) {
	rs := chain(t, 5)
	for i := range rs {
		rs[i].SubjectID = ""
	}
	rs[2].ActorID = ""
	if res := verify(rs, testSecret, nil); !res.Intact || res.Entries != 5 {
		t.Fatalf("%+v", res)
	}
}
