package picture

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"
)

func TestInspect(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(0, 0, color.White)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	ct, cfg, err := Inspect(buf.Bytes())
	if err != nil || ct != PNG || cfg.Width != 3 || cfg.Height != 2 {
		t.Fatalf("png: %q %+v %v", ct, cfg, err)
	}
	for name, b := range map[string][]byte{
		"svg":   []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
		"html":  []byte("<!doctype html><p>hi"),
		"empty": nil,
	} {
		if _, _, err := Inspect(b); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
	truncated := buf.Bytes()[:12]
	if _, _, err := Inspect(truncated); !errors.Is(err, ErrUnreadable) {
		t.Errorf("truncated png: %v, want ErrUnreadable", err)
	}
	webp := append([]byte("RIFF\x40\x00\x00\x00WEBPVP8 "), make([]byte, 20)...)
	if _, _, err := Inspect(webp); !errors.Is(err, ErrUnreadable) {
		t.Errorf("webp with a wrong RIFF size: %v, want ErrUnreadable", err)
	}
}
