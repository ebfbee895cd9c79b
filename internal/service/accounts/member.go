package accounts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/sessionshq/sessions/internal/account"
	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/blob"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/store"
)

// The member area: the profile (the self-service side of rectification),
// the profile picture, the confirmation of a child account by a parent or
// guardian, deactivation and "delete my account".

// AvatarKind is the blob kind profile pictures are stored as.
const AvatarKind = "avatar"

// MemberView is everything the member area shows about a member.
type MemberView struct {
	Account      account.Account
	Profile      account.Profile
	Controllers  []account.Controller
	Restrictions account.Restrictions
	Filled       int
	Total        int
	Requests     []account.AccountRequest
	Guardian     *account.GuardianRequest // the latest guardian link, if any
}

// Member reads the member's account and profile and works out what
// follows from them at the server's time.
func (s *Service) Member(ctx context.Context, accountID string) (MemberView, error) {
	db := s.env.Store.DB
	a, err := store.AccountByID(ctx, db, accountID)
	if err != nil {
		return MemberView{}, err
	}
	p, err := store.GetProfile(ctx, db, accountID)
	if err != nil {
		return MemberView{}, err
	}
	reqs, err := store.AccountRequests(ctx, db, accountID)
	if err != nil {
		return MemberView{}, err
	}
	links, err := store.GuardianRequests(ctx, db, accountID)
	if err != nil {
		return MemberView{}, err
	}
	v := MemberView{
		Account: a, Profile: p, Requests: reqs,
		Controllers:  account.ControllersFor(p.Country),
		Restrictions: account.RestrictionsFor(p, s.env.Clock.Now()),
	}
	if len(links) > 0 {
		v.Guardian = &links[0]
	}
	v.Filled, v.Total = account.Completeness(p)
	return v, nil
}

// SaveProfile checks the member's edit against the stored profile and,
// when it is valid and changes something, writes the name to the account
// and the rest to the profile, with an audit entry naming the changed
// fields and keeping only a keyed digest of each old value. It returns the
// changed fields; a refused edit changes nothing and returns an
// errs.Invalid error with a message per field.
func (s *Service) SaveProfile(ctx context.Context, accountID string, edit account.ProfileEdit) ([]string, error) {
	var changed []string
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		now := s.env.Clock.Now()
		a, err := store.AccountByID(ctx, tx, accountID)
		if err != nil {
			return err
		}
		old, err := store.GetProfile(ctx, tx, accountID)
		if err != nil {
			return err
		}
		name, p, err := edit.Clean(old, now)
		if err != nil {
			return err
		}
		changes := account.Changes(a.Name, old, name, p)
		if len(changes) == 0 {
			return nil
		}
		if name != a.Name {
			if err := store.SetAccountName(ctx, tx, accountID, name, now); err != nil {
				return err
			}
		}
		if err := store.SaveProfile(ctx, tx, p, now); err != nil {
			if errors.Is(err, database.ErrDuplicate) {
				return &errs.Error{Code: errs.Invalid, Message: "some fields are not valid",
					Fields: map[string]string{account.FieldUsername: "is taken; choose another"}}
			}
			return err
		}
		for _, c := range changes {
			changed = append(changed, c.Field)
		}
		return s.audit(ctx, tx, memberParty(accountID), "profile.update", accountID, "account",
			account.AuditDetail(s.env.Secret, changes))
	})
	if err != nil {
		return nil, err
	}
	return changed, nil
}

// SetAvatar checks the picture by its content, stores a copy of its
// pixels without its metadata with the member's id (so that export and
// erasure find it), makes it the profile picture and, once that has
// committed, deletes the one it replaces.
func (s *Service) SetAvatar(ctx context.Context, accountID string, body io.Reader) error {
	blobs := s.env.Blobs
	if blobs == nil {
		return errs.E(errs.Unavailable, "file storage is not available")
	}
	data, err := io.ReadAll(io.LimitReader(body, account.MaxAvatarBytes+1))
	if err != nil {
		return err
	}
	// What is stored is a copy without the file's metadata, which may
	// be larger than the upload: a PNG written again compresses less
	// well than one an optimiser made. The limit is the upload's.
	ct, clean, err := account.CheckAvatar(data)
	if err != nil {
		return err
	}
	info, err := blobs.Put(ctx, blob.PutInput{PersonID: accountID, Kind: AvatarKind, ContentType: ct, MaxBytes: int64(len(clean))}, bytes.NewReader(clean))
	if err != nil {
		return err
	}
	if err := s.setAvatar(ctx, accountID, info.Key); err != nil {
		s.deleteBlob(ctx, info.Key)
		return err
	}
	return nil
}

// RemoveAvatar removes the member's picture.
func (s *Service) RemoveAvatar(ctx context.Context, accountID string) error {
	return s.setAvatar(ctx, accountID, "")
}

// setAvatar makes key, an object already in the blob store, the member's
// picture ("" for none), audited, and deletes the replaced object after
// the commit.
func (s *Service) setAvatar(ctx context.Context, accountID, key string) error {
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		p, err := store.GetProfile(ctx, tx, accountID)
		if err != nil {
			return err
		}
		old := p.AvatarKey
		if old == key {
			return nil
		}
		p.AvatarKey = key
		now := s.env.Clock.Now()
		if err := store.SaveProfile(ctx, tx, p, now); err != nil {
			return err
		}
		if old != "" {
			tx.AfterCommit(func(ctx context.Context) { s.deleteBlob(ctx, old) })
		}
		return s.audit(ctx, tx, memberParty(accountID), "profile.update", accountID, "account",
			account.AuditDetail(s.env.Secret, []account.Change{{Field: account.FieldAvatar, Old: old}}))
	})
}

// deleteBlob removes a picture nobody refers to any more. A failure is
// logged, not returned: the change it follows has committed, and the
// object stays findable by its person id for erasure.
func (s *Service) deleteBlob(ctx context.Context, key string) {
	if s.env.Blobs == nil {
		return
	}
	if err := s.env.Blobs.Delete(context.WithoutCancel(ctx), key); err != nil && errs.CodeOf(err) != errs.NotFound {
		s.env.Log.LogAttrs(ctx, slog.LevelError, "could not delete a replaced picture", slog.String("error", err.Error()))
	}
}

// Picture is a member's profile picture.
type Picture struct {
	Data        []byte
	ContentType string
	Ext         string // the file extension its type has
}

// Avatar returns the member's own picture; errs.NotFound when there is
// none, or the stored object is not one of the member's pictures.
func (s *Service) Avatar(ctx context.Context, accountID string) (Picture, error) {
	prof, err := store.GetProfile(ctx, s.env.Store.DB, accountID)
	if err != nil {
		return Picture{}, err
	}
	if prof.AvatarKey == "" || s.env.Blobs == nil {
		return Picture{}, errs.E(errs.NotFound, "you have no picture")
	}
	data, info, err := s.env.Blobs.Get(ctx, prof.AvatarKey)
	if err != nil {
		return Picture{}, err
	}
	ext, ok := account.AvatarTypes[info.ContentType]
	if !ok || info.PersonID != accountID {
		return Picture{}, errs.E(errs.NotFound, "you have no picture")
	}
	return Picture{Data: data, ContentType: info.ContentType, Ext: ext}, nil
}

// guardianThrottle bounds the confirmation mails one account can send, so
// that the form cannot be used to flood someone's mailbox.
func (s *Service) guardianThrottle(accountID string) service.Throttle {
	return service.Throttle{Key: ratelimit.Key(s.env.Secret, "guardian-mail", accountID), Policy: account.LinkMailThrottle}
}

// AskGuardian sends a parent or guardian the link that confirms a child
// account, superseding the links still pending. It refuses with
// errs.Conflict when the account is not a child account, or a guardian
// has already confirmed, and with errs.Forbidden when the account has not
// confirmed its own address.
func (s *Service) AskGuardian(ctx context.Context, accountID, email string) error {
	a, err := store.AccountByID(ctx, s.env.Store.DB, accountID)
	if err != nil {
		return err
	}
	email, err = account.CleanGuardianEmail(email, a.Email)
	if err != nil {
		return err
	}
	return s.env.InTx(ctx, func(tx *service.Tx) error {
		now := s.env.Clock.Now()
		// Counted in this transaction: a refusal below sends nothing and
		// takes the count back with it.
		if _, err := service.TakeAttempt(ctx, tx, now, s.guardianThrottle(accountID)); err != nil {
			return err
		}
		p, err := store.GetProfile(ctx, tx, accountID)
		if err != nil {
			return err
		}
		r := account.RestrictionsFor(p, now)
		switch {
		case !r.Child:
			return errs.E(errs.Conflict, "this is not a child account, so no confirmation by a parent or guardian is needed")
		case r.GuardianConfirmed:
			return errs.E(errs.Conflict, "a parent or guardian has already confirmed this account")
		}
		// The mail goes to someone else and names the account: only an
		// account that proved its own address may have it sent.
		if !a.Verified() {
			return errs.E(errs.Forbidden, "confirm your own e-mail address before we write to a parent or guardian: follow the link we sent you, or ask for a new one")
		}
		id := account.NewGuardianLinkID()
		expires := now.Add(account.GuardianLinkLifetime)
		token := signed.Make(s.env.Secret, account.GuardianLinkPurpose, id, expires)
		if err := store.AddGuardianRequest(ctx, tx, id, accountID, email, signed.Digest(token), expires, now); err != nil {
			return err
		}
		p.GuardianEmail = email
		if err := store.SaveProfile(ctx, tx, p, now); err != nil {
			return err
		}
		m := guardianMail(a.Name, email, s.linkTo("/guardian/confirm", token))
		m.PersonID = accountID
		if err := s.mail(ctx, tx, m); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, memberParty(accountID), "guardian.request", accountID, "legal-compliance",
			map[string]string{"request": id}); err != nil {
			return err
		}
		return nil
	})
}

// GuardianLink checks a guardian link's signature and expiry and finds its
// pending request; every failure is the same answer. It returns the name
// of the child whose account the link confirms.
func (s *Service) GuardianLink(ctx context.Context, token string) (string, error) {
	g, err := s.guardianLink(ctx, s.env.Store.DB, token)
	if err != nil {
		return "", err
	}
	a, err := store.AccountByID(ctx, s.env.Store.DB, g.AccountID)
	if err != nil {
		return "", err
	}
	return a.Name, nil
}

func (s *Service) guardianLink(ctx context.Context, q database.Querier, token string) (account.GuardianRequest, error) {
	now := s.env.Clock.Now()
	id, err := signed.Check(s.env.Secret, account.GuardianLinkPurpose, token, now)
	if err != nil {
		return account.GuardianRequest{}, store.ErrGuardianLink
	}
	g, err := store.GuardianRequestByDigest(ctx, q, signed.Digest(token), now)
	if err != nil {
		return account.GuardianRequest{}, err
	}
	if g.ID != id {
		return account.GuardianRequest{}, store.ErrGuardianLink
	}
	return g, nil
}

// ConfirmGuardian spends a guardian link and stores the consent evidence,
// naming the version and digest of the very text the page showed. It
// returns the child's name.
func (s *Service) ConfirmGuardian(ctx context.Context, token string) (string, error) {
	var name string
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if _, err := s.guardianLink(ctx, tx, token); err != nil {
			return err
		}
		digest := signed.Digest(token)
		version, sha := account.GuardianNoticeVersion, account.GuardianNoticeDigest()
		g, err := store.ConfirmGuardianConsent(ctx, tx, digest, version, sha, s.env.Clock.Now())
		if err != nil {
			return err
		}
		if err := tx.Audit(ctx, audit.Entry{
			At: s.env.Clock.Now(), Actor: audit.Party{Kind: "guardian", ID: g.ID}, Action: "guardian.confirm",
			Subject: memberParty(g.AccountID), Purpose: "legal-compliance",
			Detail: map[string]string{"request": g.ID, "notice_version": version, "notice_sha256": sha, "token_digest": digest},
		}); err != nil {
			return err
		}
		a, err := store.AccountByID(ctx, tx, g.AccountID)
		name = a.Name
		return err
	})
	return name, err
}

// GraceDays is how many days a deactivated account can come back by
// signing in.
func (s *Service) GraceDays() int {
	g := s.env.Config.ReactivationGrace
	if g <= 0 {
		g = account.DefaultReactivationGrace
	}
	return int(g / (24 * time.Hour))
}

// Deactivate hides the member's active account and signs it out
// everywhere, and tells them by mail how to come back. It returns the
// time before which signing in brings the account back.
func (s *Service) Deactivate(ctx context.Context, accountID string) (time.Time, error) {
	days := s.GraceDays()
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		now := s.env.Clock.Now()
		a, err := store.AccountByID(ctx, tx, accountID)
		if err != nil {
			return err
		}
		ended, err := store.DeactivateAccount(ctx, tx, accountID, now)
		if err != nil {
			return err
		}
		m := deactivatedMail(a.Email, days, s.base())
		m.PersonID = accountID
		if err := s.mail(ctx, tx, m); err != nil {
			return err
		}
		return s.audit(ctx, tx, memberParty(accountID), "account.deactivate", accountID, "account",
			map[string]string{"sessions_ended": fmt.Sprint(ended)})
	})
	if err != nil {
		return time.Time{}, err
	}
	return s.env.Clock.Now().Add(time.Duration(days) * 24 * time.Hour).UTC(), nil
}

// reactivateIfDeactivated is what sign-in does once the member has proved
// who they are. A deactivated account becomes active again, audited, when
// it was deactivated less than the grace period ago, and it reports true;
// an active account is left alone and it reports false. A deactivated
// account past its grace period, or one waiting for erasure, gives
// errs.Forbidden with a message for the member, and sign-in must stop
// there.
func (s *Service) reactivateIfDeactivated(ctx context.Context, tx *service.Tx, accountID string) (bool, error) {
	now := s.env.Clock.Now()
	a, err := store.AccountByID(ctx, tx, accountID)
	if err != nil {
		return false, err
	}
	switch a.Status {
	case account.Active:
		return false, nil
	case account.ErasurePending:
		return false, errs.E(errs.Forbidden, "this account is being deleted at your request; write to us if you want to stop that")
	case account.Deactivated:
	default:
		return false, fmt.Errorf("account %s has unknown status %q", accountID, a.Status)
	}
	if a.DeactivatedAt == nil || !account.CanReactivate(a.DeactivatedAt.UTC(), now, s.env.Config.ReactivationGrace) {
		return false, errs.E(errs.Forbidden, "this account was deactivated too long ago to come back by signing in; write to us if you want it back")
	}
	ok, err := store.ReactivateAccount(ctx, tx, accountID, now)
	if err != nil || !ok {
		return false, err
	}
	return true, s.audit(ctx, tx, memberParty(accountID), "account.reactivate", accountID, "account", nil)
}

// RequestErasure records the member's request to delete their account,
// due one calendar month after it was received; the account is
// deactivated and signed out until the request is carried out, and the
// member gets a confirmation by mail.
func (s *Service) RequestErasure(ctx context.Context, accountID string) (account.AccountRequest, error) {
	var req account.AccountRequest
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		now := s.env.Clock.Now()
		a, err := store.AccountByID(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if req, err = store.OpenAccountErasure(ctx, tx, accountID, now); err != nil {
			return err
		}
		m := erasureReceivedMail(a.Email, req.ID, req.DueAt, s.base())
		m.PersonID = accountID
		if err := s.mail(ctx, tx, m); err != nil {
			return err
		}
		return s.audit(ctx, tx, memberParty(accountID), "account.erasure_request", accountID, "legal-compliance",
			map[string]string{"request": req.ID, "due_at": req.DueAt.Format(time.RFC3339)})
	})
	if err != nil {
		return account.AccountRequest{}, err
	}
	return req, nil
}
