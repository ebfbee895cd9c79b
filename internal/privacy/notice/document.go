package notice

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Document is the notice as generated: a title and its sections. The same
// inputs always give the same document, byte for byte.
type Document struct {
	Title    string    `json:"title"`
	Sections []Section `json:"sections"`
}

// Section is one part of the notice, such as "Your rights".
type Section struct {
	// ID is stable across versions, so that versions can be compared
	// section by section and pages can link to #id.
	ID     string  `json:"id"`
	Title  string  `json:"title"`
	Blocks []Block `json:"blocks"`
}

// Block kinds.
const (
	Paragraph = "paragraph"
	List      = "list"
	Table     = "table"
)

// Block is a paragraph, a list or a table. The text of paragraphs and
// list items may hold links written [label](target), where target is a
// path on this site, an https address or a mailto: address; table cells
// are plain text, because they carry values staff may edit.
type Block struct {
	Kind    string     `json:"kind"`
	Text    string     `json:"text,omitempty"`
	Items   []string   `json:"items,omitempty"`
	Columns []string   `json:"columns,omitempty"`
	Rows    [][]string `json:"rows,omitempty"`
}

// Markdown writes the document as Markdown. This text is what a version
// publishes and what its hash covers.
func (d Document) Markdown() string {
	var b strings.Builder
	b.WriteString("# " + d.Title + "\n")
	for _, s := range d.Sections {
		b.WriteString("\n")
		b.WriteString(SectionMarkdown(s))
	}
	return b.String()
}

// Hash is the SHA-256 of Markdown, in hexadecimal.
func (d Document) Hash() string { return HashOf(d.Markdown()) }

// HashOf is the SHA-256 of a published body, in hexadecimal.
func HashOf(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

// SectionMarkdown writes one section as Markdown, ending in a newline.
func SectionMarkdown(s Section) string {
	var b strings.Builder
	b.WriteString("## " + s.Title + "\n")
	for _, bl := range s.Blocks {
		b.WriteString("\n")
		switch bl.Kind {
		case Paragraph:
			b.WriteString(oneLine(bl.Text) + "\n")
		case List:
			for _, it := range bl.Items {
				b.WriteString("- " + oneLine(it) + "\n")
			}
		case Table:
			row := func(cells []string) {
				b.WriteString("|")
				for _, c := range cells {
					b.WriteString(" " + cell(c) + " |")
				}
				b.WriteString("\n")
			}
			row(bl.Columns)
			b.WriteString("|")
			for range bl.Columns {
				b.WriteString(" --- |")
			}
			b.WriteString("\n")
			for _, r := range bl.Rows {
				row(r)
			}
		}
	}
	return b.String()
}

// oneLine keeps a paragraph or item on one line of Markdown.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// cell escapes a table cell: a pipe would end it, and brackets would read
// as a link in the Markdown although the page shows them as text.
var cellEscaper = strings.NewReplacer("|", `\|`, "[", `\[`, "]", `\]`)

func cell(s string) string { return cellEscaper.Replace(oneLine(s)) }

// Span is a piece of inline text: plain when Href is empty, a link
// otherwise.
type Span struct {
	Text string
	Href string
}

// Inline splits the text of a paragraph or list item into plain text and
// links. Only [label](target) with a target that is a path on this site,
// an https address or a mailto: address is a link; anything else stays
// text, brackets and all.
func Inline(s string) []Span {
	var out []Span
	plain := func(t string) {
		if t == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].Href == "" {
			out[n-1].Text += t
			return
		}
		out = append(out, Span{Text: t})
	}
	for s != "" {
		open := strings.IndexByte(s, '[')
		if open < 0 {
			plain(s)
			break
		}
		label, target, rest, ok := link(s[open:])
		if !ok {
			plain(s[:open+1])
			s = s[open+1:]
			continue
		}
		plain(s[:open])
		out = append(out, Span{Text: label, Href: target})
		s = rest
	}
	return out
}

// link reads "[label](target)" at the start of s.
func link(s string) (label, target, rest string, ok bool) {
	end := strings.Index(s, "](")
	if end < 0 {
		return "", "", "", false
	}
	label = s[1:end]
	if label == "" || strings.ContainsAny(label, "[]") {
		return "", "", "", false
	}
	close := strings.IndexByte(s[end+2:], ')')
	if close < 0 {
		return "", "", "", false
	}
	target = s[end+2 : end+2+close]
	if !safeTarget(target) {
		return "", "", "", false
	}
	return label, target, s[end+2+close+1:], true
}

func safeTarget(t string) bool {
	if strings.ContainsAny(t, " \t\n\"'<>\\") {
		return false
	}
	switch {
	case strings.HasPrefix(t, "/") && !strings.HasPrefix(t, "//"):
		return true
	case strings.HasPrefix(t, "https://") && len(t) > len("https://"):
		return true
	case strings.HasPrefix(t, "mailto:") && strings.Contains(t, "@"):
		return true
	}
	return false
}
