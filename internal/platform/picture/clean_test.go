package picture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/sessionshq/sessions/internal/platform/picture/picturetest"
)

const marker = "MARKER-47.3769N-8.5417E"

func TestCleanDropsPNGText(t *testing.T) {
	in := picturetest.PNGWithText(marker)
	if !bytes.Contains(in, []byte(marker)) {
		t.Fatal("the test picture has no marker")
	}
	if _, err := png.Decode(bytes.NewReader(in)); err != nil {
		t.Fatalf("the test picture is no PNG: %v", err)
	}
	ct, out, err := Clean(in)
	if err != nil || ct != PNG {
		t.Fatalf("Clean: %q %v", ct, err)
	}
	if bytes.Contains(out, []byte(marker)) {
		t.Error("the marker survived")
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if r, g, b, _ := img.At(1, 2).RGBA(); r>>8 != 200 || g>>8 != 10 || b>>8 != 30 {
		t.Errorf("pixel changed: %d %d %d", r>>8, g>>8, b>>8)
	}
}

func TestCleanDropsJPEGMetadataAndKeepsItUpright(t *testing.T) {
	for _, tc := range []struct {
		orientation uint16
		w, h        int
		// where the red half ends up
		redAt, blueAt image.Point
	}{
		{1, 8, 4, image.Pt(1, 2), image.Pt(6, 2)},
		{3, 8, 4, image.Pt(6, 2), image.Pt(1, 2)}, // upside down: red goes right
		{6, 4, 8, image.Pt(2, 1), image.Pt(2, 6)}, // turned clockwise: red on top
		{8, 4, 8, image.Pt(2, 6), image.Pt(2, 1)}, // turned anticlockwise: red below
	} {
		in := picturetest.JPEGWithGPS(marker, tc.orientation)
		if got := jpegOrientation(in); got != int(tc.orientation) {
			t.Fatalf("the test picture's orientation reads %d, want %d", got, tc.orientation)
		}
		ct, out, err := Clean(in)
		if err != nil || ct != JPEG {
			t.Fatalf("orientation %d: %q %v", tc.orientation, ct, err)
		}
		if bytes.Contains(out, []byte(marker)) || bytes.Contains(out, []byte("Exif")) {
			t.Errorf("orientation %d: metadata survived", tc.orientation)
		}
		img, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
			t.Errorf("orientation %d: %v, want %dx%d", tc.orientation, b, tc.w, tc.h)
		}
		red := func(p image.Point) bool {
			r, _, b, _ := img.At(p.X, p.Y).RGBA()
			return r>>8 > 200 && b>>8 < 60
		}
		if !red(tc.redAt) || red(tc.blueAt) {
			t.Errorf("orientation %d: the picture is not upright", tc.orientation)
		}
	}
}

func TestCleanDropsWebPMetadata(t *testing.T) {
	in := picturetest.WebP(16, 16, marker)
	ct, out, err := Clean(in)
	if err != nil || ct != WebP {
		t.Fatalf("Clean: %q %v", ct, err)
	}
	if bytes.Contains(out, []byte(marker)) || bytes.Contains(out, []byte("EXIF")) {
		t.Error("metadata survived")
	}
	if _, cfg, err := Inspect(out); err != nil || cfg.Width != 16 {
		t.Errorf("the clean copy: %+v %v", cfg, err)
	}
	plain := picturetest.WebP(16, 16, "")
	if _, out, err := Clean(plain); err != nil || !bytes.Equal(out, plain) {
		t.Errorf("a WebP without metadata changed: %v", err)
	}
}

func TestCleanDropsGIFComments(t *testing.T) {
	pal := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White})
	pal.SetColorIndex(1, 1, 1)
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, &gif.GIF{Image: []*image.Paletted{pal, pal}, Delay: []int{10, 10}, LoopCount: 0}); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	// A comment after the header and its palette, if any.
	at := 13
	if raw[10]&0x80 != 0 {
		at += 3 << (raw[10]&7 + 1)
	}
	comment := append([]byte{0x21, 0xfe, byte(len(marker))}, marker...)
	comment = append(comment, 0)
	in := append(append(append([]byte(nil), raw[:at]...), comment...), raw[at:]...)
	if _, err := gif.DecodeAll(bytes.NewReader(in)); err != nil {
		t.Fatalf("the test picture is no GIF: %v", err)
	}
	ct, out, err := Clean(in)
	if err != nil || ct != GIF {
		t.Fatalf("Clean: %q %v", ct, err)
	}
	if bytes.Contains(out, []byte(marker)) {
		t.Error("the comment survived")
	}
	g, err := gif.DecodeAll(bytes.NewReader(out))
	if err != nil || len(g.Image) != 2 || g.Delay[1] != 10 {
		t.Errorf("the animation changed: %v", err)
	}
}

func TestCleanRefusesWhatItCannotDecode(t *testing.T) {
	good := picturetest.PNGWithText(marker)
	jpg := picturetest.JPEGWithGPS(marker, 1)
	bomb := func() []byte {
		// A PNG header that promises 20000 × 20000 pixels.
		var b bytes.Buffer
		png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)))
		raw := b.Bytes()
		ihdr := append([]byte(nil), raw[16:29]...)
		binary.BigEndian.PutUint32(ihdr[0:], 20000)
		binary.BigEndian.PutUint32(ihdr[4:], 20000)
		return append(append(append([]byte(nil), raw[:8]...), picturetest.PNGChunk("IHDR", ihdr)...), raw[33:]...)
	}()
	for name, tc := range map[string]struct {
		in   []byte
		want error
	}{
		"svg":              {[]byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), ErrUnsupported},
		"truncated png":    {good[:len(good)-30], ErrUndecodable},
		"png header only":  {good[:40], ErrUndecodable},
		"truncated jpeg":   {jpg[:len(jpg)/2], ErrUndecodable},
		"jpeg magic only":  {[]byte("\xff\xd8\xff\xe0 not really"), ErrUndecodable},
		"webp header only": {picturetest.WebP(16, 16, "")[:24], ErrUndecodable},
		"gif header only":  {[]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ErrUndecodable},
		"huge png":         {bomb, ErrTooManyPixels},
	} {
		if _, _, err := Clean(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}
