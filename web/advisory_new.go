package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"kyoyu"
)

// advSourceRow is a source case as NISC may see it.
type advSourceRow struct {
	ID     int64
	Number string
}

type advNewView struct {
	Page
	Sources []advSourceRow
	Title   string
}

// advSourceIDs reads ?from=ID&from=ID… (or the posted "from" fields);
// a malformed one makes the request not found rather than silently
// dropping a source.
func advSourceIDs(vals []string) ([]int64, bool) {
	var out []int64
	for _, s := range vals {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return nil, false
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, len(out) <= 200
}

// advNew is the first step of an advisory: from scratch or from cases
// (the case page links here with ?from=CASEID).
func (h *Handler) advNew(w http.ResponseWriter, r *http.Request) {
	h.advShowNew(w, r, r.URL.Query()["from"], http.StatusOK, "")
}

func (h *Handler) advShowNew(w http.ResponseWriter, r *http.Request, from []string, status int, msg string) {
	pr := principal(r)
	if !advDrafter(pr) {
		h.notFound(w, r)
		return
	}
	ids, ok := advSourceIDs(from)
	if !ok {
		h.notFound(w, r)
		return
	}
	v := &advNewView{Page: h.page(r, "advisories.new_title")}
	v.Error = msg
	for _, id := range ids {
		// Each source through the sharing rule: a case NISC may not see
		// is not found, like one that does not exist.
		c, _, err := h.db.Case(r.Context(), advViewer(pr), id)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		v.Sources = append(v.Sources, advSourceRow{ID: c.ID, Number: c.CaseNumber})
	}
	v.Title = r.PostFormValue("title")
	h.render(w, r, status, "advisory_new", v)
}

// advCreate opens the draft and goes to its form.
func (h *Handler) advCreate(w http.ResponseWriter, r *http.Request) {
	pr := principal(r)
	if !advDrafter(pr) {
		h.notFound(w, r)
		return
	}
	ids, ok := advSourceIDs(r.PostForm["from"])
	if !ok {
		h.notFound(w, r)
		return
	}
	f := kyoyu.AdvisoryForm{SourceCases: ids, Title: strings.TrimSpace(r.PostFormValue("title"))}
	a, err := h.advisories.Draft(r.Context(), pr, ClientIP(r), f)
	if _, status, ok := formProblem(err); ok {
		h.advShowNew(w, r, r.PostForm["from"], status, "advisories.not_created")
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/advisories/drafts/%d", a.VersionID), http.StatusSeeOther)
}
