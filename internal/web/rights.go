package web

import (
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/sessionshq/sessions/internal/errs"
	"github.com/sessionshq/sessions/internal/platform/signed"
	"github.com/sessionshq/sessions/internal/privacy/rights"
)

// exportLinkPurpose scopes download tokens, so no other signed link can
// be replayed as one.
const exportLinkPurpose = "rights.export.download"

// exportJSON is an export as the API shows it.
type exportJSON struct {
	rights.Export
	Percent     int    `json:"percent"`
	DownloadURL string `json:"download_url,omitempty"`
}

func (s *Server) exportView(x rights.Export) exportJSON {
	out := exportJSON{Export: x, Percent: x.Percent()}
	if now := s.Clock.Now(); x.Downloadable(now) {
		tok := signed.Make(s.Secret, exportLinkPurpose, x.ID, *x.ExpiresAt)
		out.DownloadURL = "/account/exports/" + url.PathEscape(x.ID) + "/download?t=" + url.QueryEscape(tok)
	}
	return out
}

// apiExportPost answers POST /api/me/exports.
func (s *Server) apiExportPost(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Kind string `json:"kind"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if body.Kind == "" {
		body.Kind = rights.ExportAccess
	}
	x, err := s.Services.Rights.RequestExport(r.Context(), mustPrincipal(r).AccountID, body.Kind)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/me/exports/"+url.PathEscape(x.ID))
	return writeJSONNoStore(w, http.StatusAccepted, s.exportView(x))
}

// apiExportGet answers GET /api/me/exports/{id}: progress, and the
// download link once ready. Another person's id is not found.
func (s *Server) apiExportGet(w http.ResponseWriter, r *http.Request) error {
	x, err := s.Services.Rights.ExportOf(r.Context(), mustPrincipal(r).AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSONNoStore(w, http.StatusOK, s.exportView(x))
}

// exportDownload answers GET /account/exports/{id}/download?t=…: the
// ZIP file, to the member who asked for it, with a link that is signed
// for this export and has not expired. Anything else is not found, so a
// forged or old link reveals nothing.
func (s *Server) exportDownload(w http.ResponseWriter, r *http.Request) error {
	notFound := errs.E(errs.NotFound, "this download link is not valid, or has expired")
	id := r.PathValue("id")
	subject, err := signed.Check(s.Secret, exportLinkPurpose, r.URL.Query().Get("t"), s.Clock.Now())
	if err != nil || subject != id {
		return notFound
	}
	body, x, size, err := s.Services.Rights.OpenExport(r.Context(), mustPrincipal(r).AccountID, id)
	if err != nil {
		return err
	}
	defer body.Close()
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="sessions-data-`+x.CreatedAt.Format("2006-01-02")+`.zip"`)
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	_, err = io.Copy(w, body)
	return err
}

// rightsPageData is what the privacy centre's "your data" page shows.
type rightsPageData struct {
	Exports []exportJSON
	// Transfers are the member's direct transfers, newest first.
	Transfers []rights.Transfer
	// Recipients are who receives the member's data (Art. 19 GDPR).
	Recipients []rights.Recipient
	// Refresh is set while an export is being built, so that the page
	// reloads itself (a meta refresh, which the strict CSP allows).
	Refresh bool
	Done    string
}

// rightsPage is GET /account/privacy: request a copy of one's data,
// watch it being built, download it, and ask for deletion.
func (s *Server) rightsPage(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Services.Rights.ExportsOf(r.Context(), mustPrincipal(r).AccountID)
	if err != nil {
		return err
	}
	d := rightsPageData{Done: r.URL.Query().Get("done")}
	for _, x := range list {
		d.Exports = append(d.Exports, s.exportView(x))
		if x.State == rights.ExportQueued || x.State == rights.ExportWorking {
			d.Refresh = true
		}
	}
	accountID := mustPrincipal(r).AccountID
	if d.Transfers, err = s.Services.Rights.TransfersOf(r.Context(), accountID); err != nil {
		return err
	}
	for _, t := range d.Transfers {
		if t.State == rights.TransferQueued {
			d.Refresh = true
		}
	}
	if d.Recipients, err = s.Services.Rights.PersonRecipients(r.Context(), rights.Person{AccountID: accountID}); err != nil {
		return err
	}
	return s.pages.render(w, r, http.StatusOK, "rights_privacy", view{Title: "Your data", Section: "account", Data: d})
}

// exportForm is POST /account/exports, the privacy centre's button.
func (s *Server) exportForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	kind := r.PostForm.Get("kind")
	if kind == "" {
		kind = rights.ExportAccess
	}
	if _, err := s.Services.Rights.RequestExport(r.Context(), mustPrincipal(r).AccountID, kind); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/privacy?done=export", http.StatusSeeOther)
	return nil
}

// transferForm is POST /account/transfers: the address of another
// service to send the member's portability package to. It is checked now
// (https, a public address) and again when sent; the member confirms on
// the next page.
func (s *Server) transferForm(w http.ResponseWriter, r *http.Request) error {
	if err := readForm(r); err != nil {
		return err
	}
	x, err := s.Services.Rights.RequestTransfer(r.Context(), mustPrincipal(r).AccountID, r.PostForm.Get("url"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account/transfers/"+url.PathEscape(x.ID), http.StatusSeeOther)
	return nil
}

// transferPageData is what rights_transfer.html shows.
type transferPageData struct {
	Transfer rights.Transfer
	Host     string
	// Tables are the tables whose provided columns the package carries.
	Tables []string
}

// transferPage is GET /account/transfers/{id}: what will be sent where,
// and the button that confirms it; afterwards, how it went.
func (s *Server) transferPage(w http.ResponseWriter, r *http.Request) error {
	x, err := s.Services.Rights.TransferOf(r.Context(), mustPrincipal(r).AccountID, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := transferPageData{Transfer: x, Tables: s.Services.Rights.TransferTables()}
	if u, err := url.Parse(x.URL); err == nil {
		d.Host = u.Host
	}
	return s.pages.render(w, r, http.StatusOK, "rights_transfer", view{Title: "Send your data to another service", Section: "account", Data: d})
}

// transferConfirmForm is POST /account/transfers/{id}/confirm.
func (s *Server) transferConfirmForm(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.Services.Rights.ConfirmTransfer(r.Context(), mustPrincipal(r).AccountID, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/privacy?done=transfer", http.StatusSeeOther)
	return nil
}
