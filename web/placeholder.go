package web

import "net/http"

// placeholderView is a page whose flow is not built yet: a heading, what
// the flow is for, and an empty list.
type placeholderView struct {
	Page
	ID   string // element id, for tests and screen readers' landmarks
	Help string // a locale key
}

// placeholder serves the landing page of a coming flow (reports,
// advisories) so the navigation leads somewhere honest in the meantime.
func (h *Handler) placeholder(id, title, help string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.render(w, r, http.StatusOK, "placeholder", &placeholderView{Page: h.page(r, title), ID: id, Help: help})
	}
}
