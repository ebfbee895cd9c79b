package dsr

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/database"
	"github.com/sessionshq/sessions/internal/platform/mail"
	"github.com/sessionshq/sessions/internal/platform/ratelimit"
	"github.com/sessionshq/sessions/internal/privacy/audit"
	"github.com/sessionshq/sessions/internal/privacy/rights"
	"github.com/sessionshq/sessions/internal/service"
	"github.com/sessionshq/sessions/internal/staff"
	"github.com/sessionshq/sessions/internal/store"
)

// Data-subject requests: a signed-in member files one from the privacy
// centre with no further proof of who they are; anyone else uses the
// public form and types the code e-mailed to them; staff record the ones
// that came by e-mail or post, and work the queue. Every step is
// audited, with the request as its subject, and the person is e-mailed
// through the outbox, both in the step's transaction.

func requestParty(id string) audit.Party { return audit.Party{Kind: "request", ID: id} }

func rightsDetail(r rights.Request) string {
	parts := make([]string, 0, len(r.Rights))
	for _, x := range r.Rights {
		parts = append(parts, string(x))
	}
	return strings.Join(parts, ",")
}

// mailRequestStep queues the message telling the person about the step;
// without any address (a letter staff recorded with none) nothing is
// queued. It returns the outbox id, or "".
func (s *Service) mailRequestStep(ctx context.Context, tx *service.Tx, r rights.Request, a rights.RequestAction) (string, error) {
	to, err := store.RequestAddress(ctx, tx, r)
	if err != nil || to == "" {
		return "", err
	}
	subject, text := r.Notice(a)
	return tx.Mail(ctx, mail.Message{
		PersonID: r.AccountID, Category: mail.Transactional, Template: "rights.request_" + string(a),
		To: to, Subject: subject, Text: text,
	})
}

// FileMemberRequest files the signed-in member's own request; in is
// cleaned here. The receipt is audited and acknowledged by e-mail.
func (s *Service) FileMemberRequest(ctx context.Context, accountID string, in rights.Intake) (rights.Request, error) {
	in.Channel = rights.ChannelAccount
	if accountID == "" {
		return rights.Request{}, errs.E(errs.Unauthorized, "sign in first")
	}
	return s.fileRequest(ctx, memberParty(accountID), accountID, in)
}

// RecordRequest files a request staff received by e-mail or post; it is
// linked to the account that has the address, if any.
func (s *Service) RecordRequest(ctx context.Context, actor service.Actor, in rights.Intake) (rights.Request, error) {
	if err := actor.Require(staff.HandleRightsRequests); err != nil {
		return rights.Request{}, err
	}
	if in.Channel != rights.ChannelEmail && in.Channel != rights.ChannelPost {
		return rights.Request{}, &errs.Error{Code: errs.Invalid, Message: "some fields are not valid",
			Fields: map[string]string{rights.FieldChannel: "must be email or post"}}
	}
	return s.fileRequest(ctx, actor.Staff(), "", in)
}

// fileRequest opens a request at once. The due date runs from
// in.ReceivedAt, or now.
func (s *Service) fileRequest(ctx context.Context, actor audit.Party, accountID string, in rights.Intake) (rights.Request, error) {
	now := s.env.Now()
	if err := in.Clean(*s.env.Map, now); err != nil {
		return rights.Request{}, err
	}
	received := now
	if !in.ReceivedAt.IsZero() {
		received = in.ReceivedAt.UTC()
	}
	r := rights.Request{
		ID: rights.NewRequestID(), AccountID: accountID, Email: in.Email, Kind: rights.KindRights, Rights: in.Rights,
		Channel: in.Channel, State: rights.StateReceived, Details: in.Details, Field: in.Field, Statement: in.Statement,
		ReceivedAt: received, DueAt: rights.DueAfterExtension(received, 0), UpdatedAt: now,
	}
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if r.AccountID == "" {
			id, err := store.AccountIDByEmail(ctx, tx, r.Email)
			if err != nil {
				return err
			}
			r.AccountID = id
		}
		if err := store.InsertRequest(ctx, tx, r, "", time.Time{}); err != nil {
			return err
		}
		if _, err := s.mailRequestStep(ctx, tx, r, rights.ActVerify); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actor, Action: "request.receive", Subject: requestParty(r.ID), Purpose: "legal-compliance",
			Detail: map[string]string{"rights": rightsDetail(r), "channel": string(r.Channel), "due_at": r.DueAt.Format(time.RFC3339)},
		})
	})
	if err != nil {
		return rights.Request{}, err
	}
	s.log().LogAttrs(ctx, slog.LevelInfo, "rights request filed", slog.String("request", r.ID), slog.String("channel", string(r.Channel)))
	return r, nil
}

// OpenVerification records a request from the public form in state
// verifying, with the digest of a fresh code that is e-mailed to the
// address given. It answers the same way whoever the address belongs to;
// past rights.VerifyingPerAddress unverified requests within
// rights.VerifyingWindow it records and sends nothing, and still returns
// a fresh id, so that the form can neither flood a mailbox nor tell
// anything apart. It returns the id the code is typed against.
func (s *Service) OpenVerification(ctx context.Context, in rights.Intake) (string, error) {
	in.Channel = rights.ChannelWebForm
	now := s.env.Now()
	if err := in.Clean(*s.env.Map, now); err != nil {
		return "", err
	}
	r := rights.Request{
		ID: rights.NewRequestID(), Email: in.Email, Kind: rights.KindRights, Rights: in.Rights, Channel: in.Channel,
		State: rights.StateVerifying, Details: in.Details, Field: in.Field, Statement: in.Statement,
		ReceivedAt: now, DueAt: rights.DueAfterExtension(now, 0), UpdatedAt: now,
	}
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		pending, err := store.VerifyingSince(ctx, tx, r.Email, now.Add(-rights.VerifyingWindow))
		if err != nil || pending >= rights.VerifyingPerAddress {
			return err
		}
		code := rights.NewCode()
		if err := store.InsertRequest(ctx, tx, r, rights.CodeDigest(s.env.Secret, r.ID, code), now.Add(rights.CodeLife)); err != nil {
			return err
		}
		subject, text := rights.CodeNotice(code)
		_, err = tx.Mail(ctx, mail.Message{Category: mail.Transactional, Template: "rights.request_code", To: r.Email, Subject: subject, Text: text,
			Secrets: []string{code}})
		return err
	})
	if err != nil {
		return "", err
	}
	return r.ID, nil
}

// errWrongCode is the one answer to every code that does not open a
// request: wrong, expired, or for no such request.
func errWrongCode() error {
	return &errs.Error{Code: errs.Invalid, Message: "this code does not work",
		Fields: map[string]string{"code": "is wrong or has expired; start again from the form for a new one"}}
}

// VerifyRequest opens the public form's request id when code is its code,
// typed within rights.CodeLife and among the first rights.CodeAttempts
// tries. Each try of a request waiting for its code is counted before the
// code is compared, in a transaction of its own, so that concurrent tries
// cannot pass the limit; past it, the request refuses with errs.RateLimited
// until its code has expired. The request is then received, due one month
// from now, linked to the account that has the address, audited and
// acknowledged by e-mail. Any other failure gives the same errs.Invalid.
func (s *Service) VerifyRequest(ctx context.Context, id, code string) (rights.Request, error) {
	now := s.env.Now()
	// Only tries of a request that waits for its code are counted, so
	// that made-up ids leave no counters behind.
	if _, err := store.VerifyingRequest(ctx, s.env.Store.DB, id); errors.Is(err, database.ErrNotFound) {
		return rights.Request{}, errWrongCode()
	} else if err != nil {
		return rights.Request{}, err
	}
	codeT := service.Throttle{Key: ratelimit.Key(s.env.Secret, "request-code", id), Policy: rights.CodeThrottle}
	if _, err := s.env.Attempt(ctx, codeT); errs.CodeOf(err) == errs.RateLimited {
		return rights.Request{}, &errs.Error{Code: errs.RateLimited,
			Message: "this code was tried too often; start again from the form for a new one"}
	} else if err != nil {
		return rights.Request{}, err
	}
	var (
		r     rights.Request
		wrong bool
	)
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		v, err := store.VerifyingRequest(ctx, tx, id)
		if errors.Is(err, database.ErrNotFound) {
			wrong = true
			return nil
		}
		if err != nil {
			return err
		}
		if v.Digest == "" || v.Expires == nil || !now.Before(*v.Expires) || !rights.CodeMatches(s.env.Secret, v.Request.ID, code, v.Digest) {
			wrong = true
			return nil
		}
		if r, err = v.Request.Apply(rights.RequestStep{Action: rights.ActVerify}, now); err != nil {
			return err
		}
		if r.AccountID, err = store.AccountIDByEmail(ctx, tx, r.Email); err != nil {
			return err
		}
		// A concurrent try with the right code may have opened the
		// request first; it is opened, acknowledged and audited once.
		if err := store.OpenVerifiedRequest(ctx, tx, r, now); errors.Is(err, database.ErrNotFound) {
			wrong = true
			return nil
		} else if err != nil {
			return err
		}
		if err := store.ClearThrottle(ctx, tx, codeT.Key); err != nil {
			return err
		}
		if _, err := s.mailRequestStep(ctx, tx, r, rights.ActVerify); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: audit.Party{Kind: "anonymous"}, Action: "request.receive", Subject: requestParty(r.ID), Purpose: "legal-compliance",
			Detail: map[string]string{"rights": rightsDetail(r), "channel": string(r.Channel), "due_at": r.DueAt.Format(time.RFC3339)},
		})
	})
	if err != nil {
		return rights.Request{}, err
	}
	if wrong {
		return rights.Request{}, errWrongCode()
	}
	s.log().LogAttrs(ctx, slog.LevelInfo, "rights request filed", slog.String("request", r.ID), slog.String("channel", string(r.Channel)))
	return r, nil
}

// MyRequests lists the member's requests, newest first.
func (s *Service) MyRequests(ctx context.Context, accountID string) ([]rights.Request, error) {
	return store.RequestsOf(ctx, s.env.Store.DB, accountID)
}

// MyRequest returns the member's own request; another person's, or an
// unknown id, gives errs.NotFound alike.
func (s *Service) MyRequest(ctx context.Context, accountID, id string) (rights.Request, error) {
	return store.RequestOf(ctx, s.env.Store.DB, accountID, id)
}

// Queue is the staff queue of requests.
type Queue struct {
	Requests []rights.Request
	// Counts are the requests in each state.
	Counts map[rights.RequestState]int
}

// RequestQueue lists the requests in state (the open ones when state is
// ""), soonest due first, with the number of requests in each state.
func (s *Service) RequestQueue(ctx context.Context, actor service.Actor, state rights.RequestState) (Queue, error) {
	if err := actor.Require(staff.HandleRightsRequests); err != nil {
		return Queue{}, err
	}
	if state != "" && !slices.Contains(rights.AllStates, state) {
		return Queue{}, &errs.Error{Code: errs.Invalid, Message: "unknown state", Fields: map[string]string{"state": "must be one of the request states"}}
	}
	list, counts, err := store.RequestQueue(ctx, s.env.Store.DB, state)
	return Queue{Requests: list, Counts: counts}, err
}

// StaffRequest is a request as staff work on it.
type StaffRequest struct {
	Request rights.Request
	// History is the request's audit trail, oldest first.
	History []audit.Record
	// Previous are the same person's other requests, newest first, so
	// that staff can see repeats when deciding whether one is excessive.
	Previous []rights.Request
	// Restricted is whether the person's restriction is in force, for
	// the "lift" action.
	Restricted bool
}

// ViewRequest is staff opening a request: it is read with its history
// and the person's other requests, and that staff looked at it, which
// shows who asked, is audited first.
func (s *Service) ViewRequest(ctx context.Context, actor service.Actor, id string) (StaffRequest, error) {
	return s.staffRequest(ctx, actor, id, true)
}

// StaffRequest reads a request as ViewRequest does, without recording
// another look: the page shown again after a step staff got wrong.
func (s *Service) StaffRequest(ctx context.Context, actor service.Actor, id string) (StaffRequest, error) {
	return s.staffRequest(ctx, actor, id, false)
}

func (s *Service) staffRequest(ctx context.Context, actor service.Actor, id string, view bool) (StaffRequest, error) {
	var d StaffRequest
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(staff.HandleRightsRequests); err != nil {
			return err
		}
		req, err := store.GetRequest(ctx, tx, id)
		if err != nil {
			return err
		}
		if view {
			if err := tx.Audit(ctx, audit.Entry{At: s.env.Now(), Actor: actor.Staff(), Action: "request.view",
				Subject: requestParty(id), Purpose: "legal-compliance"}); err != nil {
				return err
			}
		}
		d.Request = req
		if d.History, err = store.RequestHistory(ctx, tx, id); err != nil {
			return err
		}
		if d.Previous, err = store.PreviousRequests(ctx, tx, req); err != nil {
			return err
		}
		if req.AccountID != "" {
			if d.Restricted, err = store.Restricted(ctx, tx, req.AccountID); err != nil {
				return err
			}
		}
		return nil
	})
	return d, err
}

// AdvanceRequest takes a staff step on a request (rights.Request.Apply
// says which are allowed) and sets going what the request asks for:
//
//   - start: an export per copy asked for (one already being built is
//     reused), the restriction flag, and the erasure, unless the request
//     also asks for a copy, which the erasure would destroy: then the
//     erasure starts on completion;
//   - complete: the supplementary statement, kept with the data it
//     completes, and a deferred erasure.
//
// A restriction that comes into force and a completed rectification are
// notified to each recipient of the person's data (Art. 19 GDPR) in the
// same transaction; an erasure notifies them when it starts.
//
// Exports and restriction need the person's account; for a person
// without one, staff send what is asked by other means. The step is
// audited and the person e-mailed in the same transaction; the erasure
// engine completes a request whose erasure it finishes.
func (s *Service) AdvanceRequest(ctx context.Context, actor service.Actor, id string, step rights.RequestStep) (rights.Request, error) {
	if !slices.Contains(rights.StaffActions, step.Action) {
		return rights.Request{}, &errs.Error{Code: errs.Invalid, Message: "unknown action",
			Fields: map[string]string{"action": "must be start, extend, complete, refuse or lift-restriction"}}
	}
	var next rights.Request
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(staff.HandleRightsRequests); err != nil {
			return err
		}
		now := s.env.Now()
		cur, err := store.GetRequest(ctx, tx, id)
		if err != nil {
			return err
		}
		if next, err = cur.Apply(step, now); err != nil {
			return err
		}
		var exports []string
		if step.Action == rights.ActStart && cur.AccountID != "" {
			for _, kind := range []rights.Right{rights.RightAccess, rights.RightPortability} {
				if !cur.Has(kind) {
					continue
				}
				x, err := s.requestExport(ctx, tx, memberParty(cur.AccountID), cur.AccountID, string(kind))
				if err != nil {
					return err
				}
				exports = append(exports, x.ID)
			}
		}
		if err := store.UpdateRequestStep(ctx, tx, cur, next, now); err != nil {
			return err
		}
		erase := (step.Action == rights.ActStart && cur.Has(rights.RightErasure) && !cur.WantsCopy()) ||
			(step.Action == rights.ActComplete && cur.Has(rights.RightErasure) && cur.WantsCopy())
		if step.Action == rights.ActStart && cur.Has(rights.RightRestriction) && cur.AccountID != "" {
			ids, err := s.env.Store.RestrictAndNotify(ctx, tx, *s.env.Map, actor.Staff(), cur.AccountID, true, now)
			if err != nil {
				return err
			}
			tx.Deliver(ids...)
		}
		person := rights.Person{AccountID: cur.AccountID}
		if cur.Email != "" {
			person.Emails = []string{cur.Email}
		}
		if step.Action == rights.ActComplete && cur.Has(rights.RightRectification) && !person.Empty() {
			if err := s.notifyRecipients(ctx, tx, person, rights.ChangeRectification); err != nil {
				return err
			}
		}
		if step.Action == rights.ActComplete && cur.Statement != "" && cur.Field != "" && cur.AccountID != "" {
			if err := store.InsertStatement(ctx, tx, cur, now); err != nil {
				return err
			}
		}
		// The message goes out before the erasure can clear the address.
		if _, err := s.mailRequestStep(ctx, tx, next, step.Action); err != nil {
			return err
		}
		detail := map[string]string{"from": string(cur.State), "to": string(next.State), "due_at": next.DueAt.Format(time.RFC3339)}
		if len(exports) > 0 {
			detail["exports"] = strings.Join(exports, ",")
		}
		if erase {
			run, err := s.StartErasure(ctx, tx, person, rights.ReasonRequest, cur.ID)
			if err != nil {
				return err
			}
			detail["erasure_run"] = run
		}
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actor.Staff(), Action: "request." + string(step.Action), Subject: requestParty(id), Purpose: "legal-compliance", Detail: detail,
		})
	})
	if err != nil {
		return rights.Request{}, err
	}
	s.log().LogAttrs(ctx, slog.LevelInfo, "rights request step", slog.String("request", id), slog.String("action", string(step.Action)),
		slog.String("state", string(next.State)))
	return next, nil
}

// NoticeRestrictionLift tells the person behind a request for restriction
// that the restriction is about to be lifted. The lift itself waits for
// the message to be sent (LiftNoticedRestrictions), so nobody loses the
// restriction without having been told first. It returns the request.
func (s *Service) NoticeRestrictionLift(ctx context.Context, actor service.Actor, id string) (rights.Request, error) {
	var r rights.Request
	err := s.env.InTx(ctx, func(tx *service.Tx) error {
		if err := actor.Require(staff.HandleRightsRequests); err != nil {
			return err
		}
		now := s.env.Now()
		var err error
		if r, err = store.GetRequest(ctx, tx, id); err != nil {
			return err
		}
		if !r.Has(rights.RightRestriction) || r.AccountID == "" {
			return errs.E(errs.Conflict, "this request restricted no account")
		}
		if r.LiftMail != "" {
			return errs.E(errs.Conflict, "the person has already been told; the restriction is lifted once the message is sent")
		}
		on, err := store.Restricted(ctx, tx, r.AccountID)
		if err != nil {
			return err
		}
		if !on {
			return errs.E(errs.Conflict, "the restriction is not in force")
		}
		to, err := store.RequestAddress(ctx, tx, r)
		if err != nil {
			return err
		}
		if to == "" {
			return errs.E(errs.Conflict, "the person has no address to be told at")
		}
		subject, text := r.LiftNotice()
		mailID, err := tx.Mail(ctx, mail.Message{
			PersonID: r.AccountID, Category: mail.Transactional, Template: "rights.restriction_lift", To: to, Subject: subject, Text: text,
		})
		if err != nil {
			return err
		}
		if err := store.SetLiftMail(ctx, tx, id, mailID, now); err != nil {
			return err
		}
		r.LiftMail, r.UpdatedAt = mailID, now
		return tx.Audit(ctx, audit.Entry{
			At: now, Actor: actor.Staff(), Action: "request.restriction_lift_notice", Subject: requestParty(id), Purpose: "legal-compliance",
			Detail: map[string]string{"message": mailID},
		})
	})
	return r, err
}

// LiftNoticedRestrictions lifts every restriction whose announcement has
// been sent, each in one transaction with its audit entry, and returns
// how many it lifted. A message that could not be delivered keeps the
// restriction in force.
func (s *Service) LiftNoticedRestrictions(ctx context.Context) (int, error) {
	lifts, err := store.NoticedLifts(ctx, s.env.Store.DB)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range lifts {
		err := s.env.InTx(ctx, func(tx *service.Tx) error {
			now := s.env.Now()
			lifted, err := s.env.Store.LiftNoticed(ctx, tx, l, now)
			if err != nil || !lifted {
				return err
			}
			n++
			return tx.Audit(ctx, audit.Entry{
				At: now, Actor: audit.Party{Kind: "system"}, Action: "request.restriction_lifted", Subject: requestParty(l.RequestID), Purpose: "legal-compliance",
			})
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// SweepRequests is the periodic work of the requests: it lifts the
// restrictions whose announcement has been sent and deletes requests from
// the public form whose code was never typed.
func (s *Service) SweepRequests(ctx context.Context) error {
	if _, err := s.LiftNoticedRestrictions(ctx); err != nil {
		return err
	}
	_, err := store.PurgeUnverifiedRequests(ctx, s.env.Store.DB, s.env.Now())
	return err
}

// RectifiableFields are the data a request for rectification may name,
// from the data map.
func (s *Service) RectifiableFields() []rights.Field { return rights.RectifiableFields(*s.env.Map) }
