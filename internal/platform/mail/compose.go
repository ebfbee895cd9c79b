package mail

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"sort"
	"strings"
	"time"
)

// Compose renders a stored message as an RFC 5322 message from the given
// sender. The Date is when the message was put in the outbox and the
// Message-ID is derived from the outbox id, so every attempt to deliver
// the same message sends the same bytes apart from the MIME boundary, and
// a receiver can recognise a repeat.
func Compose(from *mail.Address, rec Record) ([]byte, error) {
	to, err := ParseRecipient(rec.To)
	if err != nil {
		return nil, fmt.Errorf("compose: recipient: %w", err)
	}
	var b bytes.Buffer
	header := func(name, value string) {
		b.WriteString(fold(name + ": " + value))
		b.WriteString("\r\n")
	}
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", rec.Subject))
	header("Date", rec.CreatedAt.Format(time.RFC1123Z))
	header("Message-ID", MessageID(rec.ID, from))
	header("MIME-Version", "1.0")
	names := make([]string, 0, len(rec.Headers))
	for name := range rec.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		header(textproto.CanonicalMIMEHeaderKey(name), mime.QEncoding.Encode("utf-8", rec.Headers[name]))
	}

	contentType, encoding, body, err := bodyPart(rec)
	if err != nil {
		return nil, err
	}
	if len(rec.Attachments) == 0 {
		header("Content-Type", contentType)
		if encoding != "" {
			header("Content-Transfer-Encoding", encoding)
		}
		b.WriteString("\r\n")
		b.Write(body)
		return b.Bytes(), nil
	}
	// With files the message is multipart/mixed (RFC 2046): the body first,
	// as it would be sent alone, then each file base64-encoded.
	var mixed bytes.Buffer
	mw := multipart.NewWriter(&mixed)
	header("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	partHeader := textproto.MIMEHeader{"Content-Type": {contentType}}
	if encoding != "" {
		partHeader.Set("Content-Transfer-Encoding", encoding)
	}
	w, err := mw.CreatePart(partHeader)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(body); err != nil {
		return nil, err
	}
	for _, a := range rec.Attachments {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {a.ContentType},
			"Content-Transfer-Encoding": {"base64"},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename})},
		})
		if err != nil {
			return nil, err
		}
		if err := writeBase64(w, a.Data); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	b.Write(mixed.Bytes())
	return b.Bytes(), nil
}

// bodyPart renders the message's text: plain text alone, quoted-printable,
// or plain text and HTML as multipart/alternative. It returns the
// Content-Type and Content-Transfer-Encoding the body needs ("" for none).
func bodyPart(rec Record) (contentType, encoding string, body []byte, err error) {
	var b bytes.Buffer
	if rec.HTML == "" {
		if err := writeQP(&b, rec.Text); err != nil {
			return "", "", nil, err
		}
		return "text/plain; charset=utf-8", "quoted-printable", b.Bytes(), nil
	}
	mw := multipart.NewWriter(&b)
	// Least preferred first (RFC 2046): plain text, then HTML.
	for _, part := range []struct{ ct, content string }{
		{"text/plain; charset=utf-8", rec.Text},
		{"text/html; charset=utf-8", rec.HTML},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ct},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return "", "", nil, err
		}
		if err := writeQP(w, part.content); err != nil {
			return "", "", nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return "", "", nil, err
	}
	return mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}), "", b.Bytes(), nil
}

// writeBase64 writes data base64-encoded in lines of 76 characters, as
// RFC 2045 asks.
func writeBase64(w interface{ Write([]byte) (int, error) }, data []byte) error {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 0 {
		n := min(76, len(enc))
		if _, err := w.Write([]byte(enc[:n] + "\r\n")); err != nil {
			return err
		}
		enc = enc[n:]
	}
	return nil
}

// MessageID is the Message-ID header of outbox message id, in the sender's
// domain.
func MessageID(id string, from *mail.Address) string {
	domain := "localhost"
	if at := strings.LastIndexByte(from.Address, '@'); at >= 0 && at < len(from.Address)-1 {
		domain = from.Address[at+1:]
	}
	return "<" + id + "@" + domain + ">"
}

// writeQP writes s quoted-printable with CRLF line ends, which keeps every
// line short and any UTF-8 intact whatever the relays in between do.
func writeQP(w interface{ Write([]byte) (int, error) }, s string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(s)); err != nil {
		return err
	}
	return qp.Close()
}

// fold breaks a header line at spaces so that lines stay near 78
// characters; RFC 5322 allows folding at any whitespace, and encoded words
// are at most 75 characters, so no line exceeds the 998-character limit.
func fold(line string) string {
	const width = 76
	if len(line) <= width {
		return line
	}
	words := strings.Split(line, " ")
	var b strings.Builder
	n := 0
	for i, w := range words {
		if i > 0 {
			if n+1+len(w) > width {
				b.WriteString("\r\n ")
				n = 1
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
