// Package notice owns the public privacy notice: it writes the notice, in
// the product's own words, from the data map (internal/privacy/datamap)
// and the sub-processor registry, so that the notice says what the code
// does and changes when the code changes. It also owns the rules of the
// notice's published versions (a number, a summary of what changed, a
// flag for significant changes, the text and its SHA-256) and the e-mail
// that announces a significant change to members.
//
// The package knows no SQL and no HTTP: internal/service/notices runs its
// use cases, internal/store keeps the versions, the acknowledgements and
// the announcements, internal/web serves the pages and the staff console.
package notice

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sessionshq/sessions/internal/errs"
)

// ID names the privacy notice in consent records and audit entries; the
// cookie notice has its own ("cookies").
const ID = "privacy"

// Version is one published version of the notice. Versions are numbered
// from 1 without gaps, and a published version never changes.
type Version struct {
	// NoticeID is always ID; consent records carry it beside the number.
	NoticeID string
	Number   int
	// PublishedAt is when the version took effect.
	PublishedAt time.Time
	// PublishedBy is the account id of the staff member who published it;
	// empty for the first version, which the server publishes by itself at
	// its first start, and after that staff member's account was erased.
	PublishedBy string
	// Significant versions are announced to every active member by e-mail
	// and by a banner that stays until the member acknowledges it.
	Significant bool
	// Summary says what changed, for the history and the announcement.
	Summary string
	// Body is the notice as published, in the Markdown form of Document;
	// Hash is the SHA-256 of Body in hexadecimal.
	Body     string
	Hash     string
	Sections []Section
	// MailedAt is when every member had been sent the announcement of a
	// significant version; nil while it is being sent, and for versions
	// that are not significant.
	MailedAt *time.Time
}

// FirstSummary is the summary of the version the server publishes by
// itself at its first start.
const FirstSummary = "First published version of the privacy notice."

// Label is the version number as text, as consent records hold it.
func (v Version) Label() string { return strconv.Itoa(v.Number) }

// Limits of the summary of changes staff write when they publish: long
// enough for a few sentences, short enough for an e-mail and a banner.
const (
	MinSummary = 10
	MaxSummary = 2000
)

// Publication is what a staff member asks to publish: the flag and the
// summary. ExpectHash, when set, is the hash of the text the staff member
// reviewed; publishing fails if the generated text has changed since.
type Publication struct {
	Significant bool
	Summary     string
	ExpectHash  string
}

// Clean trims the summary and checks the publication, returning an
// errs.Invalid error with a message per field.
func (p Publication) Clean() (Publication, error) {
	p.Summary = strings.TrimSpace(strings.ReplaceAll(p.Summary, "\r\n", "\n"))
	p.ExpectHash = strings.TrimSpace(p.ExpectHash)
	v := errs.Validation{}
	switch n := utf8.RuneCountInString(p.Summary); {
	case !utf8.ValidString(p.Summary):
		v.Add("summary", "must be valid text")
	case n == 0:
		v.Add("summary", "say what changed in this version")
	case n < MinSummary:
		v.Add("summary", "must be at least "+strconv.Itoa(MinSummary)+" characters: say what changed")
	case n > MaxSummary:
		v.Add("summary", "must be at most "+strconv.Itoa(MaxSummary)+" characters")
	case strings.ContainsFunc(p.Summary, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
		v.Add("summary", "must not contain control characters")
	}
	if p.ExpectHash != "" && !isHexSHA256(p.ExpectHash) {
		v.Add("sha256", "must be the SHA-256 of the reviewed text, in hexadecimal")
	}
	return p, v.Err()
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
