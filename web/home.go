package web

import (
	"net/http"
	"net/url"
)

type homeView struct {
	Page
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "home", &homeView{Page: h.page(r, "home.title")})
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
