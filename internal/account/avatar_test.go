package account

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/sessionshq/sessions/internal/errs"
)

func encodePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// webpLossless is a lossless WebP of one colour, w×h pixels.
func webpLossless(w, h int) []byte {
	body := make([]byte, 8)
	body[0] = 0x2f
	binary.LittleEndian.PutUint32(body[1:5], uint32(w-1)|uint32(h-1)<<14)
	// No transform, no colour cache, and five codes of one symbol each.
	copy(body[5:], []byte{0x88, 0x88, 0x08})
	payload := append([]byte("WEBPVP8L\x08\x00\x00\x00"), body...)
	out := append([]byte("RIFF"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(payload)))
	return append(out, payload...)
}

func TestCheckAvatar(t *testing.T) {
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewGray(image.Rect(0, 0, 4, 4)), nil); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"png":  {encodePNG(t, 8, 8), "image/png"},
		"jpeg": {jpg.Bytes(), "image/jpeg"},
		"webp": {webpLossless(64, 32), "image/webp"},
	} {
		if got, _, err := CheckAvatar(tc.data); err != nil || got != tc.want {
			t.Errorf("%s: %q, %v", name, got, err)
		}
	}
	truncated := webpLossless(8, 8)
	for name, data := range map[string][]byte{
		"empty":            nil,
		"html":             []byte("<!doctype html><script>alert(1)</script>"),
		"svg":              []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`),
		"gif":              []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
		"png header only":  []byte("\x89PNG\r\n\x1a\n"),
		"truncated webp":   truncated[:len(truncated)-1],
		"jpeg cut in half": jpg.Bytes()[:jpg.Len()/2],
		"too wide":         encodePNG(t, MaxAvatarSide+1, 1),
		"webp too high":    webpLossless(10, MaxAvatarSide+1),
		"over 2 MB":        append(encodePNG(t, 8, 8), make([]byte, MaxAvatarBytes)...),
	} {
		_, _, err := CheckAvatar(data)
		if e, ok := errs.As(err); !ok || e.Code != errs.Invalid || e.Fields[FieldAvatar] == "" {
			t.Errorf("%s accepted (%v)", name, err)
		}
	}
}
