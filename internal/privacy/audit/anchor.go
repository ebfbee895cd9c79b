package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// Anchor is what retention keeps when it removes the head of the log: the
// position and hash of the last entry it removed, when and by which run.
// Verification then starts from it instead of the genesis hash.
//
// The hash alone would prove nothing: anyone who can delete rows can read
// the next entry's prev_hash and write a matching anchor. So an anchor is
// sealed with a key derived from the server's secret, which lives outside
// the database. Removing head entries by hand, or rewriting an anchor,
// therefore still shows as tampering; only the server, pruning what its
// retention rule allows, can start the log later.
type Anchor struct {
	Checkpoint
	PrunedAt time.Time
	RunID    string
	// MAC is hex HMAC-SHA256 of the other fields under the anchor key.
	MAC string
}

// anchorKeyLabel derives the anchor key from the server's secret, so that
// a seal can never be mistaken for a ref made with the same secret.
const anchorKeyLabel = "sessions.audit.anchor.v1"

// SealAnchor returns the anchor for the removal of every entry up to and
// including c, made at prunedAt by run runID.
func SealAnchor(secret []byte, c Checkpoint, prunedAt time.Time, runID string) (Anchor, error) {
	if len(secret) == 0 {
		return Anchor{}, errors.New("audit: no secret to seal the anchor")
	}
	if c.Seq < 1 || !isHash(c.Hash) {
		return Anchor{}, errors.New("audit: an anchor names an entry by its position and hash")
	}
	if runID == "" || len(runID) > maxIDLen || !printable(runID) {
		return Anchor{}, errors.New("audit: an anchor needs the id of the run that pruned")
	}
	a := Anchor{Checkpoint: c, PrunedAt: normaliseTime(prunedAt), RunID: runID}
	a.MAC = a.mac(secret)
	return a, nil
}

// Valid reports whether the anchor was sealed with secret and is unchanged
// since.
func (a Anchor) Valid(secret []byte) bool {
	if len(secret) == 0 {
		return false
	}
	want, err := hex.DecodeString(a.MAC)
	if err != nil {
		return false
	}
	got, _ := hex.DecodeString(a.mac(secret))
	return hmac.Equal(got, want)
}

func (a Anchor) mac(secret []byte) string {
	k := hmac.New(sha256.New, secret)
	k.Write([]byte(anchorKeyLabel))
	m := hmac.New(sha256.New, k.Sum(nil))
	for _, f := range []string{
		anchorKeyLabel,
		strconv.FormatInt(a.Seq, 10),
		a.Hash,
		a.PrunedAt.UTC().Format(timeLayout),
		a.RunID,
	} {
		m.Write(binary.BigEndian.AppendUint32(nil, uint32(len(f))))
		m.Write([]byte(f))
	}
	return hex.EncodeToString(m.Sum(nil))
}
