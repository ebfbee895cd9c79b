package org

import (
	"errors"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/picture"
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
	PNG  = picture.PNG
	JPEG = picture.JPEG
	WebP = picture.WebP
)

// SniffLogo decides what a logo file is from its content, never from the
// name or type the uploader claimed, checks that it is a whole image of a
// type we accept, and returns the copy to store, without the metadata the
// file carried (picture.Clean). It returns errs.TooLarge for a file over
// MaxLogoBytes, errs.Unsupported for anything else than PNG, JPEG or
// WebP, and errs.Invalid for a file that starts like one of them but
// cannot be decoded as one.
func SniffLogo(b []byte) (contentType string, clean []byte, err error) {
	if len(b) > MaxLogoBytes {
		return "", nil, errs.E(errs.TooLarge, "the logo is larger than 1 MB")
	}
	unreadable := &errs.Error{Code: errs.Invalid, Message: "the logo is not a readable image",
		Fields: map[string]string{"logo": "is not a readable PNG, JPEG or WebP image"}}
	ct, cfg, err := picture.Inspect(b)
	if errors.Is(err, picture.ErrUnsupported) {
		return "", nil, errs.E(errs.Unsupported, "the logo must be a PNG, JPEG or WebP image")
	}
	if err != nil {
		return "", nil, unreadable
	}
	if cfg.Width > MaxLogoSide || cfg.Height > MaxLogoSide {
		return "", nil, &errs.Error{Code: errs.Invalid, Message: "the logo's size is out of range",
			Fields: map[string]string{"logo": "must be at most 4096 pixels wide and high"}}
	}
	if ct, clean, err = picture.Clean(b); err != nil {
		return "", nil, unreadable
	}
	return ct, clean, nil
}
