package account

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// The second factor follows RFC 6238 with the parameters every
// authenticator app understands: SHA-1, six digits, 30-second steps. A code
// is accepted one step either side of now, for clocks that drift and
// people who type slowly.
const (
	TOTPPeriod = 30
	TOTPSkew   = 1
	TOTPIssuer = "Sessions"

	RecoveryCodeCount = 10
)

var totpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPSetup is what a member needs to add the account to an app: the
// secret as text, the otpauth:// URI and that URI as a QR code.
type TOTPSetup struct {
	Secret string // base32, no padding
	URI    string
	QR     string // data:image/png;base64,…
}

// NewTOTPSetup makes a fresh secret for the member whose address is label.
func NewTOTPSetup(label string) (TOTPSetup, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: TOTPIssuer, AccountName: label, SecretSize: 20})
	if err != nil {
		return TOTPSetup{}, err
	}
	return setupFor(key)
}

// TOTPSetupFor rebuilds the setup of an existing secret, for showing the
// same QR code again until the member confirms it.
func TOTPSetupFor(label, secret string) (TOTPSetup, error) {
	raw, err := decodeTOTPSecret(secret)
	if err != nil {
		return TOTPSetup{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: TOTPIssuer, AccountName: label, Secret: raw})
	if err != nil {
		return TOTPSetup{}, err
	}
	return setupFor(key)
}

func setupFor(key *otp.Key) (TOTPSetup, error) {
	img, err := key.Image(240, 240)
	if err != nil {
		return TOTPSetup{}, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return TOTPSetup{}, err
	}
	return TOTPSetup{
		Secret: key.Secret(),
		URI:    key.URL(),
		QR:     "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
	}, nil
}

var b32 = strings.NewReplacer(" ", "", "-", "")

func decodeTOTPSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(b32.Replace(secret))
	return b32NoPad.DecodeString(s)
}

// TOTPCode returns the code for secret at t; tests and the browser test use
// it in place of an app.
func TOTPCode(secret string, t time.Time) (string, error) {
	return hotp.GenerateCodeCustom(secret, uint64(t.Unix()/TOTPPeriod), totpOpts)
}

// CheckTOTP reports whether code is right for secret at now, and the time
// step it matched. A step at or before lastStep is refused, so a code that
// was used once (or an older one) cannot be replayed.
func CheckTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, false
	}
	cur := now.Unix() / TOTPPeriod
	matched, found := int64(0), false
	// Every candidate is computed and compared, so the time taken does not
	// tell which step matched.
	for step := cur - TOTPSkew; step <= cur+TOTPSkew; step++ {
		want, err := hotp.GenerateCodeCustom(secret, uint64(step), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > lastStep && !found {
			matched, found = step, true
		}
	}
	return matched, found
}

// SecretBox seals second-factor secrets with AES-256-GCM under a key
// derived from the server secret, so the column never holds them in
// clear. The account id is bound in as additional data: a sealed secret
// copied onto another account does not open.
type SecretBox struct{ aead cipher.AEAD }

// NewSecretBox derives the sealing key from the server secret.
func NewSecretBox(serverSecret []byte) (*SecretBox, error) {
	key, err := hkdf.Key(sha256.New, serverSecret, nil, "sessions/account/totp-secret/v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &SecretBox{aead: aead}, nil
}

// Seal encrypts secret for accountID: nonce followed by ciphertext.
func (b *SecretBox) Seal(accountID, secret string) []byte {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(secret)+b.aead.Overhead())
	_, _ = rand.Read(nonce)
	return b.aead.Seal(nonce, nonce, []byte(secret), []byte(accountID))
}

// ErrSealed means a sealed secret could not be opened: the server secret
// changed or the row was altered.
var ErrSealed = errors.New("account: sealed secret does not open")

// Open decrypts what Seal returned for accountID.
func (b *SecretBox) Open(accountID string, sealed []byte) (string, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return "", ErrSealed
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(accountID))
	if err != nil {
		return "", ErrSealed
	}
	return string(plain), nil
}

// recoveryAlphabet leaves out letters and digits that are easy to confuse
// when copied by hand (0/o, 1/l/i).
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// NewRecoveryCodes returns RecoveryCodeCount fresh codes such as
// "k7m2p-x9qrt", about 49 bits each.
func NewRecoveryCodes() []string {
	out := make([]string, RecoveryCodeCount)
	for i := range out {
		var b [10]byte
		_, _ = rand.Read(b[:])
		var s strings.Builder
		for j, c := range b {
			if j == 5 {
				s.WriteByte('-')
			}
			// 256 is not a multiple of 31; the bias this leaves is a small
			// fraction of a bit over ten characters.
			s.WriteByte(recoveryAlphabet[int(c)%len(recoveryAlphabet)])
		}
		out[i] = s.String()
	}
	return out
}

// RecoveryCodeDigest is what is stored for a recovery code. Codes are
// compared without case, spaces or dashes, as people type them.
func RecoveryCodeDigest(code string) string {
	c := strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(code)))
	sum := sha256.Sum256([]byte("recovery\x00" + c))
	return hex.EncodeToString(sum[:])
}

var b32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)
