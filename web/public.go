package web

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/store"
)

// publicRoutes serve WHITE (公開) material to anyone, signed in or not: a
// page and an Atom feed. They read as the anonymous viewer, so the one
// sharing-range rule decides what appears, exactly as for everyone else.
func (h *Handler) publicRoutes() {
	h.mux.HandleFunc("GET /public", h.publicList)
	h.mux.HandleFunc("GET /public/cases/{id}", h.publicCase)
	h.mux.HandleFunc("GET /public/feed.atom", h.publicFeed)
}

type publicListView struct {
	Page
	Cases []*kyoyu.Case
}

func (h *Handler) publicList(w http.ResponseWriter, r *http.Request) {
	page, err := h.db.ListCases(r.Context(), policy.Anonymous, store.CaseFilter{Shared: true, Limit: 100})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "public_list", &publicListView{Page: h.page(r, "public.title"), Cases: page.Cases})
}

type publicCaseView struct {
	Page
	Case    *kyoyu.Case
	Version *kyoyu.ReportVersion
}

func (h *Handler) publicCase(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.notFound(w, r)
		return
	}
	c, _, err := h.db.Case(r.Context(), policy.Anonymous, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	vers, err := h.db.Versions(r.Context(), policy.Anonymous, id)
	if err != nil || len(vers) == 0 {
		h.notFound(w, r)
		return
	}
	h.render(w, r, http.StatusOK, "public_case", &publicCaseView{Page: h.page(r, "public.title"), Case: c, Version: vers[len(vers)-1]})
}

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Link    atomLink    `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
}

type atomEntry struct {
	Title   string   `xml:"title"`
	ID      string   `xml:"id"`
	Updated string   `xml:"updated"`
	Link    atomLink `xml:"link"`
	Summary string   `xml:"summary"`
}

func (h *Handler) publicFeed(w http.ResponseWriter, r *http.Request) {
	page, err := h.db.ListCases(r.Context(), policy.Anonymous, store.CaseFilter{Shared: true, Limit: 100})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	lang := language(r)
	feed := atomFeed{Title: T(lang, "public.feed_title"), ID: h.cfg.BaseURL + "/public/feed.atom",
		Updated: time.Now().UTC().Format(time.RFC3339), Link: atomLink{Href: h.cfg.BaseURL + "/public"}}
	for _, c := range page.Cases {
		updated := c.UpdatedAt
		if c.LastReportAt != nil {
			updated = *c.LastReportAt
		}
		link := fmt.Sprintf("%s/public/cases/%d", h.cfg.BaseURL, c.ID)
		feed.Entries = append(feed.Entries, atomEntry{Title: c.CaseNumber + " " + c.Title, ID: link,
			Updated: updated.UTC().Format(time.RFC3339), Link: atomLink{Href: link}, Summary: c.Title})
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(feed); err != nil {
		h.log.Warn("atom feed", "err", err)
	}
}
