// Package picture decides what an uploaded picture is from its bytes, never
// from the file name or the type the upload claimed, and makes the copy of
// it that is stored: its pixels without the metadata beside them (see
// Clean). Only PNG, JPEG and WebP, and for meeting files GIF, are pictures
// here: SVG is a document that can carry script.
package picture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/webp"
)

// Accepted media types.
const (
	PNG  = "image/png"
	JPEG = "image/jpeg"
	WebP = "image/webp"
)

var (
	// ErrUnsupported is anything that does not start like PNG, JPEG or WebP.
	ErrUnsupported = errors.New("picture: not a PNG, JPEG or WebP file")
	// ErrUnreadable is a file that starts like one but whose header is broken.
	ErrUnreadable = errors.New("picture: unreadable header")
)

// Inspect returns the media type and dimensions of a picture, reading only
// its header.
func Inspect(b []byte) (contentType string, cfg image.Config, err error) {
	r := bytes.NewReader(b)
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		contentType = PNG
		cfg, err = png.DecodeConfig(r)
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		contentType = JPEG
		cfg, err = jpeg.DecodeConfig(r)
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		contentType = WebP
		// The RIFF size covers the whole file: anything else is a
		// truncated file or something appended to one, which the
		// header-only decoder would not notice.
		if int64(binary.LittleEndian.Uint32(b[4:8]))+8 != int64(len(b)) {
			return "", image.Config{}, ErrUnreadable
		}
		cfg, err = webp.DecodeConfig(r)
	default:
		return "", image.Config{}, ErrUnsupported
	}
	if err != nil || cfg.Width < 1 || cfg.Height < 1 {
		return "", image.Config{}, ErrUnreadable
	}
	return contentType, cfg, nil
}
