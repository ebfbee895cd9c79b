package meeting

import (
	"archive/zip"
	"bytes"
	"fmt"
	"testing"

	"github.com/sessionshq/sessions/internal/errs"
)

// The documents below are built here, part by part, as Word, Excel,
// PowerPoint and LibreOffice write them, with only what the checks look at.

// part is one entry of a zip archive.
type part struct{ name, body string }

func zipOf(t *testing.T, parts ...part) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, p := range parts {
		method := zip.Deflate
		if p.name == "mimetype" {
			method = zip.Store // OpenDocument stores it first, uncompressed
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: p.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(p.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// ooxmlExtra adds to an Office Open XML package: parts, declarations in
// [Content_Types].xml, and relationships of the main part.
type ooxmlExtra struct {
	parts []part
	types string // <Default/> and <Override/> elements
	rels  string // <Relationship/> elements
}

// ooxml builds a document whose main part lives in folder (word, xl, ppt).
func ooxml(t *testing.T, folder string, x *ooxmlExtra) []byte {
	t.Helper()
	if x == nil {
		x = &ooxmlExtra{}
	}
	main := map[string]string{"word": "document", "xl": "workbook", "ppt": "presentation"}[folder]
	kind := map[string]string{"word": "wordprocessingml.document", "xl": "spreadsheetml.sheet", "ppt": "presentationml.presentation"}[folder]
	parts := []part{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Default Extension="png" ContentType="image/png"/>
<Override PartName="/` + folder + `/` + main + `.xml" ContentType="application/vnd.openxmlformats-officedocument.` + kind + `.main+xml"/>
` + x.types + `</Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="` + folder + `/` + main + `.xml"/>
</Relationships>`},
		{folder + "/" + main + ".xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><root>Minutes</root>`},
		{folder + "/_rels/" + main + ".xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://example.com/" TargetMode="External"/>
` + x.rels + `</Relationships>`},
	}
	return zipOf(t, append(parts, x.parts...)...)
}

// odfExtra adds to an OpenDocument package: parts, manifest entries, and
// markup inside the body of content.xml.
type odfExtra struct {
	parts    []part
	manifest string // <manifest:file-entry/> elements
	body     string
}

func odf(t *testing.T, mediaType string, x *odfExtra) []byte {
	t.Helper()
	if x == nil {
		x = &odfExtra{}
	}
	parts := []part{
		{"mimetype", mediaType},
		{"META-INF/manifest.xml", `<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="` + mediaType + `"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>
` + x.manifest + `</manifest:manifest>`},
		{"content.xml", `<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" office:version="1.3">
<office:scripts/>
<office:body><office:text><text:p>Run this macro: it is only text.</text:p>` + x.body + `</office:text></office:body>
</office:document-content>`},
		{"styles.xml", `<?xml version="1.0" encoding="UTF-8"?><office:document-styles xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" office:version="1.3"/>`},
	}
	return zipOf(t, append(parts, x.parts...)...)
}

// oleFile is the start of an OLE compound file, the container of a VBA
// project.
const oleFile = "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\x00\x00\x00\x00\x00\x00"

// TestOpenDocumentWithMacrosIsRefused: a StarBasic macro (Basic/…), a
// script (Scripts/…), a manifest that lists either, or an event or link
// bound to a macro or a program, makes an OpenDocument file refused, by
// its content and not by its name.
func TestOpenDocumentWithMacrosIsRefused(t *testing.T) {
	basic := `<?xml version="1.0" encoding="UTF-8"?><script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">Sub Main
Shell("calc")
End Sub</script:module>`
	refused := map[string][]byte{
		"StarBasic module": odf(t, ODT, &odfExtra{
			parts:    []part{{"Basic/Standard/Module1.xml", basic}, {"Basic/script-lc.xml", "<x/>"}},
			manifest: `<manifest:file-entry manifest:full-path="Basic/Standard/Module1.xml" manifest:media-type="text/xml"/>`,
		}),
		"StarBasic module, folder in other case": odf(t, ODS, &odfExtra{parts: []part{{"./BASIC/Standard/Module1.xml", basic}}}),
		"Python script": odf(t, ODT, &odfExtra{
			parts:    []part{{"Scripts/python/evil.py", "import os\nos.system('calc')\n"}},
			manifest: `<manifest:file-entry manifest:full-path="Scripts/python/evil.py" manifest:media-type=""/>`,
		}),
		"Basic folder entry only": odf(t, ODT, &odfExtra{parts: []part{{"Basic/", ""}}}),
		"manifest lists a macro library": odf(t, ODT, &odfExtra{
			manifest: `<manifest:file-entry manifest:full-path="Basic/Standard/" manifest:media-type=""/>`,
		}),
		"manifest entry of a script type": odf(t, ODT, &odfExtra{
			parts:    []part{{"Pictures/logo.xml", "<x/>"}},
			manifest: `<manifest:file-entry manifest:full-path="Pictures/logo.xml" manifest:media-type="application/vnd.sun.star.basic-script"/>`,
		}),
		"event bound to a script": odf(t, ODT, &odfExtra{
			body: `<office:event-listeners><script:event-listener script:language="ooo:script" script:event-name="dom:load" xlink:href="vnd.sun.star.script:Standard.Module1.Main?language=Basic&amp;location=application"/></office:event-listeners>`,
		}),
		"event listener under another prefix": odf(t, ODT, &odfExtra{
			body: `<s:event-listener xmlns:s="urn:oasis:names:tc:opendocument:xmlns:script:1.0" s:event-name="dom:mouseover" s:language="ooo:script"/>`,
		}),
		"script URL spelled with character references": odf(t, ODT, &odfExtra{
			body: `<text:a xlink:href="vnd.sun.star.&#115;cript:pydoc.py$tempfilepager(1, calc)?language=Python&amp;location=share">x</text:a>`,
		}),
		"old macro URL": odf(t, ODT, &odfExtra{body: `<text:a xlink:href="MACRO:///Standard.Module1.Main()">x</text:a>`}),
		"slide action that runs a program": odf(t, ODP, &odfExtra{
			body: `<draw:frame><office:event-listeners><presentation:event-listener script:event-name="dom:click" presentation:action="execute" xlink:href="/usr/bin/xcalc"/></office:event-listeners></draw:frame>`,
		}),
		"embedded OLE object": odf(t, ODT, &odfExtra{parts: []part{{"Object 1", oleFile}}}),
	}
	for name, b := range refused {
		if ct, err := SniffFile(b); errs.CodeOf(err) != errs.Unsupported {
			t.Errorf("%s: accepted as %q (%v), want Unsupported", name, ct, err)
		}
	}
	accepted := map[string][]byte{
		"plain text document": odf(t, ODT, nil),
		"slide that moves to the next one": odf(t, ODP, &odfExtra{
			body: `<draw:frame><office:event-listeners><presentation:event-listener script:event-name="dom:click" presentation:action="next-page"/></office:event-listeners></draw:frame>`,
		}),
		"character references in text": odf(t, ODT, &odfExtra{body: `<text:p>caf&#233; &#x263A;</text:p>`}),
	}
	for name, b := range accepted {
		if _, err := SniffFile(b); err != nil {
			t.Errorf("%s: %v, want accepted", name, err)
		}
	}
}

// TestOfficeFileWithRenamedMacrosIsRefused: a VBA project, an Excel 4.0
// macro sheet, an ActiveX control or an OLE object is found by its
// content type, its relationship or its bytes, whatever the part is
// called, also inside an embedded document.
func TestOfficeFileWithRenamedMacrosIsRefused(t *testing.T) {
	const rel = `<Relationship Id="rId%d" Type="%s" Target="%s"/>`
	refused := map[string][]byte{
		"VBA project renamed, bytes only": ooxml(t, "word", &ooxmlExtra{parts: []part{{"word/media/image7.png", oleFile}}}),
		"VBA project declared by extension": ooxml(t, "word", &ooxmlExtra{
			types: `<Default Extension="dat" ContentType="application/vnd.ms-office.vbaProject"/>`,
			parts: []part{{"word/settings2.dat", "not OLE yet"}},
		}),
		"VBA project declared by part name": ooxml(t, "xl", &ooxmlExtra{
			types: `<Override PartName="/xl/theme/theme9.xml" ContentType="application/vnd.ms-office.vbaProject"/>`,
			parts: []part{{"xl/theme/theme9.xml", "<x/>"}},
		}),
		"VBA project declared with a character reference": ooxml(t, "word", &ooxmlExtra{
			types: `<Default Extension="dat" ContentType="application/vnd.ms-office.vb&#97;Project"/>`,
		}),
		"VBA project by relationship": ooxml(t, "word", &ooxmlExtra{
			rels:  fmt.Sprintf(rel, 2, "http://schemas.microsoft.com/office/2006/relationships/vbaProject", "media/image3.png"),
			parts: []part{{"word/media/image3.png", "\x89PNG\r\n\x1a\n"}},
		}),
		"macro-enabled main part": ooxml(t, "word", &ooxmlExtra{
			types: `<Override PartName="/word/other.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/>`,
		}),
		"Excel 4.0 macro sheet": ooxml(t, "xl", &ooxmlExtra{
			rels:  fmt.Sprintf(rel, 3, "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet", "macrosheets/sheet1.xml"),
			parts: []part{{"xl/macrosheets/sheet1.xml", "<xm:macrosheet/>"}},
		}),
		"ActiveX control": ooxml(t, "ppt", &ooxmlExtra{
			rels: fmt.Sprintf(rel, 4, "http://schemas.openxmlformats.org/officeDocument/2006/relationships/control", "../activeX/activeX1.xml") +
				fmt.Sprintf(rel, 5, "http://schemas.microsoft.com/office/2006/relationships/activeXControlBinary", "../activeX/activeX1.bin"),
		}),
		"OLE object": ooxml(t, "word", &ooxmlExtra{
			rels: fmt.Sprintf(rel, 6, "http://schemas.openxmlformats.org/officeDocument/2006/relationships/oleObject", "embeddings/oleObject1.bin"),
		}),
		"macro workbook embedded in a document": ooxml(t, "word", &ooxmlExtra{parts: []part{{"word/embeddings/Workbook1.xlsx", string(ooxml(t, "xl", &ooxmlExtra{
			types: `<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>`,
		}))}}}),
	}
	for name, b := range refused {
		if ct, err := SniffFile(b); errs.CodeOf(err) != errs.Unsupported {
			t.Errorf("%s: accepted as %q (%v), want Unsupported", name, ct, err)
		}
	}
	accepted := map[string][]byte{
		"workbook embedded in a document": ooxml(t, "word", &ooxmlExtra{parts: []part{{"word/embeddings/Workbook1.xlsx", string(ooxml(t, "xl", nil))}}}),
		"picture": ooxml(t, "ppt", &ooxmlExtra{
			rels:  fmt.Sprintf(rel, 2, "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image", "media/image1.png"),
			parts: []part{{"ppt/media/image1.png", "\x89PNG\r\n\x1a\n"}},
		}),
	}
	for name, b := range accepted {
		if _, err := SniffFile(b); err != nil {
			t.Errorf("%s: %v, want accepted", name, err)
		}
	}
}

// TestHTMLAndSVGAreRefusedAsText: markup a browser would render is
// refused, as the README says, however it is dressed up, and so are
// scripts that name their interpreter and RTF; prose that merely mentions
// angle brackets is still plain text.
func TestHTMLAndSVGAreRefusedAsText(t *testing.T) {
	refused := []string{
		"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
		"<html><p>hi</p></html>",
		"\ufeff  \n<HTML>",
		`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`,
		`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
		"<p>a paragraph</p>",
		"<!-- comment --> text",
		"Minutes\n\nSee below.\n<script>fetch('/api/me')</script>\n",
		"notes\n<SVG onload=alert(1)>",
		"notes <iframe src=//evil.example>",
		"#!/bin/sh\nrm -rf ~\n",
		`{\rtf1\ansi{\object\objemb{\*\objdata d0cf11e0a1b11ae1}}}`,
	}
	for _, s := range refused {
		if ct, err := SniffFile([]byte(s)); errs.CodeOf(err) != errs.Unsupported {
			t.Errorf("%q: accepted as %q (%v), want Unsupported", s, ct, err)
		}
	}
	accepted := []string{
		"Minutes: a < b and c > d\n",
		"Budget <2026> draft, see <https://example.com> for more",
		"Use the <svgfile> placeholder and the <scripted> flag\n",
		"x <= 3 and y => 4\n",
	}
	for _, s := range accepted {
		if ct, err := SniffFile([]byte(s)); err != nil || ct != Text {
			t.Errorf("%q: %q %v, want plain text", s, ct, err)
		}
	}
}
