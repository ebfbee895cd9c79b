package meeting

import (
	"bytes"
	"errors"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/picture"
)

// ResourceKind says whether a resource is a stored file or a link.
type ResourceKind string

const (
	FileResource ResourceKind = "file"
	LinkResource ResourceKind = "link"
)

// Providers of links that are recognised. Recognising one only decides how
// the link is shown: nothing is ever fetched from the service, and no
// token of the person's is asked for or kept.
const (
	GoogleDrive = "google-drive"
	Miro        = "miro"
	OneDrive    = "onedrive"
	Web         = "web"
)

// Resource is a file or a link shared with a meeting's participants.
type Resource struct {
	ID        string
	MeetingID string
	// AddedBy is the account id of who shared it, "" once it is erased.
	AddedBy     string
	Kind        ResourceKind
	Title       string
	URL         string // links only
	Provider    string // links only
	BlobKey     string // files only
	ContentType string // files only
	SizeBytes   int64  // files only
	CreatedAt   time.Time
}

// ProviderLabel names the link's service for people.
func (r Resource) ProviderLabel() string {
	switch r.Provider {
	case GoogleDrive:
		return "Google Drive"
	case Miro:
		return "Miro"
	case OneDrive:
		return "OneDrive"
	}
	return "Web link"
}

// EmbedURL is the address of the service's own embeddable view of a
// recognised link, "" when it has none. It is worked out from the link
// alone; the person's browser loads it only if they choose to.
func (r Resource) EmbedURL() string {
	if r.Kind != LinkResource {
		return ""
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return ""
	}
	switch r.Provider {
	case GoogleDrive:
		// .../d/{id}/edit or /view becomes the read-only preview.
		if m := driveDoc.FindStringSubmatch(u.Path); m != nil {
			return "https://" + u.Host + m[1] + "/preview"
		}
	case Miro:
		if m := miroBoard.FindStringSubmatch(u.Path); m != nil {
			return "https://miro.com/app/live-embed/" + m[1] + "/"
		}
	}
	return ""
}

var (
	driveDoc  = regexp.MustCompile(`^(/(?:file|document|spreadsheets|presentation)/d/[A-Za-z0-9_-]+)(?:/.*)?$`)
	miroBoard = regexp.MustCompile(`^/app/board/([A-Za-z0-9_=-]+)/?$`)
)

// Limits on resources.
const (
	// MaxFileBytes bounds one uploaded file.
	MaxFileBytes           = 20 << 20
	MaxResourceTitle       = 200
	MaxURLBytes            = 2048
	MaxResourcesPerMeeting = 200
)

// LinkInput is a link as a person gives it.
type LinkInput struct {
	Title string
	URL   string
}

// CheckLink validates a link: https only, no credentials in it, of at
// most 2048 bytes. It returns the cleaned link, its provider and a title
// (the host name when none was given). Fields: url, title.
func CheckLink(in LinkInput) (title, link, provider string, err error) {
	v := errs.Validation{}
	raw := strings.TrimSpace(in.URL)
	u, perr := url.Parse(raw)
	switch {
	case raw == "":
		v.Add("url", "must not be empty")
	case len(raw) > MaxURLBytes || !utf8.ValidString(raw) || strings.ContainsAny(raw, " \t\r\n"):
		v.Add("url", "must be an address of at most 2048 characters")
	case perr != nil || u.Host == "" || u.Opaque != "":
		v.Add("url", "must be a whole address such as https://example.com/doc")
	case u.Scheme != "https":
		v.Add("url", "must start with https://")
	case u.User != nil:
		v.Add("url", "must not contain a user name or password")
	}
	title = CheckText(v, "title", in.Title, MaxResourceTitle, false)
	if err := v.Err(); err != nil {
		return "", "", "", err
	}
	u.Fragment = ""
	provider = ProviderOf(u.Hostname())
	if title == "" {
		title = u.Hostname()
	}
	return title, u.String(), provider, nil
}

// ProviderOf recognises the service a host name belongs to.
func ProviderOf(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	under := func(domain string) bool { return host == domain || strings.HasSuffix(host, "."+domain) }
	switch {
	case host == "drive.google.com" || host == "docs.google.com":
		return GoogleDrive
	case under("miro.com"):
		return Miro
	case host == "onedrive.live.com" || host == "1drv.ms" || under("sharepoint.com"):
		return OneDrive
	}
	return Web
}

// File types that may be uploaded, by what their content turns out to be.
const (
	PDF  = "application/pdf"
	PNG  = "image/png"
	JPEG = "image/jpeg"
	WebP = "image/webp"
	GIF  = "image/gif"
	Text = "text/plain; charset=utf-8"
	DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	ODT  = "application/vnd.oasis.opendocument.text"
	ODS  = "application/vnd.oasis.opendocument.spreadsheet"
	ODP  = "application/vnd.oasis.opendocument.presentation"
)

// unsupportedFile is the refusal of a type not on the list.
func unsupportedFile() error {
	return errs.E(errs.Unsupported, "files must be PDF, PNG, JPEG, WebP, GIF, plain text, or Office or OpenDocument documents")
}

// SniffFile decides what an uploaded file is from its content, never from
// the name or type the uploader claimed. It returns errs.TooLarge over
// MaxFileBytes and errs.Unsupported for a type not on the list: among
// them HTML, SVG and XML, which a browser could run, scripts, archives,
// Office files of the older binary formats and RTF, which commonly carry
// macros or embedded objects, and Office and OpenDocument files that carry
// code (see sniffZip).
func SniffFile(b []byte) (string, error) {
	if len(b) > MaxFileBytes {
		return "", errs.E(errs.TooLarge, "the file is larger than 20 MB")
	}
	if len(b) == 0 {
		return "", &errs.Error{Code: errs.Invalid, Message: "the file is empty", Fields: map[string]string{"file": "choose a file that is not empty"}}
	}
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return PDF, nil
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return PNG, nil
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return JPEG, nil
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return WebP, nil
	case bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a")):
		return GIF, nil
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return sniffZip(b)
	case isPlainText(b) && !isActiveText(b):
		return Text, nil
	}
	return "", unsupportedFile()
}

// CleanFile returns what is kept of an upload that SniffFile found to be
// of type ct: a picture becomes a copy of its pixels without the metadata
// its file carried, such as where a photo was taken (picture.Clean),
// since a file shared with a meeting reaches everyone in it; any other
// file stays as it is. A picture that cannot be decoded as its type, or
// is too large to decode, is refused with errs.Invalid.
func CleanFile(ct string, b []byte) ([]byte, error) {
	switch ct {
	case PNG, JPEG, WebP, GIF:
	default:
		return b, nil
	}
	// The messages name no field: the page shows them above its forms.
	got, clean, err := picture.Clean(b)
	switch {
	case errors.Is(err, picture.ErrTooManyPixels):
		return nil, errs.E(errs.Invalid, "the picture has more than 50 megapixels; make it smaller and upload it again")
	case err != nil || got != ct:
		return nil, errs.E(errs.Invalid, "the file starts like a %s picture but is not a readable one", strings.ToUpper(strings.TrimPrefix(ct, "image/")))
	}
	return clean, nil
}

// isPlainText reports whether b is UTF-8 text without control characters
// other than tab, line breaks and form feed.
func isPlainText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' || r == 0x7f {
			return false
		}
	}
	return true
}

// isActiveText reports whether text is something other than prose that
// a program would take it for: markup (HTML, SVG, XML), which a browser or
// viewer that guesses would render and run, a script that names its
// interpreter, or RTF, which embeds OLE objects. Markup counts when the
// text starts with a tag, a comment, a declaration or a processing
// instruction, or holds anywhere a tag that runs or draws something:
// browsers that sniff look past the first line.
func isActiveText(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	start := bytes.TrimLeft(b, " \t\r\n\f")
	if bytes.HasPrefix(start, []byte("#!")) || bytes.HasPrefix(start, []byte(`{\rtf`)) {
		return true
	}
	if len(start) > 1 && start[0] == '<' && (isASCIILetter(start[1]) || start[1] == '!' || start[1] == '?' || start[1] == '/') {
		return true
	}
	lower := bytes.ToLower(b)
	for _, tag := range activeTags {
		for rest := lower; ; {
			i := bytes.Index(rest, []byte(tag))
			if i < 0 {
				break
			}
			rest = rest[i+len(tag):]
			if len(rest) == 0 || !isASCIILetter(rest[0]) && (rest[0] < '0' || rest[0] > '9') && rest[0] != '-' {
				return true
			}
		}
	}
	return false
}

// activeTags open the elements that make a text file a page or a picture
// that runs code.
var activeTags = []string{"<html", "<svg", "<script", "<iframe", "<object", "<embed", "<!doctype", "<?xml"}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// FileTitle makes a title from an uploaded file's name: its base name,
// trimmed, "File" when nothing usable is left.
func FileTitle(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = strings.TrimSpace(path.Base(name))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	if name == "" || name == "." || name == "/" || !utf8.ValidString(name) {
		return "File"
	}
	if utf8.RuneCountInString(name) > MaxResourceTitle {
		name = string([]rune(name)[:MaxResourceTitle])
	}
	return name
}

// Extension is a file-name extension for a sniffed type, for downloads.
func Extension(contentType string) string {
	switch contentType {
	case PDF:
		return ".pdf"
	case PNG:
		return ".png"
	case JPEG:
		return ".jpg"
	case WebP:
		return ".webp"
	case GIF:
		return ".gif"
	case Text:
		return ".txt"
	case DOCX:
		return ".docx"
	case XLSX:
		return ".xlsx"
	case PPTX:
		return ".pptx"
	case ODT:
		return ".odt"
	case ODS:
		return ".ods"
	case ODP:
		return ".odp"
	}
	return ""
}
