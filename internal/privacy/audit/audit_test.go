package audit

import (
	"strings"
	"testing"
	"time"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func goldenEntry() Entry {
	return Entry{
		At:      time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.FixedZone("CET", 3600)),
		Actor:   Party{Kind: "staff", ID: "stf_01"},
		Action:  "profile.read",
		Subject: Party{Kind: "member", ID: "mbr_42"},
		Purpose: "support",
		Detail:  map[string]string{"fields": "email,name", "count": "2"},
	}
}

// The golden vector pins the canonical encoding and the hash: if either
// changes, every chain already written stops verifying, so the change must
// be deliberate (a new encodingVersion), never accidental. The expected
// values were computed apart from this code, from the encoding described in
// hash.go.
func TestSealGoldenVector(t *testing.T) {
	r, err := Seal(testSecret, Genesis(), goldenEntry())
	if err != nil {
		t.Fatal(err)
	}
	const (
		wantActorRef   = "231ae30fc38d9ed197d094dc18845265871531666abbc1923bfd94cf02d486b7"
		wantSubjectRef = "2c6372f9c190cb5ec57f5738a5754edeeed158ec6832ba1b3ef73dc549eb87d3"
		wantHash       = "428fea2f7a44c4aa860ac9b180ecc08c41b76621e046913cd2fcaed0e33dd15f"
	)
	if r.Seq != 1 || r.PrevHash != GenesisHash {
		t.Errorf("first record: seq %d prev %s", r.Seq, r.PrevHash)
	}
	if got := r.At.Format(time.RFC3339Nano); got != "2025-03-14T14:09:26.535897Z" {
		t.Errorf("time not normalised to UTC microseconds: %s", got)
	}
	if r.Detail != `{"count":"2","fields":"email,name"}` {
		t.Errorf("detail = %s", r.Detail)
	}
	if r.ActorRef != wantActorRef {
		t.Errorf("actor ref = %s", r.ActorRef)
	}
	if r.SubjectRef != wantSubjectRef {
		t.Errorf("subject ref = %s", r.SubjectRef)
	}
	if r.Hash != wantHash {
		t.Errorf("hash = %s", r.Hash)
	}
}

// The hash covers the refs, not the ids, so erasure may clear the ids.
func TestHashIgnoresIDsButNotRefs(t *testing.T) {
	r, err := Seal(testSecret, Genesis(), goldenEntry())
	if err != nil {
		t.Fatal(err)
	}
	cleared := r
	cleared.ActorID, cleared.SubjectID = "", ""
	if h, _ := cleared.ComputeHash(); h != r.Hash {
		t.Error("clearing the ids changed the hash")
	}
	swapped := r
	swapped.SubjectRef = Ref(testSecret, "member", "mbr_43")
	if h, _ := swapped.ComputeHash(); h == r.Hash {
		t.Error("changing the subject ref kept the hash")
	}
}

// Adjacent fields must not be able to trade bytes and keep the hash.
func TestCanonicalIsUnambiguous(t *testing.T) {
	base := goldenEntry()
	a := base
	a.Action, a.Purpose = "ab", "c"
	b := base
	b.Action, b.Purpose = "a", "bc"
	c := base
	c.Detail = map[string]string{"ab": "c"}
	d := base
	d.Detail = map[string]string{"a": "bc"}
	seen := map[string]string{}
	for name, e := range map[string]Entry{"a": a, "b": b, "c": c, "d": d} {
		r, err := Seal(testSecret, Genesis(), e)
		if err != nil {
			t.Fatal(err)
		}
		if other, dup := seen[r.Hash]; dup {
			t.Errorf("entries %s and %s hash alike", name, other)
		}
		seen[r.Hash] = name
	}
}

func TestValidate(t *testing.T) {
	long := strings.Repeat("x", 300)
	cases := []struct {
		name   string
		change func(*Entry)
	}{
		{"no time", func(e *Entry) { e.At = time.Time{} }},
		{"colon in kind", func(e *Entry) { e.Actor.Kind = "staff:x" }},
		{"empty subject kind", func(e *Entry) { e.Subject.Kind = "" }},
		{"control in id", func(e *Entry) { e.Subject.ID = "a\nb" }},
		{"long id", func(e *Entry) { e.Actor.ID = long }},
		{"empty action", func(e *Entry) { e.Action = "" }},
		{"upper-case purpose", func(e *Entry) { e.Purpose = "Support" }},
		{"free text detail", func(e *Entry) { e.Detail = map[string]string{"note": long} }},
		{"bad detail key", func(e *Entry) { e.Detail = map[string]string{"Old Value": "x"} }},
	}
	if err := goldenEntry().Validate(); err != nil {
		t.Fatalf("golden entry refused: %v", err)
	}
	for _, c := range cases {
		e := goldenEntry()
		c.change(&e)
		if err := e.Validate(); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
		if _, err := Seal(testSecret, Genesis(), e); err == nil {
			t.Errorf("%s: sealed", c.name)
		}
	}
	if _, err := Seal(nil, Genesis(), goldenEntry()); err == nil {
		t.Error("sealed without a secret")
	}
}

func TestDecodeDetailRefusesNonCanonical(t *testing.T) {
	for _, s := range []string{`{"b":"1","a":"2"}`, `{"a": "1"}`, `null`, `[]`, `{"a":1}`, ``} {
		if _, err := DecodeDetail(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	d, err := DecodeDetail(`{"a":"2","b":"1"}`)
	if err != nil || d["a"] != "2" || d["b"] != "1" {
		t.Errorf("canonical detail: %v %v", d, err)
	}
}

func TestParseCheckpoint(t *testing.T) {
	c := Checkpoint{Seq: 42, Hash: strings.Repeat("ab", 32)}
	got, err := ParseCheckpoint(c.String())
	if err != nil || got != c {
		t.Errorf("round trip: %v %v", got, err)
	}
	for _, s := range []string{"", "42", "x:" + c.Hash, "-1:" + c.Hash, "42:abc", "42:" + strings.Repeat("zz", 32)} {
		if _, err := ParseCheckpoint(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestRef(t *testing.T) {
	a := Ref(testSecret, "member", "m1")
	if a == "" || a != Ref(testSecret, "member", "m1") {
		t.Error("ref is not stable")
	}
	if a == Ref(testSecret, "guest", "m1") || a == Ref(testSecret, "member", "m2") || a == Ref([]byte("another secret, also 32 bytes!!"), "member", "m1") {
		t.Error("ref does not depend on kind, id and secret")
	}
	if Ref(testSecret, "system", "") != "" {
		t.Error("a party without id got a ref")
	}
}
