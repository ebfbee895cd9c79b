package audit

import "fmt"

// Reason says how the chain is broken. The values are stable: the API and
// scripts compare them.
type Reason string

const (
	// ReasonMissing: sequence numbers skip, so entries were deleted.
	ReasonMissing Reason = "missing"
	// ReasonUnlinked: prev_hash is not the hash of the entry before, so an
	// earlier entry was removed and the rest renumbered, entries were
	// reordered, or the entry before was rewritten with a fresh hash.
	ReasonUnlinked Reason = "unlinked"
	// ReasonEdited: the entry's content no longer gives its hash, so it was
	// changed after it was written.
	ReasonEdited Reason = "edited"
	// ReasonPseudonym: an actor or subject id no longer matches its keyed
	// ref, so the id was changed (or the secret key is not the one that
	// wrote the entry).
	ReasonPseudonym Reason = "pseudonym"
	// ReasonTruncated: the log ends before the anchor, so entries were cut
	// off the end.
	ReasonTruncated Reason = "truncated"
	// ReasonAnchor: the entry at the anchor's position has another hash, so
	// the log was rewritten from there on.
	ReasonAnchor Reason = "anchor_mismatch"
)

// Break is the first broken link: the entry at Seq is where the chain stops
// being trustworthy.
type Break struct {
	Seq     int64
	Reason  Reason
	Message string
}

// Result is the outcome of a verification.
type Result struct {
	Intact bool
	// Entries is the number of entries that verified, in order from the
	// first: all of them when Intact, those before the break otherwise.
	Entries int64
	// Head is the last entry that verified; publish it to anchor later
	// verifications.
	Head        Checkpoint
	FirstBroken *Break
}

// Verifier checks records fed to it in sequence order, one at a time, so
// that a log of any length is verified in constant memory. It stops at the
// first broken link.
type Verifier struct {
	secret []byte
	anchor *Checkpoint
	last   Checkpoint
	count  int64
	broken *Break
}

// NewVerifier returns a verifier positioned before the first entry. With a
// secret it also checks that every id still present matches its ref. With
// an anchor it checks the log reaches the anchor and holds the anchor's
// hash at its position.
func NewVerifier(secret []byte, anchor *Checkpoint) *Verifier {
	return &Verifier{secret: secret, anchor: anchor, last: Genesis()}
}

// Check verifies the next record and reports whether the chain is still
// intact. After the first break it ignores everything.
func (v *Verifier) Check(r Record) bool {
	if v.broken != nil {
		return false
	}
	if b := v.check(r); b != nil {
		v.broken = b
		return false
	}
	v.last = Checkpoint{Seq: r.Seq, Hash: r.Hash}
	v.count++
	return true
}

func (v *Verifier) check(r Record) *Break {
	want := v.last.Seq + 1
	if r.Seq != want {
		if want == 1 {
			return &Break{r.Seq, ReasonMissing, fmt.Sprintf("the log starts at entry %d: the entries before it are missing", r.Seq)}
		}
		return &Break{r.Seq, ReasonMissing, fmt.Sprintf("entry %d follows entry %d: the entries between them are missing", r.Seq, v.last.Seq)}
	}
	if r.PrevHash != v.last.Hash {
		if want == 1 {
			return &Break{r.Seq, ReasonUnlinked, "the first entry does not start from the genesis hash"}
		}
		return &Break{r.Seq, ReasonUnlinked, fmt.Sprintf("entry %d does not link to entry %d: an entry before it was removed, reordered or rewritten", r.Seq, v.last.Seq)}
	}
	if h, err := r.ComputeHash(); err != nil || h != r.Hash {
		return &Break{r.Seq, ReasonEdited, fmt.Sprintf("entry %d was changed after it was written: its content does not match its hash", r.Seq)}
	}
	if len(v.secret) > 0 {
		if r.ActorID != "" && Ref(v.secret, r.ActorKind, r.ActorID) != r.ActorRef {
			return &Break{r.Seq, ReasonPseudonym, fmt.Sprintf("the actor id of entry %d does not match its pseudonym: the id was changed, or the secret key is not the one that wrote it", r.Seq)}
		}
		if r.SubjectID != "" && Ref(v.secret, r.SubjectKind, r.SubjectID) != r.SubjectRef {
			return &Break{r.Seq, ReasonPseudonym, fmt.Sprintf("the subject id of entry %d does not match its pseudonym: the id was changed, or the secret key is not the one that wrote it", r.Seq)}
		}
	}
	if v.anchor != nil && r.Seq == v.anchor.Seq && r.Hash != v.anchor.Hash {
		return &Break{r.Seq, ReasonAnchor, fmt.Sprintf("entry %d differs from the anchor: the log was rewritten from there on", r.Seq)}
	}
	return nil
}

// Result returns the outcome once every record has been checked.
func (v *Verifier) Result() Result {
	b := v.broken
	if b == nil && v.anchor != nil && v.anchor.Seq > v.last.Seq {
		b = &Break{v.last.Seq + 1, ReasonTruncated, fmt.Sprintf("the log ends at entry %d but the anchor shows it held %d: entries were removed from the end", v.last.Seq, v.anchor.Seq)}
	}
	if b == nil && v.anchor != nil && v.anchor.Seq == 0 && v.anchor.Hash != GenesisHash {
		b = &Break{1, ReasonAnchor, "the anchor at entry 0 is not the genesis hash"}
	}
	return Result{Intact: b == nil, Entries: v.count, Head: v.last, FirstBroken: b}
}
