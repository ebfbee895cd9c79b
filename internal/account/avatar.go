package account

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"image/png"

	"github.com/sessionshq/sessions/internal/errs"
)

// Profile pictures are PNG, JPEG or WebP files of at most 2 MB and 4096
// pixels a side. The type is read from the bytes, never from the name or
// type the upload claimed; SVG is not accepted, since an SVG file is a
// document that can carry script.
const (
	MaxAvatarBytes = 2 << 20
	MaxAvatarSide  = 4096
)

// AvatarTypes maps each accepted media type to its file extension.
var AvatarTypes = map[string]string{"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}

// CheckAvatar returns the media type of a profile picture, or an
// errs.Invalid error with a message for the avatar field.
func CheckAvatar(b []byte) (string, error) {
	bad := func(msg string) error {
		return &errs.Error{Code: errs.Invalid, Message: "the picture was not accepted", Fields: map[string]string{FieldAvatar: msg}}
	}
	if len(b) == 0 {
		return "", bad("choose a PNG, JPEG or WebP picture to upload")
	}
	if len(b) > MaxAvatarBytes {
		return "", bad("must be at most 2 MB")
	}
	var (
		cfg image.Config
		ct  string
		err error
	)
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		ct = "image/png"
		cfg, err = png.DecodeConfig(bytes.NewReader(b))
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		ct = "image/jpeg"
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(b))
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		ct = "image/webp"
		cfg, err = webpSize(b)
	default:
		return "", bad("must be a PNG, JPEG or WebP picture")
	}
	if err != nil {
		return "", bad("is not a readable PNG, JPEG or WebP picture")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxAvatarSide || cfg.Height > MaxAvatarSide {
		return "", bad("must be at most 4096 pixels wide and high")
	}
	return ct, nil
}

var errWebPHeader = errs.E(errs.Invalid, "not a WebP image")

// webpSize reads a WebP image's dimensions from its first chunk (VP8,
// VP8L or VP8X); the standard library has no WebP decoder.
func webpSize(b []byte) (image.Config, error) {
	if len(b) < 30 || int64(binary.LittleEndian.Uint32(b[4:8]))+8 != int64(len(b)) {
		// The RIFF size covers the whole file; anything else is truncated
		// or has something appended.
		return image.Config{}, errWebPHeader
	}
	body := b[20:]
	switch string(b[12:16]) {
	case "VP8 ":
		if len(body) < 10 || body[3] != 0x9d || body[4] != 0x01 || body[5] != 0x2a {
			return image.Config{}, errWebPHeader
		}
		return image.Config{Width: int(binary.LittleEndian.Uint16(body[6:8]) & 0x3fff),
			Height: int(binary.LittleEndian.Uint16(body[8:10]) & 0x3fff)}, nil
	case "VP8L":
		if len(body) < 5 || body[0] != 0x2f {
			return image.Config{}, errWebPHeader
		}
		bits := binary.LittleEndian.Uint32(body[1:5])
		return image.Config{Width: int(bits&0x3fff) + 1, Height: int(bits>>14&0x3fff) + 1}, nil
	case "VP8X":
		if len(body) < 10 {
			return image.Config{}, errWebPHeader
		}
		return image.Config{Width: int(uint32(body[4])|uint32(body[5])<<8|uint32(body[6])<<16) + 1,
			Height: int(uint32(body[7])|uint32(body[8])<<8|uint32(body[9])<<16) + 1}, nil
	}
	return image.Config{}, errWebPHeader
}
