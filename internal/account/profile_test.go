package account

import (
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
)

var profileNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func validEdit() ProfileEdit {
	return ProfileEdit{
		Name:      "Ada Lovelace",
		Username:  "Ada.L",
		Phone:     "+40 (721) 234-567",
		Company:   "Analytical Engines Ltd",
		Address:   Address{Street: "12 St James's Square", City: "London", Postcode: "SW1Y 4JH", Region: "Greater London", Country: "gb"},
		BirthDate: "1990-12-10",
		Gender:    "Woman",
		Country:   " de ",
		City:      "Berlin",
		Interests: []string{" mathematics ", "Poetry", "", "poetry"},
		LinkedIn:  "https://www.LinkedIn.com/in/ada",
		Facebook:  "https://m.facebook.com/ada.lovelace",
	}
}

func TestCleanNormalises(t *testing.T) {
	base := Profile{AccountID: "acc_1", AvatarKey: "avatar/x"}
	name, p, err := validEdit().Clean(base, profileNow)
	if err != nil {
		t.Fatalf("Clean: %v", err)
	}
	if name != "Ada Lovelace" {
		t.Errorf("name = %q", name)
	}
	checks := map[string][2]string{
		"username":        {p.Username, "ada.l"},
		"phone":           {p.Phone, "+40721234567"},
		"address country": {p.Address.Country, "GB"},
		"country":         {p.Country, "DE"},
		"birth date":      {FormatDate(p.BirthDate), "1990-12-10"},
		"interests":       {strings.Join(p.Interests, "|"), "mathematics|Poetry"},
		"linkedin":        {p.LinkedIn, "https://www.linkedin.com/in/ada"},
		"facebook":        {p.Facebook, "https://m.facebook.com/ada.lovelace"},
		"account id kept": {p.AccountID, "acc_1"},
		"avatar kept":     {p.AvatarKey, "avatar/x"},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", what, c[0], c[1])
		}
	}
}

func TestCleanAcceptsEmptyOptionalFields(t *testing.T) {
	_, p, err := ProfileEdit{Name: "Ada"}.Clean(Profile{}, profileNow)
	if err != nil {
		t.Fatalf("only the name given: %v", err)
	}
	if p.HasBirthDate() || p.Phone != "" || p.Username != "" || len(p.Interests) != 0 {
		t.Errorf("empty fields came back filled: %+v", p)
	}
}

func TestCleanRefusesBadInput(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct {
		name  string
		edit  func(*ProfileEdit)
		field string
	}{
		{"no name", func(e *ProfileEdit) { e.Name = "  " }, FieldName},
		{"overlong name", func(e *ProfileEdit) { e.Name = long(MaxNameLength + 1) }, FieldName},
		{"short username", func(e *ProfileEdit) { e.Username = "ab" }, FieldUsername},
		{"long username", func(e *ProfileEdit) { e.Username = long(MaxUsername + 1) }, FieldUsername},
		{"username with space", func(e *ProfileEdit) { e.Username = "ada l" }, FieldUsername},
		{"username with markup", func(e *ProfileEdit) { e.Username = "<b>ada" }, FieldUsername},
		{"phone without country code", func(e *ProfileEdit) { e.Phone = "0721 234 567" }, FieldPhone},
		{"phone with letters", func(e *ProfileEdit) { e.Phone = "+40 CALL ME" }, FieldPhone},
		{"phone too long", func(e *ProfileEdit) { e.Phone = "+4072123456789012" }, FieldPhone},
		{"phone too short", func(e *ProfileEdit) { e.Phone = "+401234" }, FieldPhone},
		{"overlong company", func(e *ProfileEdit) { e.Company = long(MaxCompany + 1) }, FieldCompany},
		{"company over two lines", func(e *ProfileEdit) { e.Company = "A\nB" }, FieldCompany},
		{"overlong street", func(e *ProfileEdit) { e.Address.Street = long(MaxStreet + 1) }, FieldAddressStreet},
		{"postcode with symbols", func(e *ProfileEdit) { e.Address.Postcode = "<script>" }, FieldAddressPostcode},
		{"unknown address country", func(e *ProfileEdit) { e.Address.Country = "XX" }, FieldAddressCountry},
		{"future birth date", func(e *ProfileEdit) { e.BirthDate = "2026-03-03" }, FieldBirthDate},
		{"birth date before 1900", func(e *ProfileEdit) { e.BirthDate = "1899-12-31" }, FieldBirthDate},
		{"birth date not a date", func(e *ProfileEdit) { e.BirthDate = "10/12/1990" }, FieldBirthDate},
		{"impossible birth date", func(e *ProfileEdit) { e.BirthDate = "1990-02-30" }, FieldBirthDate},
		{"overlong gender", func(e *ProfileEdit) { e.Gender = long(MaxGender + 1) }, FieldGender},
		{"unknown country", func(e *ProfileEdit) { e.Country = "Germany" }, FieldCountry},
		{"overlong city", func(e *ProfileEdit) { e.City = long(MaxCity + 1) }, FieldCity},
		{"too many interests", func(e *ProfileEdit) {
			e.Interests = nil
			for i := range MaxInterests + 1 {
				e.Interests = append(e.Interests, "topic "+string(rune('a'+i)))
			}
		}, FieldInterests},
		{"overlong interest", func(e *ProfileEdit) { e.Interests = []string{long(MaxInterest + 1)} }, FieldInterests},
		{"linkedin over http", func(e *ProfileEdit) { e.LinkedIn = "http://www.linkedin.com/in/ada" }, FieldLinkedIn},
		{"linkedin as script", func(e *ProfileEdit) { e.LinkedIn = "javascript:alert(1)" }, FieldLinkedIn},
		{"linkedin on another host", func(e *ProfileEdit) { e.LinkedIn = "https://linkedin.com.evil.example/in/ada" }, FieldLinkedIn},
		{"linkedin lookalike host", func(e *ProfileEdit) { e.LinkedIn = "https://notlinkedin.com/in/ada" }, FieldLinkedIn},
		{"linkedin with credentials", func(e *ProfileEdit) { e.LinkedIn = "https://user@linkedin.com/in/ada" }, FieldLinkedIn},
		{"linkedin front page", func(e *ProfileEdit) { e.LinkedIn = "https://www.linkedin.com/" }, FieldLinkedIn},
		{"overlong linkedin", func(e *ProfileEdit) { e.LinkedIn = "https://www.linkedin.com/in/" + long(MaxProfileURL) }, FieldLinkedIn},
		{"facebook on linkedin", func(e *ProfileEdit) { e.Facebook = "https://www.linkedin.com/in/ada" }, FieldFacebook},
		{"facebook data URL", func(e *ProfileEdit) { e.Facebook = "data:text/html,<script>alert(1)</script>" }, FieldFacebook},
		{"facebook with port", func(e *ProfileEdit) { e.Facebook = "https://facebook.com:8443/ada" }, FieldFacebook},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := validEdit()
			tc.edit(&e)
			base := Profile{AccountID: "acc_1", Phone: "+4911111111"}
			_, p, err := e.Clean(base, profileNow)
			ee, ok := errs.As(err)
			if !ok || ee.Code != errs.Invalid {
				t.Fatalf("err = %v, want an invalid error", err)
			}
			if _, ok := ee.Fields[tc.field]; !ok || len(ee.Fields) != 1 {
				t.Errorf("fields = %v, want one message for %s", ee.Fields, tc.field)
			}
			if p.Phone != base.Phone {
				t.Errorf("a refused edit returned a changed profile: %+v", p)
			}
		})
	}
}

func TestCleanKeepsMarkupInNames(t *testing.T) {
	// Markup is text: it is stored as typed and escaped where shown.
	e := validEdit()
	e.Name = `<script>alert("x")</script> Ada`
	name, _, err := e.Clean(Profile{}, profileNow)
	if err != nil || name != e.Name {
		t.Fatalf("name = %q, %v; want it as given", name, err)
	}
}

func TestBirthDateToday(t *testing.T) {
	e := ProfileEdit{Name: "New", BirthDate: "2026-03-02"}
	if _, _, err := e.Clean(Profile{}, profileNow); err != nil {
		t.Fatalf("born today refused: %v", err)
	}
}

func TestChangesAndAuditDetail(t *testing.T) {
	_, old, err := validEdit().Clean(Profile{}, profileNow)
	if err != nil {
		t.Fatal(err)
	}
	e := validEdit()
	e.Name = "Ada King"
	e.Phone = ""
	e.Interests = []string{"Poetry", "mathematics"}
	name, p, err := e.Clean(old, profileNow)
	if err != nil {
		t.Fatal(err)
	}
	changes := Changes("Ada Lovelace", old, name, p)
	var fields []string
	for _, c := range changes {
		fields = append(fields, c.Field)
	}
	if got := strings.Join(fields, ","); got != "name,phone,interests" {
		t.Fatalf("changed fields = %s", got)
	}
	secret := []byte("a-test-secret-of-at-least-32-bytes!")
	d := AuditDetail(secret, changes)
	if d["fields"] != "name,phone,interests" {
		t.Errorf("fields = %q", d["fields"])
	}
	for _, c := range changes {
		got := d["old."+c.Field]
		if len(got) != 64 || got != OldValueDigest(secret, c.Field, c.Old) {
			t.Errorf("digest of old %s = %q", c.Field, got)
		}
		for _, v := range d {
			if c.Old != "" && strings.Contains(v, c.Old) {
				t.Errorf("the old value of %s appears in the detail", c.Field)
			}
		}
	}
	if OldValueDigest(secret, FieldCountry, "DE") == OldValueDigest([]byte("another-secret-of-at-least-32-bytes"), FieldCountry, "DE") {
		t.Error("the digest does not depend on the secret, so short values could be guessed")
	}
	if OldValueDigest(secret, FieldCountry, "DE") == OldValueDigest(secret, FieldAddressCountry, "DE") {
		t.Error("the digest is not bound to the field")
	}
	if len(Changes(name, p, name, p)) != 0 {
		t.Error("an unchanged profile reports changes")
	}
}

func TestCompleteness(t *testing.T) {
	filled, total := Completeness(Profile{})
	if filled != 1 || total != 11 {
		t.Errorf("empty profile: %d of %d, want 1 of 11", filled, total)
	}
	_, p, _ := validEdit().Clean(Profile{AvatarKey: "avatar/x"}, profileNow)
	if filled, total := Completeness(p); filled != total {
		t.Errorf("full profile: %d of %d", filled, total)
	}
}

func TestSplitInterests(t *testing.T) {
	got := SplitInterests("maths, poetry;\nengines,, ")
	if strings.Join(got, "|") != "maths| poetry|engines" {
		t.Errorf("SplitInterests = %q", got)
	}
}
