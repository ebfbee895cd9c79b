package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"sort"
	"strconv"
)

// encodingVersion opens every canonical encoding, so that a future change
// of what is hashed cannot collide with entries sealed under this one.
const encodingVersion = "sessions.audit.v1"

// timeLayout is RFC 3339 in UTC with exactly six fractional digits: the
// precision both databases keep, written the same way whatever the engine.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// Canonical is the unambiguous byte encoding of the hashed fields of r:
// each field as a 4-byte big-endian length followed by its bytes, in a
// fixed order, the detail as a count and then its pairs sorted by key.
// ActorID, SubjectID, PrevHash and Hash are not part of it.
func (r Record) Canonical() ([]byte, error) {
	detail, err := DecodeDetail(r.Detail)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(detail))
	for k := range detail {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fields := []string{
		encodingVersion,
		strconv.FormatInt(r.Seq, 10),
		r.At.UTC().Format(timeLayout),
		r.ActorKind,
		r.ActorRef,
		r.Action,
		r.SubjectKind,
		r.SubjectRef,
		r.Purpose,
		strconv.Itoa(len(keys)),
	}
	for _, k := range keys {
		fields = append(fields, k, detail[k])
	}
	n := 0
	for _, f := range fields {
		n += 4 + len(f)
	}
	b := make([]byte, 0, n)
	for _, f := range fields {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b, nil
}

// ComputeHash returns hex(SHA-256(prev || canonical)), where prev is the
// 32 raw bytes of r.PrevHash.
func (r Record) ComputeHash() (string, error) {
	if !isHash(r.PrevHash) {
		return "", errors.New("audit: prev_hash is not 64 lower-case hexadecimal digits")
	}
	prev, _ := hex.DecodeString(r.PrevHash)
	c, err := r.Canonical()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(prev)
	h.Write(c)
	return hex.EncodeToString(h.Sum(nil)), nil
}
