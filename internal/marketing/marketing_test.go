package marketing

import (
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/signed"
)

var secret = []byte("marketing-test-secret-of-32-bytes-at-least")

func TestRelationshipDecidesTheDefault(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	verified := account.Account{Status: account.Active, EmailVerifiedAt: &now}
	adult := account.Restrictions{Marketing: true}
	child := account.Restrictions{Child: true}
	confirmedChild := account.Restrictions{Child: true, GuardianConfirmed: true, Marketing: true}
	cases := []struct {
		name           string
		a              account.Account
		r              account.Restrictions
		def, mayOptIn  bool
		explainContain string
	}{
		{"verified adult member is a customer", verified, adult, true, true, "customer"},
		{"unverified member has no relationship yet", account.Account{Status: account.Active}, adult, false, false, "confirmed e-mail"},
		{"deactivated member is not approached", account.Account{Status: account.Deactivated, EmailVerifiedAt: &now}, adult, false, false, "confirmed e-mail"},
		{"child without a guardian's confirmation", verified, child, false, false, "cannot be switched on"},
		{"confirmed child chooses for themselves", verified, confirmedChild, false, true, "unless you switch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rel := RelationshipOf(c.a, c.r)
			if rel.Default() != c.def || rel.MayOptIn() != c.mayOptIn {
				t.Fatalf("default %v may opt in %v, want %v %v", rel.Default(), rel.MayOptIn(), c.def, c.mayOptIn)
			}
			if !strings.Contains(rel.Explain(), c.explainContain) {
				t.Fatalf("explanation %q lacks %q", rel.Explain(), c.explainContain)
			}
			p := Preferences{Relationship: rel}
			for _, ch := range Channels {
				if p.On(ch) != c.def {
					t.Errorf("%s is %v without a choice, want the default %v", ch, p.On(ch), c.def)
				}
			}
		})
	}
}

func TestObjectionAndSuppressionWinOverEveryChoice(t *testing.T) {
	customer := Relationship{Customer: true}
	p := Preferences{Relationship: customer, Chosen: map[Channel]bool{Email: true, SMS: true}}
	if !p.On(Email) || !p.On(SMS) || !p.On(Phone) {
		t.Fatal("a customer's channels should be on")
	}
	p.Suppressed = true
	if p.On(Email) || !p.On(SMS) {
		t.Fatal("a suppressed address turns e-mail off, and only e-mail")
	}
	p.Objected = true
	for _, c := range Channels {
		if p.On(c) {
			t.Errorf("%s is on after an objection to marketing", c)
		}
	}
	// A child's stored choice does not count until a guardian confirms.
	kid := Preferences{Relationship: Relationship{Customer: true, Child: true}, Chosen: map[Channel]bool{Email: true}}
	if kid.On(Email) {
		t.Fatal("an unconfirmed child's stored choice switched e-mail on")
	}
}

func TestEdit(t *testing.T) {
	customer := Preferences{Relationship: Relationship{Customer: true}, Chosen: map[Channel]bool{}}
	cases := []struct {
		name    string
		p       Preferences
		want    map[string]bool
		allowOn bool
		changes int
		code    errs.Code
		field   string
	}{
		{"switching off from a link", customer, map[string]bool{"email": false, "sms": false}, false, 2, "", ""},
		{"the default stored explicitly", customer, map[string]bool{"email": true}, true, 1, "", ""},
		{"unknown channel", customer, map[string]bool{"fax": false}, true, 0, errs.Invalid, "channels.fax"},
		{"switching on from a link", Preferences{Relationship: Relationship{Customer: true}, Chosen: map[Channel]bool{Email: false}},
			map[string]bool{"email": true}, false, 0, errs.Invalid, "channels.email"},
		{"after an objection", Preferences{Relationship: Relationship{Customer: true}, Objected: true},
			map[string]bool{"sms": true}, true, 0, errs.Conflict, ""},
		{"suppressed address", Preferences{Relationship: Relationship{Customer: true}, Suppressed: true},
			map[string]bool{"email": true}, true, 0, errs.Conflict, ""},
		{"child", Preferences{Relationship: Relationship{Customer: true, Child: true}},
			map[string]bool{"phone": true}, true, 0, errs.Invalid, "channels.phone"},
		{"no change", Preferences{Relationship: Relationship{Customer: true}, Chosen: map[Channel]bool{SMS: false}},
			map[string]bool{"sms": false}, true, 0, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.p.Edit(c.want, c.allowOn)
			if c.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(got) != c.changes {
					t.Fatalf("%d changes, want %d: %v", len(got), c.changes, got)
				}
				return
			}
			if errs.CodeOf(err) != c.code {
				t.Fatalf("error %v, want code %s", err, c.code)
			}
			if e, _ := errs.As(err); c.field != "" && e.Fields[c.field] == "" {
				t.Fatalf("no message for %s: %v", c.field, e.Fields)
			}
		})
	}
}

func TestObjectionRequestClean(t *testing.T) {
	cases := []struct {
		in      ObjectionRequest
		ok      bool
		kind    ObjectionKind
		purpose string
	}{
		{ObjectionRequest{Kind: ObjectMarketing}, true, ObjectMarketing, ""},
		{ObjectionRequest{Kind: ObjectProfiling, Statement: "  no thanks "}, true, ObjectProfiling, ""},
		{ObjectionRequest{Kind: ObjectLegitimateInterest}, true, ObjectLegitimateInterest, ""},
		{ObjectionRequest{Kind: ObjectLegitimateInterest, Purpose: "statistics"}, true, ObjectLegitimateInterest, "statistics"},
		// Marketing named as a legitimate interest is the absolute objection.
		{ObjectionRequest{Kind: ObjectLegitimateInterest, Purpose: "marketing"}, true, ObjectMarketing, ""},
		// Consent and contract purposes are not objected to this way.
		{ObjectionRequest{Kind: ObjectLegitimateInterest, Purpose: "behaviour-tracking"}, false, "", ""},
		{ObjectionRequest{Kind: ObjectLegitimateInterest, Purpose: "account"}, false, "", ""},
		{ObjectionRequest{Kind: ObjectLegitimateInterest, Purpose: "no-such"}, false, "", ""},
		{ObjectionRequest{Kind: ObjectMarketing, Purpose: "statistics"}, false, "", ""},
		{ObjectionRequest{Kind: "sale"}, false, "", ""},
		{ObjectionRequest{Kind: ObjectProfiling, Statement: strings.Repeat("x", MaxStatement+1)}, false, "", ""},
		{ObjectionRequest{Kind: ObjectProfiling, Statement: "bell\x07"}, false, "", ""},
	}
	for _, c := range cases {
		in := c.in
		err := in.Clean()
		if (err == nil) != c.ok {
			t.Errorf("%+v: error %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if c.ok && (in.Kind != c.kind || in.Purpose != c.purpose) {
			t.Errorf("%+v cleaned to %s/%q, want %s/%q", c.in, in.Kind, in.Purpose, c.kind, c.purpose)
		}
		if errs.CodeOf(err) != errs.Internal && errs.CodeOf(err) != errs.Invalid {
			t.Errorf("%+v: code %s", c.in, errs.CodeOf(err))
		}
	}
}

func TestDecisionNeedsGroundsToOverride(t *testing.T) {
	for _, c := range []struct {
		d  Decision
		ok bool
	}{
		{Decision{Status: Upheld}, true},
		{Decision{Status: Overridden, Grounds: "too short"}, false},
		{Decision{Status: Overridden, Grounds: "fraud prevention outweighs it for this account"}, true},
		{Decision{Status: Pending}, false},
		{Decision{Status: "maybe"}, false},
	} {
		d := c.d
		if err := d.Clean(); (err == nil) != c.ok {
			t.Errorf("%+v: %v, want ok=%v", c.d, err, c.ok)
		}
	}
}

func TestCampaignDraftClean(t *testing.T) {
	ok := CampaignDraft{Subject: " News ", Text: " Hello "}
	if err := ok.Clean(); err != nil || ok.Subject != "News" || ok.Text != "Hello" {
		t.Fatalf("clean draft: %v %+v", err, ok)
	}
	for _, d := range []CampaignDraft{
		{Subject: "", Text: "x"},
		{Subject: "two\nlines", Text: "x"},
		{Subject: strings.Repeat("s", MaxSubject+1), Text: "x"},
		{Subject: "s", Text: "  "},
		{Subject: "s", Text: "x", HTML: strings.Repeat("h", MaxHTML+1)},
	} {
		if err := d.Clean(); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("%.40q accepted: %v", d.Subject, err)
		}
	}
}

func TestSuppressionDigestIsKeyedAndNormalised(t *testing.T) {
	a := SuppressionDigest(secret, "Ada@Example.com ")
	if a != SuppressionDigest(secret, "ada@example.com") {
		t.Fatal("the digest depends on case or spaces")
	}
	if a == SuppressionDigest([]byte("another-secret-of-32-bytes-at-least!!"), "ada@example.com") {
		t.Fatal("the digest does not depend on the secret")
	}
	if strings.Contains(a, "ada") || a == SuppressionDigest(secret, "bob@example.com") {
		t.Fatal("the digest reveals or confuses addresses")
	}
}

func TestTokens(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tok := UnsubscribeToken(secret, "acc_1", "cmp_2", now)
	p, c, err := CheckUnsubscribe(secret, tok, now.Add(LinkLifetime-time.Second))
	if err != nil || p != "acc_1" || c != "cmp_2" {
		t.Fatalf("check: %q %q %v", p, c, err)
	}
	if _, _, err := CheckUnsubscribe(secret, tok, now.Add(LinkLifetime)); err == nil {
		t.Fatal("an expired token was accepted")
	}
	altered := tok[:len(tok)-2] + "AA"
	if altered == tok {
		altered = tok[:len(tok)-2] + "BB"
	}
	if _, _, err := CheckUnsubscribe(secret, altered, now); err == nil {
		t.Fatal("an altered token was accepted")
	}
	// A token for another purpose does not unsubscribe, and back.
	if _, _, err := CheckUnsubscribe(secret, PreferencesToken(secret, "acc_1", now), now); err == nil {
		t.Fatal("a preferences token unsubscribed")
	}
	if _, err := CheckPreferences(secret, tok, now); err == nil {
		t.Fatal("an unsubscribe token opened the preferences")
	}
	// A subject without a campaign is not an unsubscribe token even when
	// properly signed.
	bare := signed.Make(secret, UnsubscribePurpose, "acc_1", now.Add(time.Hour))
	if _, _, err := CheckUnsubscribe(secret, bare, now); err == nil {
		t.Fatal("a token without a campaign was accepted")
	}
}

func TestComposeCarriesOneClickUnsubscribe(t *testing.T) {
	c := Campaign{ID: "cmp_1", Subject: "Spring news", Text: "Hello", HTML: "<html><body><p>Hello</p></body></html>"}
	l := Links{Unsubscribe: "https://sessions.example/unsubscribe/T", Preferences: "https://sessions.example/marketing/preferences/P"}
	m := Compose(c, Recipient{AccountID: "acc_1", Name: "Ada", Email: "ada@example.com"}, l)
	if err := m.Validate(); err != nil {
		t.Fatalf("message does not validate: %v", err)
	}
	if m.Headers["List-Unsubscribe"] != "<https://sessions.example/unsubscribe/T>" ||
		m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
		t.Fatalf("headers: %v", m.Headers)
	}
	if m.PersonID != "acc_1" || m.Category != "marketing" {
		t.Fatalf("person %q category %q", m.PersonID, m.Category)
	}
	for _, body := range []string{m.Text, m.HTML} {
		if !strings.Contains(body, l.Preferences) || !strings.Contains(body, l.Unsubscribe) || !strings.Contains(body, "never sell") {
			t.Errorf("body lacks the links or the promise: %s", body)
		}
	}
	if !strings.HasSuffix(m.HTML, "</body></html>") {
		t.Errorf("the footer was not put inside the body: %s", m.HTML)
	}
	if a, err := mail.ParseAddress(m.To); err != nil || a.Address != "ada@example.com" {
		t.Errorf("recipient %q", m.To)
	}
}
