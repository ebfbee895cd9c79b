package meeting

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"path"
	"slices"
	"strings"
)

// Office Open XML and OpenDocument files are zip archives. What a file is,
// and whether it carries code, is read from what the archive holds: the
// content types, the relationships, the manifest and the bytes of each
// part, never from part names alone, since a part can be called anything.

// oleMagic starts every OLE compound file: the container of VBA projects,
// ActiveX controls, embedded OLE objects and the old binary Office formats.
var oleMagic = []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")

// codeMarkers, found in a content type or a relationship type (lowercased),
// name parts that hold or run code: VBA projects and their data and
// signatures, macro-enabled main parts, Excel 4.0 macro sheets, ActiveX
// controls, OLE objects, and Word's key bindings and toolbars, which call
// macros.
var codeMarkers = []string{"vba", "macro", "activex", "oleobject", "keymapcustomizations", "attachedtoolbars"}

// odfCodeFolders hold StarBasic modules, scripts in other languages, and
// the dialogs that call them.
var odfCodeFolders = []string{"basic/", "scripts/", "dialogs/"}

// odfScriptURLs are the URL schemes that bind an event or a link in an
// OpenDocument file to a macro: Basic, Python or JavaScript through the
// scripting framework (vnd.sun.star.script:), or StarBasic the old way
// (macro://).
var odfScriptURLs = []string{"vnd.sun.star.script:", "macro://"}

// odfLookCloser, found in an OpenDocument part, make a plain search not
// enough: event listeners (most bind slide actions, some bind scripts or
// programs), character references and declarations (which can spell a
// script URL in a way no plain search finds). Such a part is parsed.
var odfLookCloser = []string{"event-listener", "&#", "<!"}

// Namespaces of the OpenDocument elements and attributes that run code.
const (
	odfScriptNS       = "urn:oasis:names:tc:opendocument:xmlns:script:1.0"
	odfPresentationNS = "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"
)

// Bounds of one inspection. maxNesting is how deep packages embedded in
// packages (a spreadsheet in a text document) are opened; inflateBudget
// bounds the bytes unpacked in all, so that a small file that unpacks to
// gigabytes (a zip bomb) is refused rather than read; maxXMLPart bounds the
// content types, relationships and manifest parts read whole.
const (
	maxNesting    = 2
	inflateBudget = 32 * MaxFileBytes
	maxXMLPart    = 4 << 20
)

// errCarriesCode and errOverBudget end an inspection; both refuse the file.
var (
	errCarriesCode = errors.New("the package carries code")
	errOverBudget  = errors.New("the package unpacks to too much")
)

// sniffZip tells an Office Open XML or OpenDocument file from any other
// zip archive, and refuses one that carries code: macros (VBA, Excel 4.0
// macro sheets, StarBasic, scripts), ActiveX controls, embedded OLE
// objects, events bound to macros, or an embedded package that does.
func sniffZip(b []byte) (string, error) {
	in := &inspection{budget: inflateBudget}
	ct, err := in.pkg(b, 0)
	if err != nil {
		return "", unsupportedFile()
	}
	return ct, nil
}

// inspection is one upload's walk through its packages.
type inspection struct {
	budget int64 // bytes that may still be unpacked
}

// pkg returns the type of the package in b, or an error when it is not an
// accepted document or carries code.
func (in *inspection) pkg(b []byte, depth int) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return "", err
	}
	// An OpenDocument package names its type in a part called mimetype.
	odf := false
	for _, f := range zr.File {
		odf = odf || partName(f.Name) == "mimetype"
	}
	var odfType string
	var types, word, sheet, slides bool
	for _, f := range zr.File {
		name := partName(f.Name)
		if hasAnyPrefix(name, odfCodeFolders) || strings.Contains(name, "vbaproject") {
			// Code folders, and a VBA project under its usual name even
			// when nothing declares it.
			return "", errCarriesCode
		}
		if strings.HasSuffix(name, "/") {
			continue // a folder entry holds nothing
		}
		if err := in.part(f, depth); err != nil {
			return "", err
		}
		switch {
		case name == "mimetype":
			mt, err := in.read(f, 100)
			if err != nil {
				return "", err
			}
			odfType = string(mt)
		case name == "[content_types].xml":
			types = true
			err = in.contentTypes(f)
		case strings.HasSuffix(name, ".rels"):
			err = in.relationships(f)
		case odf && name == "meta-inf/manifest.xml":
			err = in.manifest(f)
		case odf && path.Ext(name) == ".xml":
			// Content, styles, settings and embedded objects: where
			// events and links are bound.
			err = in.bindings(f)
		case strings.HasPrefix(name, "word/"):
			word = true
		case strings.HasPrefix(name, "xl/"):
			sheet = true
		case strings.HasPrefix(name, "ppt/"):
			slides = true
		}
		if err != nil {
			return "", err
		}
	}
	switch {
	case odf:
		switch odfType {
		case ODT, ODS, ODP:
			return odfType, nil
		}
	case types && word:
		return DOCX, nil
	case types && sheet:
		return XLSX, nil
	case types && slides:
		return PPTX, nil
	}
	return "", errors.New("not an accepted document")
}

// part judges one part by its first bytes: an OLE compound file is
// refused wherever it sits and whatever it is called, and a package inside
// the package is judged as a document of its own.
func (in *inspection) part(f *zip.File, depth int) error {
	head, err := in.read(f, len(oleMagic))
	if err != nil {
		return err
	}
	switch {
	case bytes.HasPrefix(head, oleMagic):
		return errCarriesCode
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		if depth >= maxNesting {
			return errCarriesCode
		}
		inner, err := in.read(f, MaxFileBytes+1)
		if err != nil {
			return err
		}
		if len(inner) > MaxFileBytes {
			return errOverBudget
		}
		_, err = in.pkg(inner, depth+1)
		return err
	}
	return nil
}

// contentTypes refuses an OOXML package that declares a part of a code
// type, by extension or by part name.
func (in *inspection) contentTypes(f *zip.File) error {
	b, err := in.readXML(f)
	if err != nil {
		return err
	}
	var doc struct {
		Defaults []struct {
			ContentType string `xml:",attr"`
		} `xml:"Default"`
		Overrides []struct {
			ContentType string `xml:",attr"`
		} `xml:"Override"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return err
	}
	for _, d := range doc.Defaults {
		if hasAnyMarker(d.ContentType, codeMarkers) {
			return errCarriesCode
		}
	}
	for _, o := range doc.Overrides {
		if hasAnyMarker(o.ContentType, codeMarkers) {
			return errCarriesCode
		}
	}
	return nil
}

// relationships refuses a package whose parts point at code, whatever the
// target part is called.
func (in *inspection) relationships(f *zip.File) error {
	b, err := in.readXML(f)
	if err != nil {
		return err
	}
	var doc struct {
		Relationships []struct {
			Type string `xml:",attr"`
		} `xml:"Relationship"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return err
	}
	for _, r := range doc.Relationships {
		if hasAnyMarker(r.Type, codeMarkers) {
			return errCarriesCode
		}
	}
	return nil
}

// manifest refuses an OpenDocument package whose manifest lists a code
// folder or a part of a script or macro type.
func (in *inspection) manifest(f *zip.File) error {
	b, err := in.readXML(f)
	if err != nil {
		return err
	}
	var doc struct {
		Entries []struct {
			FullPath  string `xml:"full-path,attr"`
			MediaType string `xml:"media-type,attr"`
		} `xml:"file-entry"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return err
	}
	for _, e := range doc.Entries {
		if hasAnyPrefix(partName(e.FullPath), odfCodeFolders) || hasAnyMarker(e.MediaType, []string{"basic", "script", "macro"}) {
			return errCarriesCode
		}
	}
	return nil
}

// bindings refuses an OpenDocument part that binds an event or a link to
// a macro or a program. A plain search through the stream finds script
// URLs written out; a part that might spell one otherwise, or that has
// event listeners to tell apart, is then parsed.
func (in *inspection) bindings(f *zip.File) error {
	found, err := in.search(f, append(append([]string{}, odfScriptURLs...), odfLookCloser...))
	if err != nil {
		return err
	}
	for _, m := range found {
		if hasAnyMarker(m, odfScriptURLs) {
			return errCarriesCode
		}
	}
	if len(found) == 0 {
		return nil
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	d := xml.NewDecoder(&budgeted{r: rc, in: in})
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.Directive:
			// A document type declaration could define entities that
			// spell anything; OpenDocument parts have none.
			return errCarriesCode
		case xml.StartElement:
			if t.Name.Space == odfScriptNS && t.Name.Local == "event-listener" {
				return errCarriesCode
			}
			for _, a := range t.Attr {
				if hasAnyMarker(a.Value, odfScriptURLs) ||
					a.Name.Space == odfPresentationNS && a.Name.Local == "action" && strings.TrimSpace(a.Value) == "execute" {
					return errCarriesCode
				}
			}
		}
	}
}

// search streams a part and returns which of markers it contains,
// ignoring case, so that a large part costs no more memory than a small
// one.
func (in *inspection) search(f *zip.File, markers []string) ([]string, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	longest := 0
	for _, m := range markers {
		longest = max(longest, len(m))
	}
	src := &budgeted{r: rc, in: in}
	chunk := make([]byte, 64<<10)
	var found []string
	window := make([]byte, 0, len(chunk)+longest)
	for {
		n, err := io.ReadFull(src, chunk)
		window = append(window, chunk[:n]...)
		lower := bytes.ToLower(window)
		for _, m := range markers {
			if bytes.Contains(lower, []byte(m)) && !slices.Contains(found, m) {
				found = append(found, m)
			}
		}
		// Keep the end, so that a marker cut in two by the chunk
		// boundary is found with the next chunk.
		if keep := longest - 1; len(window) > keep {
			window = append(window[:0], window[len(window)-keep:]...)
		}
		switch err {
		case nil:
			continue
		case io.EOF, io.ErrUnexpectedEOF:
			return found, nil
		default:
			return nil, err
		}
	}
}

// read returns at most limit bytes from the start of a part.
func (in *inspection) read(f *zip.File, limit int) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(&budgeted{r: rc, in: in}, int64(limit)))
	if err != nil {
		return nil, err
	}
	return b, nil
}

// readXML reads a whole XML part of at most maxXMLPart bytes.
func (in *inspection) readXML(f *zip.File) ([]byte, error) {
	b, err := in.read(f, maxXMLPart+1)
	if err != nil {
		return nil, err
	}
	if len(b) > maxXMLPart {
		return nil, errOverBudget
	}
	return b, nil
}

// budgeted counts what is unpacked against the inspection's budget.
type budgeted struct {
	r  io.Reader
	in *inspection
}

func (b *budgeted) Read(p []byte) (int, error) {
	if b.in.budget <= 0 {
		return 0, errOverBudget
	}
	if int64(len(p)) > b.in.budget {
		p = p[:b.in.budget]
	}
	n, err := b.r.Read(p)
	b.in.budget -= int64(n)
	return n, err
}

// partName is a part's name as a reader would resolve it: forward
// slashes, no leading "./" or "/", and lowercased, since OPC part names
// are compared without regard to case.
func partName(name string) string {
	name = strings.ToLower(strings.ReplaceAll(name, "\\", "/"))
	for {
		trimmed := strings.TrimPrefix(strings.TrimPrefix(name, "/"), "./")
		if trimmed == name {
			return name
		}
		name = trimmed
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func hasAnyMarker(s string, markers []string) bool {
	s = strings.ToLower(s)
	for _, m := range markers {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}
