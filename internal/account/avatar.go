package account

import (
	"errors"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/picture"
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

// CheckAvatar returns the media type of a profile picture and the copy of
// it to store, without the metadata its file carried (picture.Clean), or
// an errs.Invalid error with a message for the avatar field.
func CheckAvatar(b []byte) (contentType string, clean []byte, err error) {
	bad := func(msg string) error {
		return &errs.Error{Code: errs.Invalid, Message: "the picture was not accepted", Fields: map[string]string{FieldAvatar: msg}}
	}
	if len(b) == 0 {
		return "", nil, bad("choose a PNG, JPEG or WebP picture to upload")
	}
	if len(b) > MaxAvatarBytes {
		return "", nil, bad("must be at most 2 MB")
	}
	ct, cfg, err := picture.Inspect(b)
	if errors.Is(err, picture.ErrUnsupported) {
		return "", nil, bad("must be a PNG, JPEG or WebP picture")
	}
	if err != nil {
		return "", nil, bad("is not a readable PNG, JPEG or WebP picture")
	}
	if cfg.Width > MaxAvatarSide || cfg.Height > MaxAvatarSide {
		return "", nil, bad("must be at most 4096 pixels wide and high")
	}
	if ct, clean, err = picture.Clean(b); err != nil {
		return "", nil, bad("is not a readable PNG, JPEG or WebP picture")
	}
	return ct, clean, nil
}
