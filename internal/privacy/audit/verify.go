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
	// ReasonPruneRecord: the log starts after entries that retention
	// removed, but the anchor it kept of them is not sealed with this
	// server's key, so it was forged or altered (or no key was given to
	// check it with).
	ReasonPruneRecord Reason = "prune_record"
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
	// Pruned is the last entry retention removed when the log starts
	// after it; the entries counted follow it.
	Pruned *Checkpoint
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
	pruned *Anchor
}

// NewVerifier returns a verifier positioned before the first entry. With a
// secret it also checks that every id still present matches its ref. With
// an anchor it checks the log reaches the anchor and holds the anchor's
// hash at its position.
func NewVerifier(secret []byte, anchor *Checkpoint) *Verifier {
	return &Verifier{secret: secret, anchor: anchor, last: Genesis()}
}

// Pruned positions the verifier after the head of the log that retention
// removed, as its anchor records it. Call it before the first Check. The
// anchor counts only if its seal holds under the verifier's secret:
// without the secret, a log whose head was removed cannot be verified.
//
// A published checkpoint older than the anchor can no longer be compared,
// as its entry is gone; one at the anchor is compared with it.
func (v *Verifier) Pruned(a Anchor) {
	if v.broken != nil || v.count > 0 {
		return
	}
	first := a.Seq + 1
	switch {
	case len(v.secret) == 0:
		v.broken = &Break{first, ReasonPruneRecord, fmt.Sprintf("retention removed the entries up to %d, and only the server's secret key can confirm its record of that", a.Seq)}
	case !a.Valid(v.secret):
		v.broken = &Break{first, ReasonPruneRecord, fmt.Sprintf("the record that retention removed the entries up to %d is not sealed with this server's key: it was forged or altered", a.Seq)}
	case v.anchor != nil && v.anchor.Seq == a.Seq && v.anchor.Hash != a.Hash:
		v.broken = &Break{first, ReasonAnchor, fmt.Sprintf("entry %d, removed by retention, differs from the anchor: the log was rewritten from there on", a.Seq)}
	default:
		v.pruned = &a
		v.last = a.Checkpoint
	}
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
	afterPrune := v.pruned != nil && v.count == 0
	if r.Seq != want {
		if afterPrune {
			return &Break{r.Seq, ReasonMissing, fmt.Sprintf("the log starts at entry %d but retention removed the entries only up to %d: %s", r.Seq, v.last.Seq, missingRange(want, r.Seq-1))}
		}
		if want == 1 {
			return &Break{r.Seq, ReasonMissing, fmt.Sprintf("the log starts at entry %d: the entries before it are missing", r.Seq)}
		}
		return &Break{r.Seq, ReasonMissing, fmt.Sprintf("entry %d follows entry %d: the entries between them are missing", r.Seq, v.last.Seq)}
	}
	if r.PrevHash != v.last.Hash {
		if afterPrune {
			return &Break{r.Seq, ReasonUnlinked, fmt.Sprintf("entry %d does not link to entry %d as retention recorded it when removing the entries up to it: the log was rewritten from there on", r.Seq, v.last.Seq)}
		}
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
	// Retention records each removal in an entry after the ones it
	// removed, so a log that ends at its anchor lost its end.
	if b == nil && v.pruned != nil && v.count == 0 {
		b = &Break{v.pruned.Seq + 1, ReasonTruncated, fmt.Sprintf("the log is empty after entry %d, yet retention records each removal in an entry after it: entries were removed from the end", v.pruned.Seq)}
	}
	res := Result{Intact: b == nil, Entries: v.count, Head: v.last, FirstBroken: b}
	if v.pruned != nil {
		res.Pruned = &Checkpoint{Seq: v.pruned.Seq, Hash: v.pruned.Hash}
	}
	return res
}

func missingRange(from, to int64) string {
	if from == to {
		return fmt.Sprintf("entry %d is missing", from)
	}
	return fmt.Sprintf("entries %d to %d are missing", from, to)
}
