package web

import (
	"net/http"
	"net/url"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/service/console"
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

func newRecipientContactJSON(c console.Recipient) recipientContactJSON {
	return recipientContactJSON{Recipient: c.ID, Name: c.Name, Active: c.Active,
		PrivacyEmail: c.PrivacyEmail, WebhookURL: c.WebhookURL, Notices: c.Notices}
}

// recipientContacts lists every registry entry, active or not, with its
// contact and notice counts.
func (s *Server) recipientContacts(r *http.Request) ([]recipientContactJSON, error) {
	list, err := s.Services.Console.Recipients(r.Context(), actorOf(r))
	if err != nil {
		return nil, err
	}
	out := make([]recipientContactJSON, 0, len(list))
	for _, c := range list {
		out = append(out, newRecipientContactJSON(c))
	}
	return out, nil
}

func (s *Server) apiRecipientContacts(w http.ResponseWriter, r *http.Request) error {
	list, err := s.recipientContacts(r)
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
	ctx, actor, id := r.Context(), actorOf(r), r.PathValue("id")
	// An unknown entry is not found whatever the body says.
	if _, err := s.Services.Console.Recipient(ctx, actor, id); err != nil {
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
	saved, err := s.Services.Console.SetRecipientContact(ctx, actor, id, *body.PrivacyEmail, *body.WebhookURL)
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, newRecipientContactJSON(saved))
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
	list, err := s.recipientContacts(r)
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
	ctx, actor, id := r.Context(), actorOf(r), r.PathValue("id")
	email, hook := r.PostForm.Get("privacy_email"), r.PostForm.Get("webhook_url")
	_, err := s.Services.Console.SetRecipientContact(ctx, actor, id, email, hook)
	if e, ok := errs.As(err); ok && e.Code == errs.Invalid {
		current, gerr := s.Services.Console.Recipient(ctx, actor, id)
		if gerr != nil {
			return gerr
		}
		// Show what was submitted, not what is stored, beside the messages.
		form := newRecipientContactJSON(current)
		form.PrivacyEmail, form.WebhookURL = email, hook
		return s.renderAdminRecipients(w, r, http.StatusUnprocessableEntity, &adminRecipientForm{recipientContactJSON: form, Errors: e.Fields, Open: true})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/admin/recipients?saved="+url.QueryEscape(id)+"#rc-"+url.PathEscape(id), http.StatusSeeOther)
	return nil
}
