package web

import (
	"net/http"

	"github.com/sessionshq/sessions/internal/platform/database"
)

// The shell pages are the entrances to the three areas of the product:
// the start page, the member area and the staff console. The privacy
// centre has its own handlers.

func (s *Server) homePage(w http.ResponseWriter, r *http.Request) error {
	return s.pages.render(w, r, http.StatusOK, "home", view{
		Title:       "Meetings that keep their privacy promises",
		Description: "Self-hosted online meetings with agendas, resources and video calls, whose privacy notice is generated from the code that handles personal data.",
		Section:     "home",
	})
}

// accountPage is the member area's landing page. Accounts do not exist in
// this build yet, so it says so and points to what does exist.
func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) error {
	return s.pages.render(w, r, http.StatusOK, "account", view{
		Title:   "My account",
		Section: "account",
	})
}

// adminView is the instance summary on the console's landing page. It
// holds no secret: an operator password, database URL or SMTP host never
// reaches a page.
type adminView struct {
	BaseURL  string
	Secure   bool
	Database string
	SMTP     bool
}

// adminPage is the staff console's landing page; routes.go wraps it in
// s.operator.
func (s *Server) adminPage(w http.ResponseWriter, r *http.Request) error {
	engine := "SQLite, in the data folder"
	if s.DB != nil && s.DB.Dialect() == database.Postgres {
		engine = "PostgreSQL"
	}
	return s.pages.render(w, r, http.StatusOK, "admin", view{
		Title:   "Staff console",
		Section: "admin",
		Data: adminView{
			BaseURL:  s.Config.BaseURL,
			Secure:   s.Config.Secure(),
			Database: engine,
			SMTP:     s.Config.SMTPAddr != "",
		},
	})
}
