// Package audit owns the tamper-evident audit log: what an entry is, how it
// is sealed into a hash chain, and how a chain is verified. It knows no SQL
// and no HTTP; internal/store writes and reads the rows.
//
// Each entry's hash covers its position, time, the kinds of actor and
// subject, their keyed pseudonyms (refs), the action, the purpose and the
// detail, chained to the previous entry's hash. The raw actor and subject
// ids are deliberately outside the hash: they are the only direct links to
// a person, and erasure clears them without breaking the chain. While an id
// is present, verification with the secret proves it still matches its ref,
// so an id cannot be swapped for another person's unnoticed.
//
// Retention removes the oldest entries from the head of the chain and
// leaves an Anchor sealed with the server's key, from which the rest
// verifies; a head removed any other way still shows as tampering.
//
// Detail holds no personal data: identifiers, counts, field names and
// hashes of old values, never the values themselves or free text.
package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Party is who acted or what was acted upon: a kind such as "member",
// "staff", "guest", "system" or "meeting", and an id, which may be empty
// for kinds that need none (the system itself).
type Party struct {
	Kind string
	ID   string
}

// Entry is what a module asks to record. At comes from the module's clock.
type Entry struct {
	At      time.Time
	Actor   Party
	Action  string // what happened, such as "profile.update" or "staff.read"
	Subject Party
	Purpose string // why, one of the data map's purposes
	Detail  map[string]string
}

// Record is an entry as stored: sealed into the chain at Seq. ActorID and
// SubjectID are empty once erasure has cleared them.
type Record struct {
	Seq         int64
	At          time.Time
	ActorKind   string
	ActorID     string
	ActorRef    string
	Action      string
	SubjectKind string
	SubjectID   string
	SubjectRef  string
	Purpose     string
	// Detail is the canonical JSON object exactly as stored; DecodeDetail
	// reads it.
	Detail   string
	PrevHash string
	Hash     string
}

// Checkpoint names a point in the chain: the entry at Seq has hash Hash.
// Since sequence numbers start at 1 and have no gaps, Seq is also the
// number of entries up to that point. The head of the log, published
// somewhere the database's administrator cannot rewrite, is an anchor that
// later verification checks against, which is the only way to notice that
// entries were cut off the end.
type Checkpoint struct {
	Seq  int64
	Hash string
}

// GenesisHash is the prev_hash of the first entry.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Genesis is the checkpoint before the first entry.
func Genesis() Checkpoint { return Checkpoint{Seq: 0, Hash: GenesisHash} }

// String formats c as "seq:hash", the form ParseCheckpoint reads.
func (c Checkpoint) String() string { return strconv.FormatInt(c.Seq, 10) + ":" + c.Hash }

// ParseCheckpoint reads "seq:hash" as printed by Checkpoint.String.
func ParseCheckpoint(s string) (Checkpoint, error) {
	seqText, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || err != nil || seq < 0 {
		return Checkpoint{}, errors.New("a checkpoint is SEQ:HASH, such as 42:9f86d0…, with a sequence number of 0 or more")
	}
	hash = strings.ToLower(hash)
	if !isHash(hash) {
		return Checkpoint{}, errors.New("the hash of a checkpoint is 64 hexadecimal digits")
	}
	return Checkpoint{Seq: seq, Hash: hash}, nil
}

func isHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// Limits that keep free text, and so personal data, out of entries.
const (
	maxIDLen        = 200
	maxDetailKeys   = 32
	maxDetailValLen = 256
)

var (
	kindPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	namePattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)
)

// Validate reports the first way e breaks the rules. These are mistakes in
// the calling module, never the requester's, so they are plain errors.
func (e Entry) Validate() error {
	if e.At.IsZero() {
		return errors.New("audit: entry has no time")
	}
	// Kinds have no colon, so "kind:id" is unambiguous inside a ref.
	for _, p := range []struct {
		role string
		p    Party
	}{{"actor", e.Actor}, {"subject", e.Subject}} {
		if !kindPattern.MatchString(p.p.Kind) {
			return fmt.Errorf("audit: %s kind %q must be a lower-case identifier", p.role, p.p.Kind)
		}
		if len(p.p.ID) > maxIDLen || !printable(p.p.ID) {
			return fmt.Errorf("audit: %s id must be printable and at most %d bytes", p.role, maxIDLen)
		}
	}
	if !namePattern.MatchString(e.Action) {
		return fmt.Errorf("audit: action %q must be a lower-case name", e.Action)
	}
	if !namePattern.MatchString(e.Purpose) {
		return fmt.Errorf("audit: purpose %q must be a lower-case name", e.Purpose)
	}
	if len(e.Detail) > maxDetailKeys {
		return fmt.Errorf("audit: detail has more than %d keys", maxDetailKeys)
	}
	for k, v := range e.Detail {
		if !namePattern.MatchString(k) {
			return fmt.Errorf("audit: detail key %q must be a lower-case name", k)
		}
		if len(v) > maxDetailValLen || !printable(v) {
			return fmt.Errorf("audit: detail %q must be printable and at most %d bytes", k, maxDetailValLen)
		}
	}
	return nil
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// Ref is the keyed pseudonym of a party: HMAC-SHA256 of "kind:id" under the
// server's secret, in hex. Entries about one person share it, so they stay
// provably linked, yet it reveals nothing without the secret. A party
// without an id has no ref.
func Ref(secret []byte, kind, id string) string {
	if id == "" {
		return ""
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(kind + ":" + id))
	return hex.EncodeToString(m.Sum(nil))
}

// EncodeDetail returns the canonical JSON form of a detail map: an object
// with sorted keys and no spaces, "{}" when empty.
func EncodeDetail(d map[string]string) string {
	if len(d) == 0 {
		return "{}"
	}
	// Marshal sorts map keys and cannot fail on map[string]string.
	b, _ := json.Marshal(d)
	return string(b)
}

// DecodeDetail reads a stored detail. Anything but the canonical form that
// EncodeDetail produces is refused, so that no byte of it can change
// unnoticed.
func DecodeDetail(s string) (map[string]string, error) {
	var d map[string]string
	if err := json.Unmarshal([]byte(s), &d); err != nil || d == nil {
		return nil, errors.New("audit: detail is not a JSON object of strings")
	}
	if EncodeDetail(d) != s {
		return nil, errors.New("audit: detail is not in canonical form")
	}
	return d, nil
}

// Seal turns e into the record that follows prev in the chain. secret keys
// the pseudonyms and must be the server's secret.
func Seal(secret []byte, prev Checkpoint, e Entry) (Record, error) {
	if len(secret) == 0 {
		return Record{}, errors.New("audit: no secret to key the pseudonyms")
	}
	if err := e.Validate(); err != nil {
		return Record{}, err
	}
	if !isHash(prev.Hash) {
		return Record{}, errors.New("audit: previous hash is malformed")
	}
	r := Record{
		Seq:         prev.Seq + 1,
		At:          normaliseTime(e.At),
		ActorKind:   e.Actor.Kind,
		ActorID:     e.Actor.ID,
		ActorRef:    Ref(secret, e.Actor.Kind, e.Actor.ID),
		Action:      e.Action,
		SubjectKind: e.Subject.Kind,
		SubjectID:   e.Subject.ID,
		SubjectRef:  Ref(secret, e.Subject.Kind, e.Subject.ID),
		Purpose:     e.Purpose,
		Detail:      EncodeDetail(e.Detail),
		PrevHash:    prev.Hash,
	}
	h, err := r.ComputeHash()
	if err != nil {
		return Record{}, err
	}
	r.Hash = h
	return r, nil
}

// normaliseTime keeps what both databases store: PostgreSQL keeps
// microseconds, so anything finer would not survive the round trip.
func normaliseTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
