// Package signed makes and checks the tokens carried by e-mailed links
// (verification, password reset, guardian consent, invitations): an HMAC
// over a purpose, a subject id and an expiry, so a link cannot be forged,
// altered, reused for another purpose or used after it expires. Single use
// is the caller's job: store Digest(token) and mark it spent.
package signed

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid covers every way a token can be wrong; callers must not tell
// the person which one it was.
var ErrInvalid = errors.New("signed: invalid or expired token")

var enc = base64.RawURLEncoding

// Make returns a URL-safe token for subject that is good for purpose until
// expires. A random nonce makes every token unique even for the same
// subject and expiry.
func Make(secret []byte, purpose, subject string, expires time.Time) string {
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	return makeWith(secret, purpose, subject, expires, nonce[:])
}

// MakeFixed is Make without the randomness: the nonce is derived from the
// other inputs, so the same secret, purpose, subject and expiry always
// give the same token. It is for a link that several processes sharing the
// secret must each be able to write out while the database keeps only its
// expiry and digest. The token is as hard to forge as one from Make: that
// rests on the MAC, not on the nonce.
func MakeFixed(secret []byte, purpose, subject string, expires time.Time) string {
	nonce := mac(secret, "nonce\x00"+purpose, subject+"."+strconv.FormatInt(expires.Unix(), 10))[:12]
	return makeWith(secret, purpose, subject, expires, nonce)
}

func makeWith(secret []byte, purpose, subject string, expires time.Time, nonce []byte) string {
	payload := enc.EncodeToString([]byte(subject)) + "." + strconv.FormatInt(expires.Unix(), 10) + "." + enc.EncodeToString(nonce)
	return payload + "." + enc.EncodeToString(mac(secret, purpose, payload))
}

// Check returns the subject of a token made for purpose that has not
// expired at now.
func Check(secret []byte, purpose, token string, now time.Time) (string, error) {
	if len(token) > 1024 {
		return "", ErrInvalid
	}
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return "", ErrInvalid
	}
	payload, sig := token[:i], token[i+1:]
	got, err := enc.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(secret, purpose, payload)) {
		return "", ErrInvalid
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 {
		return "", ErrInvalid
	}
	subject, err := enc.DecodeString(parts[0])
	if err != nil {
		return "", ErrInvalid
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || !now.Before(time.Unix(exp, 0)) {
		return "", ErrInvalid
	}
	return string(subject), nil
}

// Digest is what to store to make a token single-use without storing the
// token itself.
func Digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return enc.EncodeToString(sum[:])
}

func mac(secret []byte, purpose, payload string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(payload))
	return h.Sum(nil)
}
