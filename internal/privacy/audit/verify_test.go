package audit

import (
	"fmt"
	"strings"
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

// After retention removed the head, the log verifies from the sealed
// anchor, and only from one the server's key sealed at the right entry.
func TestVerifyAfterPrune(t *testing.T) {
	other := []byte("a different secret of 32 bytes!!")
	at := time.Date(2030, 1, 2, 3, 4, 5, 6789, time.UTC)
	seal := func(t *testing.T, secret []byte, c Checkpoint) Anchor {
		t.Helper()
		a, err := SealAnchor(secret, c, at, "ret_1")
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	cases := []struct {
		name    string
		secret  []byte
		anchor  func([]Record) Anchor
		left    func([]Record) []Record
		publish func([]Record) *Checkpoint
		seq     int64 // 0: intact
		reason  Reason
		says    string
		entries int64
	}{
		{name: "pruned to 2", entries: 3},
		{name: "published checkpoint older than the anchor", entries: 3,
			publish: func(rs []Record) *Checkpoint { return &Checkpoint{1, rs[0].Hash} }},
		{name: "published checkpoint at the anchor", entries: 3,
			publish: func(rs []Record) *Checkpoint { return &Checkpoint{2, rs[1].Hash} }},
		{name: "no secret", secret: []byte{}, seq: 3, reason: ReasonPruneRecord, says: "secret key"},
		{name: "another secret", secret: other, seq: 3, reason: ReasonPruneRecord, says: "forged or altered"},
		{name: "sealed without the key", seq: 3, reason: ReasonPruneRecord, says: "forged or altered",
			anchor: func(rs []Record) Anchor { return seal(t, other, Checkpoint{2, rs[1].Hash}) }},
		{name: "anchor moved", seq: 4, reason: ReasonPruneRecord, says: "forged or altered",
			anchor: func(rs []Record) Anchor { a := seal(t, testSecret, Checkpoint{2, rs[1].Hash}); a.Seq = 3; return a }},
		{name: "sealed at another hash", seq: 3, reason: ReasonUnlinked, says: "as retention recorded it",
			anchor: func(rs []Record) Anchor { return seal(t, testSecret, Checkpoint{2, rs[0].Hash}) }},
		{name: "first entry left removed", seq: 4, reason: ReasonMissing, says: "entry 3 is missing",
			left: func(rs []Record) []Record { return rs[3:] }},
		{name: "two first entries left removed", seq: 5, reason: ReasonMissing, says: "entries 3 to 4 are missing",
			left: func(rs []Record) []Record { return rs[4:] }},
		{name: "nothing left", seq: 3, reason: ReasonTruncated, says: "removed from the end",
			left: func(rs []Record) []Record { return nil }},
		{name: "published checkpoint differs at the anchor", seq: 3, reason: ReasonAnchor,
			publish: func(rs []Record) *Checkpoint { return &Checkpoint{2, rs[0].Hash} }},
		{name: "tail cut, published", seq: 5, reason: ReasonTruncated, entries: 2,
			left:    func(rs []Record) []Record { return rs[2:4] },
			publish: func(rs []Record) *Checkpoint { return &Checkpoint{5, rs[4].Hash} }},
		{name: "edited after the anchor", seq: 4, reason: ReasonEdited, entries: 1,
			left: func(rs []Record) []Record { rs[3].Action = "profile.update"; return rs[2:] }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := chain(t, 5)
			secret := testSecret
			if c.secret != nil {
				secret = c.secret
			}
			a := seal(t, testSecret, Checkpoint{2, rs[1].Hash})
			if c.anchor != nil {
				a = c.anchor(rs)
			}
			left := rs[2:]
			if c.left != nil {
				left = c.left(rs)
			}
			var published *Checkpoint
			if c.publish != nil {
				published = c.publish(rs)
			}
			v := NewVerifier(secret, published)
			v.Pruned(a)
			for _, r := range left {
				if !v.Check(r) {
					break
				}
			}
			res := v.Result()
			if c.seq == 0 {
				if !res.Intact || res.Pruned == nil || *res.Pruned != (Checkpoint{2, rs[1].Hash}) || res.Head != (Checkpoint{5, rs[4].Hash}) {
					t.Fatalf("pruned log: %+v", res)
				}
			} else {
				b := res.FirstBroken
				if res.Intact || b == nil || b.Seq != c.seq || b.Reason != c.reason || !strings.Contains(b.Message, c.says) {
					t.Fatalf("result %+v, break %+v; want seq %d (%s) saying %q", res, b, c.seq, c.reason, c.says)
				}
			}
			if res.Entries != c.entries {
				t.Errorf("entries = %d, want %d", res.Entries, c.entries)
			}
		})
	}
}

func TestSealAnchorRefusesWhatItCannotSeal(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	good := Checkpoint{7, GenesisHash}
	for name, seal := range map[string]func() (Anchor, error){
		"no secret":    func() (Anchor, error) { return SealAnchor(nil, good, at, "ret_1") },
		"genesis":      func() (Anchor, error) { return SealAnchor(testSecret, Genesis(), at, "ret_1") },
		"bad hash":     func() (Anchor, error) { return SealAnchor(testSecret, Checkpoint{7, "abc"}, at, "ret_1") },
		"no run":       func() (Anchor, error) { return SealAnchor(testSecret, good, at, "") },
		"control char": func() (Anchor, error) { return SealAnchor(testSecret, good, at, "ret\n1") },
	} {
		if _, err := seal(); err == nil {
			t.Errorf("%s: sealed", name)
		}
	}
	a, err := SealAnchor(testSecret, good, at, "ret_1")
	if err != nil {
		t.Fatal(err)
	}
	// Every field is under the seal, and the time only to the microsecond
	// that both databases keep.
	for name, change := range map[string]func(*Anchor){
		"seq":  func(a *Anchor) { a.Seq++ },
		"hash": func(a *Anchor) { a.Hash = "1" + a.Hash[1:] },
		"time": func(a *Anchor) { a.PrunedAt = a.PrunedAt.Add(time.Microsecond) },
		"run":  func(a *Anchor) { a.RunID = "ret_2" },
		"mac":  func(a *Anchor) { a.MAC = "00" + a.MAC[2:] },
	} {
		b := a
		change(&b)
		if b.Valid(testSecret) {
			t.Errorf("%s changed, still valid", name)
		}
	}
	if !a.Valid(testSecret) || a.Valid(nil) {
		t.Error("the seal does not hold with its own key only")
	}
	b := a
	b.PrunedAt = b.PrunedAt.In(time.FixedZone("X", 3600))
	if !b.Valid(testSecret) {
		t.Error("the seal depends on the time zone the time is read in")
	}
}
