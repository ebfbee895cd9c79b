package account

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/sessionshq/sessions/internal/errs"
)

// Password length limits. The upper bound is in bytes because that is what
// the hash reads, and it keeps a megabyte "password" from costing anything
// beyond one ordinary hash.
const (
	MinPasswordRunes = 8
	MaxPasswordBytes = 1024
)

//go:embed common-passwords.txt
var commonPasswordsFile string

// commonPasswords is the bundled list, read once at start-up.
var commonPasswords = func() map[string]struct{} {
	m := make(map[string]struct{}, 10000)
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsFile))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[line] = struct{}{}
	}
	return m
}()

// IsCommonPassword reports whether pw, ignoring case, is on the bundled
// list of the most common passwords.
func IsCommonPassword(pw string) bool {
	_, ok := commonPasswords[strings.ToLower(pw)]
	return ok
}

// CheckPassword adds a message for field to v when pw is too short, too
// long or too common.
func CheckPassword(v errs.Validation, field, pw string) {
	switch {
	case pw == "":
		v.Add(field, "choose a password")
	case len(pw) > MaxPasswordBytes:
		v.Add(field, "must be at most 1024 bytes")
	case !utf8.ValidString(pw):
		v.Add(field, "must be valid text")
	case utf8.RuneCountInString(pw) < MinPasswordRunes:
		v.Add(field, "must be at least 8 characters")
	case IsCommonPassword(pw):
		v.Add(field, "is one of the most common passwords; choose another")
	}
}

// HashParams are argon2id's cost settings. They are written into every
// encoded hash, so they can be raised later: old hashes still verify, and
// a sign-in re-hashes them with the new settings.
type HashParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultHashParams is the second recommended option of RFC 9106 (section
// 4): 64 MiB, three passes, four lanes.
var DefaultHashParams = HashParams{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}

// Hasher hashes and verifies passwords with argon2id. It is safe for
// concurrent use.
type Hasher struct {
	params HashParams
	// onHash, when set, is called once per argon2id computation; tests use
	// it to prove that every sign-in path does the same work.
	onHash func()
	// slots bounds concurrent hashes: each holds Memory KiB, and a burst of
	// sign-ins must not take the server's memory with it.
	slots chan struct{}
	// dummy is a well-formed hash that no password matches, verified
	// against when an address has no account so that path costs the same.
	dummy string
}

// NewHasher returns a Hasher with params; onHash may be nil.
func NewHasher(params HashParams, onHash func()) *Hasher {
	if params.SaltLen == 0 {
		params.SaltLen = DefaultHashParams.SaltLen
	}
	if params.KeyLen == 0 {
		params.KeyLen = DefaultHashParams.KeyLen
	}
	if params.Threads == 0 {
		params.Threads = 1
	}
	h := &Hasher{params: params, onHash: onHash, slots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))}
	// Random salt and random key: the same shape and cost as a real hash,
	// and nothing can match it.
	h.dummy = encodeHash(params, randomBytes(params.SaltLen), randomBytes(params.KeyLen))
	return h
}

// Hash returns the PHC-format encoding of pw:
// $argon2id$v=19$m=65536,t=3,p=4$<salt>$<key>.
func (h *Hasher) Hash(pw string) (string, error) {
	salt := randomBytes(h.params.SaltLen)
	key := h.derive(pw, salt, h.params)
	return encodeHash(h.params, salt, key), nil
}

// Verify reports whether pw matches encoded. rehash is true when encoded
// was made with other parameters than the Hasher's, so the caller should
// store a fresh Hash(pw) now that it knows the password.
func (h *Hasher) Verify(encoded, pw string) (ok, rehash bool, err error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, false, err
	}
	got := h.derive(pw, salt, p)
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, ok && p != h.params, nil
}

// VerifyDummy does the work of one Verify and fails, for a sign-in to an
// address that has no account, so that it takes as long as a wrong
// password for one that has.
func (h *Hasher) VerifyDummy(pw string) {
	_, _, _ = h.Verify(h.dummy, pw)
}

func (h *Hasher) derive(pw string, salt []byte, p HashParams) []byte {
	h.slots <- struct{}{}
	defer func() { <-h.slots }()
	if h.onHash != nil {
		h.onHash()
	}
	return argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

var b64 = base64.RawStdEncoding

func encodeHash(p HashParams, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

var errBadHash = errors.New("account: not an argon2id hash")

// decodeHash parses the PHC string. Limits on the parameters keep a
// tampered row from making one verification cost unbounded memory.
func decodeHash(s string) (HashParams, []byte, []byte, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return HashParams{}, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return HashParams{}, nil, nil, errBadHash
	}
	var p HashParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return HashParams{}, nil, nil, errBadHash
	}
	if p.Memory < 8 || p.Memory > 4<<20 || p.Time < 1 || p.Time > 100 || p.Threads < 1 {
		return HashParams{}, nil, nil, errBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return HashParams{}, nil, nil, errBadHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return HashParams{}, nil, nil, errBadHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

func randomBytes(n uint32) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
