package web_test

import (
	"bytes"
	"image/jpeg"
	"image/png"
	"net/http"
	"testing"

	"github.com/sessionshq/sessions/internal/platform/picture/picturetest"
)

// TestPicturesLoseTheirMetadata uploads a photo with EXIF GPS and a PNG
// with text chunks to a meeting, as a logo and as a profile picture, and
// reads each back as someone else would see it: the files others download
// hold the pixels and none of the markers. A picture that cannot be
// decoded as what it starts like is refused with 422.
func TestPicturesLoseTheirMetadata(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const gps, text = "MARKER-GPS-47.3769N-8.5417E", "MARKER-PNG-TEXT-CHUNK"
	photo, drawing := picturetest.JPEGWithGPS(gps, 1), picturetest.PNGWithText(text)
	for name, b := range map[string][]byte{"photo": photo, "drawing": drawing} {
		if !bytes.Contains(b, []byte(gps)) && !bytes.Contains(b, []byte(text)) {
			t.Fatalf("the %s carries no marker", name)
		}
	}
	clean := func(where string, b []byte) {
		t.Helper()
		if bytes.Contains(b, []byte(gps)) || bytes.Contains(b, []byte(text)) || bytes.Contains(b, []byte("Exif")) {
			t.Errorf("%s: a marker reached the download", where)
		}
	}
	decodes := func(where, ct string, b []byte) {
		t.Helper()
		var err error
		switch ct {
		case "image/jpeg":
			_, err = jpeg.Decode(bytes.NewReader(b))
		case "image/png":
			_, err = png.Decode(bytes.NewReader(b))
		default:
			t.Errorf("%s: served as %q", where, ct)
			return
		}
		if err != nil {
			t.Errorf("%s: not a picture any more: %v", where, err)
		}
	}

	// Meeting files: the host shares, a participant downloads.
	host, participant := h.newMember(t), h.newMember(t)
	hostAPI := h.apiClient(t, host)
	id := createMeeting(t, hostAPI, nil)
	if res := hostAPI.sendJSON(t, http.MethodPost, "/api/meetings/"+id+"/participants", map[string]string{"email": participant.Email}); res.StatusCode != http.StatusCreated {
		t.Fatalf("invite the participant: %d %s", res.StatusCode, res.Body)
	}
	other := h.apiClient(t, participant)
	for _, f := range []struct {
		name string
		data []byte
		ct   string
	}{{"photo.jpg", photo, "image/jpeg"}, {"drawing.png", drawing, "image/png"}} {
		res := upload(t, hostAPI, "/api/meetings/"+id+"/resources", f.name, f.data)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("upload %s: %d %s", f.name, res.StatusCode, res.Body)
		}
		var r struct {
			DownloadURL string `json:"download_url"`
		}
		res.decode(t, &r)
		dl := other.get(t, r.DownloadURL)
		if dl.StatusCode != http.StatusOK {
			t.Fatalf("the participant downloads %s: %d", f.name, dl.StatusCode)
		}
		clean("meeting file "+f.name, dl.Body)
		decodes("meeting file "+f.name, f.ct, dl.Body)
	}
	broken := append([]byte(nil), photo[:len(photo)/2]...)
	if res := upload(t, hostAPI, "/api/meetings/"+id+"/resources", "broken.jpg", broken); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a JPEG cut in half: %d %s", res.StatusCode, res.Body)
	}

	// Logos: an owner uploads, a guest of the organisation downloads.
	f := newOrgFixture(t, h)
	owner := h.apiClient(t, f.Owner)
	for _, p := range []struct {
		data []byte
		ct   string
	}{{photo, "image/jpeg"}, {drawing, "image/png"}} {
		if res := owner.do(t, http.MethodPut, "/api/orgs/"+f.ID+"/logo", bytes.NewReader(p.data), http.Header{"Content-Type": {p.ct}}); res.StatusCode != http.StatusOK {
			t.Fatalf("logo %s: %d %s", p.ct, res.StatusCode, res.Body)
		}
		dl := h.signIn(t, f.Guest).get(t, "/orgs/"+f.ID+"/logo")
		if dl.StatusCode != http.StatusOK {
			t.Fatalf("the guest reads the logo: %d", dl.StatusCode)
		}
		clean("logo "+p.ct, dl.Body)
		decodes("logo "+p.ct, dl.Header.Get("Content-Type"), dl.Body)
	}
	if res := owner.do(t, http.MethodPut, "/api/orgs/"+f.ID+"/logo", bytes.NewReader(broken), http.Header{"Content-Type": {"image/jpeg"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a logo cut in half: %d %s", res.StatusCode, res.Body)
	}

	// Profile pictures are served to their member alone.
	me := h.newMember(t)
	browser := h.signIn(t, me)
	for _, p := range []struct {
		name string
		data []byte
	}{{"me.jpg", photo}, {"me.png", drawing}} {
		if res := uploadAvatar(t, browser, p.name, p.data); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("avatar %s: %d %s", p.name, res.StatusCode, res.Body)
		}
		dl := browser.get(t, "/account/avatar")
		clean("avatar "+p.name, dl.Body)
		decodes("avatar "+p.name, dl.Header.Get("Content-Type"), dl.Body)
	}
	if res := uploadAvatar(t, browser, "broken.jpg", broken); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an avatar cut in half: %d", res.StatusCode)
	}
}
