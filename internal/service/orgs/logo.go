package orgs

import (
	"bytes"
	"context"
	"io"
	"log/slog"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/org"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// logoKind is the blob kind of logos.
const logoKind = "org-logo"

// Logo is an organisation's logo file.
type Logo struct {
	Bytes []byte
	// ContentType is the type sniffed when the logo was uploaded.
	ContentType string
	// SHA256 is the hex digest of Bytes, a stable entity tag.
	SHA256 string
}

// Logo returns the organisation's logo for one of its members.
func (s *Service) Logo(ctx context.Context, actor service.Actor, orgID string) (Logo, error) {
	o, _, err := s.read(ctx, actor, orgID, org.View)
	if err != nil {
		return Logo{}, err
	}
	if o.LogoKey == "" || s.env.Blobs == nil {
		return Logo{}, errs.E(errs.NotFound, "this organisation has no logo")
	}
	b, info, err := s.env.Blobs.Get(ctx, o.LogoKey)
	if err != nil {
		return Logo{}, err
	}
	return Logo{Bytes: b, ContentType: info.ContentType, SHA256: info.SHA256}, nil
}

// noLogo is the refusal of an upload that holds no image, tied to the
// logo field so a form can show it there.
func noLogo() error {
	return &errs.Error{Code: errs.Invalid, Message: "no image was sent",
		Fields: map[string]string{"logo": "choose a PNG, JPEG or WebP image"}}
}

// SetLogo reads a new logo from r, decides what it is from its bytes,
// stores a copy of its pixels without its metadata and points the organisation at it, for owners and admins.
// Too large gives TooLarge, a type we do not take Unsupported, nothing at
// all Invalid. Errors of r itself are returned as they are.
//
// The blob is written before the transaction, because the blob index is
// written on a connection of its own, which must not wait for a
// transaction that holds the organisation's lock. So the role is read
// first, before anything is read from r or stored, and decided again under
// the lock. When the change fails, the new blob is deleted again; once it
// commits, the logo it replaced is.
func (s *Service) SetLogo(ctx context.Context, actor service.Actor, orgID string, r io.Reader) (org.WithRole, error) {
	accountID, err := member(actor)
	if err != nil {
		return org.WithRole{}, err
	}
	if _, _, err := s.read(ctx, actor, orgID, org.Edit); err != nil {
		return org.WithRole{}, err
	}
	b, err := io.ReadAll(io.LimitReader(r, org.MaxLogoBytes+1))
	if err != nil {
		return org.WithRole{}, err
	}
	if len(b) == 0 {
		return org.WithRole{}, noLogo()
	}
	ct, clean, err := org.SniffLogo(b)
	if err != nil {
		return org.WithRole{}, err
	}
	if s.env.Blobs == nil {
		return org.WithRole{}, errs.E(errs.Unavailable, "file storage is not available")
	}
	// The copy stored holds the pixels without the file's metadata; it
	// may be a little larger than the upload, whose size was checked.
	info, err := s.env.Blobs.Put(ctx, blob.PutInput{Kind: logoKind, ContentType: ct, MaxBytes: int64(len(clean))}, bytes.NewReader(clean))
	if err != nil {
		return org.WithRole{}, err
	}
	o, err := s.setLogo(ctx, accountID, orgID, info.Key)
	if err != nil {
		s.deleteLogo(context.WithoutCancel(ctx), info.Key)
		return org.WithRole{}, err
	}
	return o, nil
}

// RemoveLogo takes the logo away, for owners and admins, and deletes its
// blob once that has committed.
func (s *Service) RemoveLogo(ctx context.Context, actor service.Actor, orgID string) (org.WithRole, error) {
	accountID, err := member(actor)
	if err != nil {
		return org.WithRole{}, err
	}
	return s.setLogo(ctx, accountID, orgID, "")
}

// setLogo points the organisation at the logo blob key, or at none, in
// one transaction, and deletes the blob it replaced after the commit.
func (s *Service) setLogo(ctx context.Context, accountID, orgID, key string) (org.WithRole, error) {
	now := s.env.Now()
	var after org.WithRole
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		before, role, err := lockFor(ctx, tx, orgID, accountID, org.Edit)
		if err != nil {
			return err
		}
		after = org.WithRole{Organisation: before, Role: role}
		old := before.LogoKey
		if old == key {
			return nil
		}
		if err := store.SetOrganisationLogo(ctx, tx, orgID, key, now); err != nil {
			return err
		}
		after.LogoKey, after.UpdatedAt = key, now
		action, detail := "org.logo.set", map[string]string{"logo": key}
		if key == "" {
			action, detail = "org.logo.remove", map[string]string{}
		}
		if old != "" {
			detail["replaced"] = old
		}
		s.deleteLogoAfter(tx, old)
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actorParty(accountID), Action: action, Subject: orgParty(orgID), Purpose: "service", Detail: detail,
		})
	})
	if err != nil {
		return org.WithRole{}, err
	}
	return after, nil
}

// deleteLogoAfter deletes, once tx has committed, a logo blob that the
// change leaves nothing pointing to.
func (s *Service) deleteLogoAfter(tx *service.Tx, key string) {
	if key == "" {
		return
	}
	tx.AfterCommit(func(ctx context.Context) { s.deleteLogo(ctx, key) })
}

// deleteLogo deletes a logo blob that nothing points to. A failure leaves
// an orphan in storage, which is logged by key (a random name) and does
// not fail the use case, whose change has committed or rolled back.
func (s *Service) deleteLogo(ctx context.Context, key string) {
	if key == "" || s.env.Blobs == nil {
		return
	}
	if err := s.env.Blobs.Delete(ctx, key); err != nil && errs.CodeOf(err) != errs.NotFound {
		s.env.Log.LogAttrs(ctx, slog.LevelError, "could not delete a replaced logo", slog.String("key", key), slog.String("error", err.Error()))
	}
}
