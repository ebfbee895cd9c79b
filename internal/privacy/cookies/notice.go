package cookies

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// NoticeID names the cookie notice in consent records.
const NoticeID = "cookies"

// NoticeVersion is the cookie notice's version. Raise it whenever the
// registry or the categories change in a way people should see: a choice
// made under an older version is asked again. TestNoticeVersionFollowsText
// fails when the text changes and the version does not.
const NoticeVersion = "1"

// NoticeText is the cookie notice as plain text: the categories and every
// registry entry, in the words and order the notice page shows them. Its
// digest is what the consent ledger records as the text the person saw.
func NoticeText() string {
	var b strings.Builder
	b.WriteString("Cookie notice, version " + NoticeVersion + "\n")
	for _, c := range Categories {
		b.WriteString("\n" + c.Label() + " (" + string(c) + ")\n" + c.Description() + "\n")
		for _, e := range InCategory(c) {
			b.WriteString("- " + e.Name + ": " + e.Kind.Label() + ", " + e.Party.Label() + " (" + e.Provider + "). " +
				e.Purpose + " Lasts: " + e.Duration + ".\n")
		}
	}
	return b.String()
}

// NoticeHash is the SHA-256 of NoticeText, in lower-case hexadecimal.
func NoticeHash() string {
	sum := sha256.Sum256([]byte(NoticeText()))
	return hex.EncodeToString(sum[:])
}
