package notice_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/privacy/datamap"
	"github.com/sessionshq/sessions/internal/privacy/notice"
	"github.com/sessionshq/sessions/internal/privacy/vendors"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// shipped is the notice as a fresh instance generates it: the catalogue
// and the seeded registry.
func shipped() notice.Document { return notice.Build(datamap.Default(), vendors.Seed()) }

// TestNoticeGolden compares the generated notice with the reviewed copies
// in testdata. After a deliberate change to the notice, the data map or
// the registry's seed, run
//
//	go test ./internal/privacy/notice -run Golden -update
//
// and read the diff: it is the change the public will see.
func TestNoticeGolden(t *testing.T) {
	doc := shipped()
	js, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{"notice.md": doc.Markdown(), "notice.json": string(js) + "\n"} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from the golden file; run with -update and review the diff.\n%s", name, firstDiff(got, string(want)))
		}
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "first difference:\n got: " + gl + "\nwant: " + wl
		}
	}
	return ""
}

func TestBuildIsDeterministic(t *testing.T) {
	a, b := shipped(), shipped()
	if a.Markdown() != b.Markdown() || a.Hash() != b.Hash() {
		t.Fatal("two builds from the same inputs differ")
	}
	if len(a.Hash()) != 64 {
		t.Fatalf("hash %q is not hex SHA-256", a.Hash())
	}
}

func section(t *testing.T, d notice.Document, id string) string {
	t.Helper()
	for _, s := range d.Sections {
		if s.ID == id {
			return notice.SectionMarkdown(s)
		}
	}
	t.Fatalf("the notice has no section %q", id)
	return ""
}

// TestNoticeCoversWhatTheLawAsks checks each section carries the facts it
// must, taken from the data map and the registry rather than typed in.
func TestNoticeCoversWhatTheLawAsks(t *testing.T) {
	m := datamap.Default()
	subs := vendors.Seed()
	doc := notice.Build(m, subs)
	rec := datamap.BuildRecord(m, subs)

	var ids []string
	for _, s := range doc.Sections {
		ids = append(ids, s.ID)
	}
	want := []string{"who-we-are", "what-we-collect", "how-we-collect", "purposes", "marketing", "recipients", "transfers",
		"retention", "dpa", "cookies", "rights", "security", "complaints", "changes", "contact"}
	if !slices.Equal(ids, want) {
		t.Fatalf("sections = %v, want %v", ids, want)
	}

	who := section(t, doc, "who-we-are")
	for _, c := range m.Controllers {
		if !strings.Contains(who, c.Name) || !strings.Contains(who, c.Scope) {
			t.Errorf("who we are: controller %s or its scope is missing", c.Name)
		}
	}
	collect := section(t, doc, "what-we-collect")
	for _, c := range rec.Categories {
		if !strings.Contains(collect, "| "+c.Name) {
			t.Errorf("what we collect: category %s is missing", c.ID)
		}
	}
	for _, id := range notice.SignUpCategories {
		c, _ := m.Category(id)
		if !strings.Contains(collect, "| "+c.Name+" | "+c.Description+" | Required to open an account |") {
			t.Errorf("what we collect: %s is not marked required", id)
		}
	}
	if !strings.Contains(collect, "| Optional") || !strings.Contains(collect, "| Recorded or worked out by the platform") {
		t.Error("what we collect: optional and recorded data are not told apart")
	}
	purposes := section(t, doc, "purposes")
	for _, p := range m.Purposes {
		row := "| " + p.Name + " | " + p.Description + " | " + datamap.RecordPurpose{Purpose: p}.BasisLabels() + " |"
		if !strings.Contains(purposes, row) {
			t.Errorf("purposes: %s with its bases is missing", p.ID)
		}
	}
	marketing := section(t, doc, "marketing")
	for _, phrase := range []string{"legitimate interest", "unsubscribe", "preferences", "mailto:contact@sessions.us", "We never sell personal data", "Child accounts receive no marketing"} {
		if !strings.Contains(marketing, phrase) {
			t.Errorf("marketing: %q is missing", phrase)
		}
	}
	recipients := section(t, doc, "recipients")
	for _, s := range rec.Subprocessors {
		row := "| " + s.Name + " | " + s.Activity + " | " + s.CountryName + " | " + s.MechanismLabel + " |"
		if !strings.Contains(recipients, row) {
			t.Errorf("recipients: %s is missing: %s", s.ID, row)
		}
	}
	for _, o := range m.OtherRecipients {
		if !strings.Contains(recipients, o.Name) {
			t.Errorf("recipients: other recipient %s is missing", o.ID)
		}
	}
	transfers := section(t, doc, "transfers")
	if len(rec.Transfers) == 0 {
		t.Fatal("the seeded registry has no transfer out of the EEA; the test needs one")
	}
	for _, tr := range rec.Transfers {
		if !strings.Contains(transfers, "| "+tr.Name+" | "+tr.CountryName+" | "+tr.MechanismLabel+" |") {
			t.Errorf("transfers: %s is missing", tr.Recipient)
		}
	}
	retention := section(t, doc, "retention")
	for _, r := range rec.TimeLimits {
		if !strings.Contains(retention, r.Description) {
			t.Errorf("retention: rule %s is missing", r.ID)
		}
	}
	if !strings.Contains(section(t, doc, "cookies"), "(/privacy/cookies)") {
		t.Error("cookies: no link to the cookie notice")
	}
	rights := section(t, doc, "rights")
	for _, r := range []string{"Access", "Rectification", "Erasure", "Restriction", "Portability", "Objection", "Withdrawing consent", "No solely automated decisions"} {
		if !strings.Contains(rights, "| "+r+" |") {
			t.Errorf("rights: %s is missing", r)
		}
	}
	if !strings.Contains(rights, "(/privacy)") {
		t.Error("rights: no link to the privacy centre")
	}
	security := section(t, doc, "security")
	for _, s := range m.Security {
		if !strings.Contains(security, s.Title) {
			t.Errorf("security: measure %s is missing", s.ID)
		}
	}
	if !strings.Contains(section(t, doc, "complaints"), "supervisory authority") {
		t.Error("complaints: the supervisory authority is not named")
	}
	if !strings.Contains(section(t, doc, "changes"), "(/privacy/notice/history)") {
		t.Error("changes: no link to the history")
	}
	if !strings.Contains(section(t, doc, "contact"), "contact@sessions.us") {
		t.Error("contact: no address")
	}
}

// TestNoticeFollowsTheRegistry proves the recipients come from the
// registry as it stands: a staff edit changes the text, and an entry made
// inactive disappears from it.
func TestNoticeFollowsTheRegistry(t *testing.T) {
	m := datamap.Default()
	subs := vendors.Seed()
	before := notice.Build(m, subs)
	i := slices.IndexFunc(subs, func(s vendors.Subprocessor) bool { return s.ID == vendors.Colossyan })
	if i < 0 {
		t.Fatal("the seed has no Colossyan")
	}
	subs[i].Active = false
	after := notice.Build(m, subs)
	if strings.Contains(section(t, after, "recipients"), "Colossyan") {
		t.Error("an inactive sub-processor is still named")
	}
	if before.Hash() == after.Hash() {
		t.Error("the hash did not change with the text")
	}
	subs[i].Active = true
	subs[i].Activity = "Video editing | with [brackets](https://evil.example)"
	edited := section(t, notice.Build(m, subs), "recipients")
	if !strings.Contains(edited, `Video editing \| with \[brackets\](https://evil.example)`) {
		t.Errorf("a staff-edited cell is not escaped:\n%s", edited)
	}
}

func TestSignUpCategoriesMatchTheSignUpForm(t *testing.T) {
	var fields []string
	for f := range reflect.TypeFor[account.SignUp]().Fields() {
		fields = append(fields, f.Name)
	}
	if !slices.Equal(fields, []string{"Name", "Email", "Password"}) {
		t.Fatalf("account.SignUp asks for %v; update notice.SignUpCategories to match", fields)
	}
	m := datamap.Default()
	for _, id := range notice.SignUpCategories {
		if !m.HasCategory(id) {
			t.Errorf("sign-up category %s is not in the data map", id)
		}
	}
}

func TestControllersMatchResidence(t *testing.T) {
	names := map[string]bool{}
	for _, c := range datamap.Default().Controllers {
		names[c.Name] = true
	}
	for _, c := range account.ControllersFor("RO") {
		if !names[c.Name] {
			t.Errorf("controller %s of an EEA resident is not in the data map, so the notice would not name it", c.Name)
		}
	}
}

func TestInline(t *testing.T) {
	cases := []struct {
		in   string
		want []notice.Span
	}{
		{"plain text", []notice.Span{{Text: "plain text"}}},
		{"see [the notice](/privacy/notice).", []notice.Span{{Text: "see "}, {Text: "the notice", Href: "/privacy/notice"}, {Text: "."}}},
		{"[mail](mailto:a@example.com)", []notice.Span{{Text: "mail", Href: "mailto:a@example.com"}}},
		{"[ico](https://ico.org.uk) and [x](https://x.example)", []notice.Span{{Text: "ico", Href: "https://ico.org.uk"}, {Text: " and "}, {Text: "x", Href: "https://x.example"}}},
		{"[bad](javascript:alert(1))", []notice.Span{{Text: "[bad](javascript:alert(1))"}}},
		{"[proto](//evil.example)", []notice.Span{{Text: "[proto](//evil.example)"}}},
		{"[plain](http://insecure.example)", []notice.Span{{Text: "[plain](http://insecure.example)"}}},
		{"[quote](/a\"b)", []notice.Span{{Text: "[quote](/a\"b)"}}},
		{"a [b] c", []notice.Span{{Text: "a [b] c"}}},
		{"unclosed [x](/y", []notice.Span{{Text: "unclosed [x](/y"}}},
	}
	for _, c := range cases {
		if got := notice.Inline(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Inline(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestCompare(t *testing.T) {
	s := func(id, text string) notice.Section {
		return notice.Section{ID: id, Title: id, Blocks: []notice.Block{{Kind: notice.Paragraph, Text: text}}}
	}
	older := []notice.Section{s("a", "one"), s("b", "two"), s("gone", "old"), s("c", "three")}
	newer := []notice.Section{s("a", "one"), s("b", "two, changed"), s("c", "three"), s("new", "fresh")}
	got := notice.Compare(older, newer)
	var summary []string
	for _, d := range got {
		summary = append(summary, d.ID+":"+string(d.Change))
	}
	want := []string{"a:unchanged", "b:changed", "gone:removed", "c:unchanged", "new:added"}
	if !slices.Equal(summary, want) {
		t.Fatalf("Compare = %v, want %v", summary, want)
	}
	var lines []string
	for _, l := range got[1].Lines {
		lines = append(lines, string(l.Op)+l.Text)
	}
	if !slices.Equal(lines, []string{" ## b", " ", "-two", "+two, changed"}) {
		t.Errorf("line diff = %q", lines)
	}
	if !notice.AnyChange(got) || notice.AnyChange(notice.Compare(newer, newer)) {
		t.Error("AnyChange is wrong")
	}
	for _, d := range notice.Compare(nil, newer) {
		if d.Change != notice.Added {
			t.Errorf("against nothing, %s is %s, want added", d.ID, d.Change)
		}
	}
}

func TestPublicationClean(t *testing.T) {
	long := strings.Repeat("x", notice.MaxSummary+1)
	cases := []struct {
		name  string
		in    notice.Publication
		field string
	}{
		{"missing summary", notice.Publication{}, "summary"},
		{"blank summary", notice.Publication{Summary: "   \n "}, "summary"},
		{"short summary", notice.Publication{Summary: "changed"}, "summary"},
		{"overlong summary", notice.Publication{Summary: long}, "summary"},
		{"control characters", notice.Publication{Summary: "New recipients \x07 added"}, "summary"},
		{"bad hash", notice.Publication{Summary: "New recipients were added.", ExpectHash: "abc"}, "sha256"},
		{"fine", notice.Publication{Summary: "  New recipients were added.\r\nSee the list. ", ExpectHash: strings.Repeat("a", 64)}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.in.Clean()
			if c.field == "" {
				if err != nil {
					t.Fatalf("Clean: %v", err)
				}
				if got.Summary != "New recipients were added.\nSee the list." {
					t.Errorf("summary = %q", got.Summary)
				}
				return
			}
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid || e.Fields[c.field] == "" {
				t.Fatalf("Clean = %v, want an invalid %s", err, c.field)
			}
		})
	}
}

func TestChangeMail(t *testing.T) {
	v := notice.Version{NoticeID: notice.ID, Number: 4, PublishedAt: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC),
		Significant: true, Summary: "We now use a new video provider."}
	m := notice.ChangeMail(v, notice.Recipient{AccountID: "acc_1", Name: "Ada", Email: "ada@example.com"}, "https://sessions.example/")
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.Category != mail.Transactional || m.PersonID != "acc_1" || m.To != "ada@example.com" || m.Template != notice.MailTemplate {
		t.Errorf("message = %+v", m)
	}
	for _, want := range []string{"Hello Ada,", "Version 4", "1 May 2026", "We now use a new video provider.",
		"https://sessions.example/privacy/notice/v/4", "https://sessions.example/privacy/notice/history"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("the mail lacks %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.Subject, "version 4") {
		t.Errorf("subject = %q", m.Subject)
	}
}
