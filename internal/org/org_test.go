package org

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
)

// TestCan is the whole role table, written out so that a change to the
// policy has to change this test too.
func TestCan(t *testing.T) {
	const y, n = true, false
	table := map[Action][4]bool{ // owner, admin, member, guest
		View:          {y, y, y, y},
		ViewMembers:   {y, y, y, n},
		ViewDPA:       {y, y, y, n},
		Edit:          {y, y, n, n},
		ManageMembers: {y, y, n, n},
		ManageOwners:  {y, n, n, n},
		AcceptDPA:     {y, n, n, n},
		Delete:        {y, n, n, n},
		Leave:         {y, y, y, y},
	}
	if len(table) != len(Actions) {
		t.Fatalf("the table covers %d actions, the package has %d", len(table), len(Actions))
	}
	for _, a := range Actions {
		want, ok := table[a]
		if !ok {
			t.Errorf("action %s has no row", a)
			continue
		}
		for i, r := range Roles {
			if got := Can(r, a); got != want[i] {
				t.Errorf("Can(%s, %s) = %v, want %v", r, a, got, want[i])
			}
		}
		if Can(Role("superuser"), a) || Can("", a) {
			t.Errorf("an unknown role may %s", a)
		}
	}
	if Can(Owner, Action("anything")) {
		t.Error("an unknown action is allowed")
	}
}

func TestMembershipRules(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want errs.Code // "" for allowed
	}{
		{"owner invites owner", CheckInvite(Owner, Owner), ""},
		{"admin invites admin", CheckInvite(Admin, Admin), ""},
		{"admin invites guest", CheckInvite(Admin, Guest), ""},
		{"admin invites owner", CheckInvite(Admin, Owner), errs.Forbidden},
		{"member invites", CheckInvite(Member, Guest), errs.Forbidden},
		{"guest invites", CheckInvite(Guest, Guest), errs.Forbidden},

		{"owner makes a member owner", CheckRoleChange(Owner, Member, Owner, 1), ""},
		{"owner demotes another owner", CheckRoleChange(Owner, Owner, Admin, 2), ""},
		{"last owner demotes", CheckRoleChange(Owner, Owner, Admin, 1), errs.Conflict},
		{"admin promotes to owner", CheckRoleChange(Admin, Member, Owner, 1), errs.Forbidden},
		{"admin demotes an owner", CheckRoleChange(Admin, Owner, Member, 3), errs.Forbidden},
		{"admin changes member to guest", CheckRoleChange(Admin, Member, Guest, 1), ""},
		{"admin demotes an admin", CheckRoleChange(Admin, Admin, Member, 1), ""},
		{"member changes a role", CheckRoleChange(Member, Guest, Member, 1), errs.Forbidden},
		{"unchanged owner role", CheckRoleChange(Owner, Owner, Owner, 1), ""},

		{"owner removes a member", CheckRemoval(Owner, Member, 1), ""},
		{"owner removes another owner", CheckRemoval(Owner, Owner, 2), ""},
		{"owner removes the last owner", CheckRemoval(Owner, Owner, 1), errs.Conflict},
		{"admin removes a guest", CheckRemoval(Admin, Guest, 1), ""},
		{"admin removes an admin", CheckRemoval(Admin, Admin, 1), ""},
		{"admin removes an owner", CheckRemoval(Admin, Owner, 2), errs.Forbidden},
		{"member removes", CheckRemoval(Member, Guest, 1), errs.Forbidden},
		{"guest removes", CheckRemoval(Guest, Guest, 1), errs.Forbidden},

		{"last owner leaves", CheckLeave(Owner, 1), errs.Conflict},
		{"one of two owners leaves", CheckLeave(Owner, 2), ""},
		{"admin leaves", CheckLeave(Admin, 1), ""},
		{"member leaves", CheckLeave(Member, 1), ""},
		{"guest leaves", CheckLeave(Guest, 1), ""},
	}
	for _, c := range cases {
		got := errs.Code("")
		if c.err != nil {
			got = errs.CodeOf(c.err)
		}
		if got != c.want {
			t.Errorf("%s: got %q (%v), want %q", c.name, got, c.err, c.want)
		}
	}
}

func TestCheckName(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "is required",
		"   ":                         "is required",
		"Acme":                        "",
		"  Acme  ":                    "",
		`<script>alert(1)</script>`:   "",
		strings.Repeat("é", 100):      "",
		strings.Repeat("é", 101):      "must be at most 100 characters",
		"Acme\nCorp":                  "must be on one line, without control characters",
		"Acme\x00":                    "must be on one line, without control characters",
		"\xff\xfe":                    "must be text",
		"Ünïcödé Gesellschaft für IT": "",
	} {
		v := errs.Validation{}
		got := CheckName(v, "name", in)
		if v["name"] != want {
			t.Errorf("CheckName(%q): message %q, want %q", in, v["name"], want)
		}
		if want == "" && got != strings.TrimSpace(in) {
			t.Errorf("CheckName(%q) = %q", in, got)
		}
	}
}

func TestCheckColour(t *testing.T) {
	for in, want := range map[string]string{
		"":         "",
		"#3347D1":  "#3347d1",
		" #abcdef": "#abcdef",
		"#abc":     "!",
		"3347d1":   "!",
		"#3347d1x": "!",
		"#ggggggg": "!",
		"red":      "!",
		"#12345g":  "!",
	} {
		v := errs.Validation{}
		got := CheckColour(v, "colour", in)
		if want == "!" {
			if v["colour"] == "" {
				t.Errorf("CheckColour(%q) accepted", in)
			}
			continue
		}
		if v["colour"] != "" || got != want {
			t.Errorf("CheckColour(%q) = %q, %q; want %q", in, got, v["colour"], want)
		}
	}
}

func TestCheckRoleAndDPAVersion(t *testing.T) {
	for _, r := range []string{"owner", "admin", "member", "guest"} {
		v := errs.Validation{}
		if got := CheckRole(v, "role", r); string(got) != r || len(v) != 0 {
			t.Errorf("CheckRole(%q) = %q, %v", r, got, v)
		}
	}
	for _, r := range []string{"", "Owner", "superuser", "staff"} {
		v := errs.Validation{}
		if CheckRole(v, "role", r); v["role"] == "" {
			t.Errorf("CheckRole(%q) accepted", r)
		}
	}
	v := errs.Validation{}
	CheckDPAVersion(v, "version", DPAVersion)
	if len(v) != 0 {
		t.Errorf("the current DPA version is refused: %v", v)
	}
	for _, bad := range []string{"", "dpa-1999-01", "DPA-2024-02"} {
		v := errs.Validation{}
		if CheckDPAVersion(v, "version", bad); v["version"] == "" {
			t.Errorf("DPA version %q accepted", bad)
		}
	}
}

func TestInvitationPending(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	inv := Invitation{ExpiresAt: now.Add(InvitationTTL)}
	if !inv.Pending(now) || !inv.Pending(now.Add(InvitationTTL-time.Second)) {
		t.Error("a fresh invitation is not pending")
	}
	if inv.Pending(now.Add(InvitationTTL)) {
		t.Error("an invitation is pending at its expiry")
	}
	accepted := now
	inv.AcceptedAt = &accepted
	if inv.Pending(now) {
		t.Error("an accepted invitation is pending")
	}
}

// ---- logos ----

func testImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, 0, color.RGBA{R: 0x33, G: 0x47, B: 0xd1, A: 0xff})
	}
	return img
}

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testImage(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func testJPEG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(16, 16), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// testWebP builds a lossless WebP of one colour, w×h pixels: the
// smallest whole picture of that size.
func testWebP(w, h int) []byte {
	body := make([]byte, 5, 8)
	body[0] = 0x2f
	binary.LittleEndian.PutUint32(body[1:], uint32(w-1)|uint32(h-1)<<14)
	// No transform, no colour cache, and five codes of one symbol each.
	body = append(body, 0x88, 0x88, 0x08)
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(4+8+len(body)))
	b.WriteString("WEBPVP8L")
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(body)))
	b.Write(body)
	return b.Bytes()
}

func TestSniffLogo(t *testing.T) {
	ok := map[string][]byte{
		PNG:  testPNG(t, 32, 32),
		JPEG: testJPEG(t),
		WebP: testWebP(64, 48),
	}
	for want, b := range ok {
		got, _, err := SniffLogo(b)
		if err != nil || got != want {
			t.Errorf("SniffLogo(%s) = %q, %v", want, got, err)
		}
	}

	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)
	truncatedPNG := testPNG(t, 32, 32)[:20]
	badWebP := testWebP(64, 48)
	badWebP[4]++ // the RIFF size no longer matches
	huge := append(testPNG(t, 8, 8), make([]byte, MaxLogoBytes)...)
	cases := []struct {
		name string
		b    []byte
		want errs.Code
	}{
		{"svg", svg, errs.Unsupported},
		{"svg with xml prolog", append([]byte(`<?xml version="1.0"?>`), svg...), errs.Unsupported},
		{"html", []byte("<!doctype html><html><script>alert(1)</script></html>"), errs.Unsupported},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), errs.Unsupported},
		{"empty", nil, errs.Unsupported},
		{"truncated png", truncatedPNG, errs.Invalid},
		{"jpeg cut in half", testJPEG(t)[:len(testJPEG(t))/2], errs.Invalid},
		{"webp with a wrong size", badWebP, errs.Invalid},
		{"too large", huge, errs.TooLarge},
		{"too wide", testPNG(t, MaxLogoSide+1, 1), errs.Invalid},
		{"webp too high", testWebP(10, MaxLogoSide+1), errs.Invalid},
	}
	for _, c := range cases {
		_, _, err := SniffLogo(c.b)
		if got := errs.CodeOf(err); err == nil || got != c.want {
			t.Errorf("%s: got %v (%v), want %s", c.name, got, err, c.want)
		}
	}
}
