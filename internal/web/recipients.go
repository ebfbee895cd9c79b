package web

import (
	"context"
	"net/http"
	"net/url"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/store"
)

// Where the recipients of people's data take the notices Art. 19 GDPR
// asks for when data is rectified, erased or restricted: a privacy
// contact's e-mail address, reached through the outbox, or an https
// webhook, reached through the safehttp client. Staff who keep the
// sub-processor registry keep these too, since a contract names both.

// recipientContactJSON is one sub-processor with its notice contact and
// how its notices fared, per state (queued, sent, failed, no-contact).
type recipientContactJSON struct {
	Recipient    string         `json:"recipient"`
	Name         string         `json:"name"`
	Active       bool           `json:"active"`
	PrivacyEmail string         `json:"privacy_email"`
	WebhookURL   string         `json:"webhook_url"`
	Notices      map[string]int `json:"notices"`
}

type recipientContactListJSON struct {
	Recipients []recipientContactJSON `json:"recipients"`
}

// recipientContactEditJSON is the body of PUT /api/admin/recipients/{id}.
// Both fields are required, as PUT replaces the contact; an empty string
// clears one.
type recipientContactEditJSON struct {
	PrivacyEmail *string `json:"privacy_email"`
	WebhookURL   *string `json:"webhook_url"`
}

// recipientContacts lists every registry entry, active or not, with its
// contact and notice counts.
func (s *Server) recipientContacts(ctx context.Context) ([]recipientContactJSON, error) {
	subs, err := store.ListSubprocessors(ctx, s.DB, false)
	if err != nil {
		return nil, err
	}
	contacts, err := store.RecipientContacts(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	counts, err := store.RecipientNoticeCounts(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]store.RecipientContact, len(contacts))
	for _, c := range contacts {
		byID[c.Recipient] = c
	}
	out := make([]recipientContactJSON, 0, len(subs))
	for _, sp := range subs {
		c := byID[sp.ID]
		n := counts[sp.ID]
		if n == nil {
			n = map[string]int{}
		}
		out = append(out, recipientContactJSON{Recipient: sp.ID, Name: sp.Name, Active: sp.Active,
			PrivacyEmail: c.PrivacyEmail, WebhookURL: c.WebhookURL, Notices: n})
	}
	return out, nil
}

// recipientContact is one entry of recipientContacts; an unknown id is
// errs.NotFound.
func (s *Server) recipientContact(ctx context.Context, id string) (recipientContactJSON, error) {
	list, err := s.recipientContacts(ctx)
	if err != nil {
		return recipientContactJSON{}, err
	}
	for _, c := range list {
		if c.Recipient == id {
			return c, nil
		}
	}
	return recipientContactJSON{}, errs.E(errs.NotFound, "there is no such sub-processor")
}

func (s *Server) apiRecipientContacts(w http.ResponseWriter, r *http.Request) error {
	list, err := s.recipientContacts(r.Context())
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, recipientContactListJSON{Recipients: list})
}

// apiRecipientContactPut answers PUT /api/admin/recipients/{id}.
func (s *Server) apiRecipientContactPut(w http.ResponseWriter, r *http.Request) error {
	var body recipientContactEditJSON
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	id := r.PathValue("id")
	// An unknown entry is not found whatever the body says.
	if _, err := s.recipientContact(r.Context(), id); err != nil {
		return err
	}
	missing := errs.Validation{}
	if body.PrivacyEmail == nil {
		missing.Add("privacy_email", "is required; send an empty string for none")
	}
	if body.WebhookURL == nil {
		missing.Add("webhook_url", "is required; send an empty string for none")
	}
	if err := missing.Err(); err != nil {
		return err
	}
	if err := store.SetRecipientContact(r.Context(), s.DB, s.Secret, staffActor(r.Context()), store.RecipientContact{
		Recipient: id, PrivacyEmail: *body.PrivacyEmail, WebhookURL: *body.WebhookURL,
	}, s.Clock.Now()); err != nil {
		return err
	}
	saved, err := s.recipientContact(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, saved)
}

// adminRecipientForm is one entry's contact form: the values to show and,
// after a refused submission, the messages per field.
type adminRecipientForm struct {
	recipientContactJSON
	Errors map[string]string
	Open   bool
}

type adminRecipientsView struct {
	Entries []adminRecipientForm
	Saved   string // name of the entry just saved
}

// adminRecipientsPage is GET /admin/recipients.
func (s *Server) adminRecipientsPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderAdminRecipients(w, r, http.StatusOK, nil)
}

// renderAdminRecipients draws the contacts page; failed, when set, is a
// refused submission to show again in place of its stored entry.
func (s *Server) renderAdminRecipients(w http.ResponseWriter, r *http.Request, status int, failed *adminRecipientForm) error {
	list, err := s.recipientContacts(r.Context())
	if err != nil {
		return err
	}
	saved := r.URL.Query().Get("saved")
	var v adminRecipientsView
	for _, c := range list {
		if failed != nil && failed.Recipient == c.Recipient {
			v.Entries = append(v.Entries, *failed)
			continue
		}
		if c.Recipient == saved {
			v.Saved = c.Name
		}
		v.Entries = append(v.Entries, adminRecipientForm{recipientContactJSON: c})
	}
	return s.pages.render(w, r, status, "admin_recipients", view{
		Title:   "Recipients' privacy contacts",
		Section: "admin",
		Data:    v,
	})
}

// adminRecipientPost is POST /admin/recipients/{id}: it saves the form
// and sends the browser back to the list; a refused contact shows the
// form again with its messages.
func (s *Server) adminRecipientPost(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	c := store.RecipientContact{Recipient: id, PrivacyEmail: r.PostForm.Get("privacy_email"), WebhookURL: r.PostForm.Get("webhook_url")}
	err := store.SetRecipientContact(r.Context(), s.DB, s.Secret, staffActor(r.Context()), c, s.Clock.Now())
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		current, gerr := s.recipientContact(r.Context(), id)
		if gerr != nil {
			return gerr
		}
		// Show what was submitted, not what is stored, beside the messages.
		current.PrivacyEmail, current.WebhookURL = c.PrivacyEmail, c.WebhookURL
		return s.renderAdminRecipients(w, r, http.StatusUnprocessableEntity, &adminRecipientForm{recipientContactJSON: current, Errors: e.Fields, Open: true})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/recipients?saved="+url.QueryEscape(id)+"#rc-"+url.PathEscape(id), http.StatusSeeOther)
	return nil
}
