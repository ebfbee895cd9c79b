package org

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"image/png"

	"github.com/sessionshq/sessions/internal/errs"
)

// MaxLogoBytes bounds a logo file. A logo is shown small; a megabyte is
// plenty for one and keeps uploads cheap to store and to serve.
const MaxLogoBytes = 1 << 20

// MaxLogoSide bounds a logo's width and height in pixels, so that a small
// file cannot ask a browser to decode a gigantic image.
const MaxLogoSide = 4096

// Logo types that may be uploaded. SVG is not among them: an SVG file is a
// document that can carry script and links, not just a picture.
const (
	PNG  = "image/png"
	JPEG = "image/jpeg"
	WebP = "image/webp"
)

// SniffLogo decides what a logo file is from its content, never from the
// name or type the uploader claimed, and checks that it is a whole image
// header of a type we accept. It returns errs.TooLarge for a file over
// MaxLogoBytes and errs.Unsupported for anything else than PNG, JPEG or
// WebP.
func SniffLogo(b []byte) (string, error) {
	if len(b) > MaxLogoBytes {
		return "", errs.E(errs.TooLarge, "the logo is larger than 1 MB")
	}
	unsupported := errs.E(errs.Unsupported, "the logo must be a PNG, JPEG or WebP image")
	var (
		cfg image.Config
		ct  string
		err error
	)
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		ct = PNG
		cfg, err = png.DecodeConfig(bytes.NewReader(b))
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		ct = JPEG
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(b))
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		ct = WebP
		cfg, err = webpConfig(b)
	default:
		return "", unsupported
	}
	if err != nil {
		return "", errs.E(errs.Unsupported, "the logo is not a readable PNG, JPEG or WebP image")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxLogoSide || cfg.Height > MaxLogoSide {
		return "", &errs.Error{Code: errs.Invalid, Message: "the logo's size is out of range",
			Fields: map[string]string{"logo": "must be at most 4096 pixels wide and high"}}
	}
	return ct, nil
}

// errWebP is any malformation of a WebP header.
var errWebP = errs.E(errs.Unsupported, "not a WebP image")

// webpConfig reads the dimensions of a WebP image from its first chunk,
// which is one of VP8 (lossy), VP8L (lossless) or VP8X (extended); the
// standard library has no WebP decoder.
func webpConfig(b []byte) (image.Config, error) {
	if len(b) < 30 {
		return image.Config{}, errWebP
	}
	if riff := binary.LittleEndian.Uint32(b[4:8]); int64(riff)+8 != int64(len(b)) {
		// The RIFF size covers the whole file; anything else is a
		// truncated file or something appended to it.
		return image.Config{}, errWebP
	}
	chunk, body := string(b[12:16]), b[20:]
	switch chunk {
	case "VP8 ":
		// A key frame: 3 bytes of frame tag, the start code, then 14-bit
		// width and height.
		if len(body) < 10 || body[3] != 0x9d || body[4] != 0x01 || body[5] != 0x2a {
			return image.Config{}, errWebP
		}
		w := int(binary.LittleEndian.Uint16(body[6:8]) & 0x3fff)
		h := int(binary.LittleEndian.Uint16(body[8:10]) & 0x3fff)
		return image.Config{Width: w, Height: h}, nil
	case "VP8L":
		// A signature byte, then width-1 and height-1 in 14 bits each.
		if len(body) < 5 || body[0] != 0x2f {
			return image.Config{}, errWebP
		}
		bits := binary.LittleEndian.Uint32(body[1:5])
		return image.Config{Width: int(bits&0x3fff) + 1, Height: int(bits>>14&0x3fff) + 1}, nil
	case "VP8X":
		// Flags and reserved bytes, then canvas width-1 and height-1 in
		// 24 bits each.
		if len(body) < 10 {
			return image.Config{}, errWebP
		}
		w := int(uint32(body[4])|uint32(body[5])<<8|uint32(body[6])<<16) + 1
		h := int(uint32(body[7])|uint32(body[8])<<8|uint32(body[9])<<16) + 1
		return image.Config{Width: w, Height: h}, nil
	}
	return image.Config{}, errWebP
}
