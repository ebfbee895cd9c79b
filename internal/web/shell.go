package web

import "net/http"

// The shell pages are the entrances to the product. The member area
// (account.go), the privacy centre and the staff console (staff.go) have
// their own handlers.

func (s *Server) homePage(w http.ResponseWriter, r *http.Request) error {
	return s.pages.render(w, r, http.StatusOK, "home", view{
		Title:       "Meetings that keep their privacy promises",
		Description: "Self-hosted online meetings with agendas, resources and video calls, whose privacy notice is generated from the code that handles personal data.",
		Section:     "home",
	})
}
