package mail

import (
	"net/url"
	"regexp"
	"strings"
)

// What staff may read of a message. A message carries things that must
// never reach anyone but its recipient: links and codes that act for the
// recipient (reset, confirmation, invitation, guest and unsubscribe
// links, request codes), and what people wrote for one another, such as a
// meeting's title and description. Staff who read a message to look into
// a delivery complaint need neither, and an insider who could read them
// could take over the account the mail is about.
//
// So the outbox keeps, next to the message, a staff copy made when the
// message is queued: the composer, which knows what it put in, names the
// secrets and the private content (Message.Secrets, Message.Private), and
// each of their occurrences is replaced by a placeholder. A second pass
// then withholds anything that looks like a secret although nobody named
// it: the query and the token-like path segments of every link and every
// run of six or more digits. The HTML body, the header values and the
// attachments, which repeat the same secrets in other encodings, are
// never part of the staff copy.

// Withheld stands in the staff copy for what staff may not see.
const Withheld = "[withheld]"

// StaffCopy is the part of a message staff may read.
type StaffCopy struct {
	Subject string
	Text    string
}

// Empty reports whether there is no staff copy: the message was queued
// before staff copies existed, and staff see nothing of its content.
func (c StaffCopy) Empty() bool { return c.Subject == "" && c.Text == "" }

// StaffCopy makes the staff copy of m.
func (m Message) StaffCopy() StaffCopy {
	return StaffCopy{Subject: m.redact(m.Subject), Text: m.redact(m.Text)}
}

func (m Message) redact(s string) string {
	s = replaceEach(s, m.Secrets)
	s = replaceEach(s, m.Private)
	return MaskSecrets(s)
}

// replaceEach replaces every occurrence of each value with Withheld, the
// longest values first so that a link is withheld whole before the token
// inside it.
func replaceEach(s string, values []string) string {
	vs := make([]string, 0, len(values))
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			vs = append(vs, v)
		}
	}
	for len(vs) > 0 {
		longest := 0
		for i, v := range vs {
			if len(v) > len(vs[longest]) {
				longest = i
			}
		}
		s = strings.ReplaceAll(s, vs[longest], Withheld)
		vs = append(vs[:longest], vs[longest+1:]...)
	}
	return s
}

var (
	linkPattern   = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s<>"']+`)
	digitsPattern = regexp.MustCompile(`\d{6,}`)
	// tokenWord is a word long enough and mixed enough to be a token
	// pasted as text rather than in a link.
	tokenWord = regexp.MustCompile(`[A-Za-z0-9_-]{20,}`)
)

// MaskSecrets withholds, in text, what looks like a secret: the query,
// the fragment and every token-like path segment of each link, any word
// of twenty or more letters, digits, dashes and underscores that holds a
// digit, and every run of six or more digits (a confirmation code). It
// keeps a link's scheme, host and ordinary path, so staff still see which
// page a message pointed to.
func MaskSecrets(text string) string {
	text = linkPattern.ReplaceAllStringFunc(text, maskLink)
	text = tokenWord.ReplaceAllStringFunc(text, func(w string) string {
		if strings.ContainsAny(w, "0123456789") {
			return Withheld
		}
		return w
	})
	return digitsPattern.ReplaceAllString(text, Withheld)
}

// maskLink keeps a link's scheme, host and the path segments that read
// like the name of a page.
func maskLink(link string) string {
	// A sentence's full stop or a closing bracket is not part of the link.
	trail := ""
	for len(link) > 0 && strings.ContainsRune(".,;:!?)]>", rune(link[len(link)-1])) {
		trail = link[len(link)-1:] + trail
		link = link[:len(link)-1]
	}
	u, err := url.Parse(link)
	if err != nil || u.Host == "" || u.Opaque != "" || u.User != nil {
		return Withheld + trail
	}
	var b strings.Builder
	b.WriteString(u.Scheme + "://" + u.Host)
	for _, seg := range strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/") {
		if seg == "" {
			continue
		}
		b.WriteByte('/')
		if pageName(seg) {
			b.WriteString(seg)
		} else {
			b.WriteString(Withheld)
		}
	}
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteString("?" + Withheld)
	}
	if u.Fragment != "" {
		b.WriteString("#" + Withheld)
	}
	return b.String() + trail
}

// pageName reports whether a path segment reads like the name of a page
// ("signin", "forgot-password", "v") rather than an id or a token: short
// lower-case letters and dashes, no digit.
func pageName(seg string) bool {
	if len(seg) > 24 {
		return false
	}
	for _, r := range seg {
		if (r < 'a' || r > 'z') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

// ForStaff is the record as staff may see it: the staff copy in place of
// the subject and the text, no HTML, header names without their values,
// and attachments by name and type without their data. A record queued
// before staff copies existed shows no content at all.
func (r Record) ForStaff() Record {
	out := r
	out.Secrets, out.Private, out.Staff = nil, nil, StaffCopy{}
	out.Subject, out.Text, out.HTML = Withheld, Withheld, ""
	if !r.Staff.Empty() {
		out.Subject, out.Text = r.Staff.Subject, r.Staff.Text
	}
	if len(r.Headers) > 0 {
		out.Headers = make(map[string]string, len(r.Headers))
		for name := range r.Headers {
			out.Headers[name] = Withheld
		}
	}
	if len(r.Attachments) > 0 {
		out.Attachments = make([]Attachment, len(r.Attachments))
		for i, a := range r.Attachments {
			out.Attachments[i] = Attachment{Filename: a.Filename, ContentType: a.ContentType}
		}
	}
	return out
}
