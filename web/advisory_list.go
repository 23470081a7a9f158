package web

import (
	"net/http"
	"strconv"
	"time"

	"kyoyu"
	"kyoyu/store"
)

// advListLimit is how many advisories a page of the list shows.
const advListLimit = 100

// advRow is one advisory of the list.
type advRow struct {
	ID         int64
	VersionID  int64
	Number     string
	ReportN    string
	Title      string
	Importance string // a locale key, or ""
	TLP        string
	TLPLabel   string
	Published  string
	Updated    string
}

type advListView struct {
	Page
	Rows    []advRow
	Drafts  []advRow
	Drafter bool
	Total   int
	NextAt  string // continue the list here, if there is more
	NextID  int64
}

// advList lists the advisories the person may see, newest first; NISC's
// analysts also get their drafts and the way to write a new one.
func (h *Handler) advList(w http.ResponseWriter, r *http.Request) {
	pr, ctx := principal(r), r.Context()
	f := store.AdvisoryFilter{Limit: advListLimit}
	q := r.URL.Query()
	if at, id := q.Get("before_at"), q.Get("before_id"); at != "" || id != "" {
		t, err1 := time.Parse(time.RFC3339Nano, at)
		n, err2 := strconv.ParseInt(id, 10, 64)
		if err1 != nil || err2 != nil {
			h.notFound(w, r)
			return
		}
		f.BeforeAt, f.BeforeID = &t, n
	}
	page, err := h.db.ListAdvisoriesPage(ctx, advViewer(pr), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := &advListView{Page: h.page(r, "advisories.title"), Drafter: advDrafter(pr), Total: page.Total}
	if page.NextAt != nil {
		v.NextAt, v.NextID = page.NextAt.UTC().Format(time.RFC3339Nano), page.NextID
	}
	for _, a := range page.Advisories {
		open, err := h.advOpenDraft(ctx, pr, a)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		row := advRow{ID: a.ID, VersionID: a.VersionID, Number: a.Number, Title: a.Form.Title, TLP: a.TLP,
			TLPLabel: T(v.Lang, "advisories.tlp."+a.TLP), ReportN: advSprintf(v.Lang, "advisories.report_n", a.ReportNumber),
			Updated: kyoyu.FormatJST(a.UpdatedAt)}
		if a.Form.Importance != "" {
			row.Importance = "advisories.importance." + a.Form.Importance
		}
		if a.PublishedAt != nil {
			row.Published = kyoyu.FormatJST(*a.PublishedAt)
		}
		if open {
			draft := row
			draft.TLP = a.Form.TLP
			draft.TLPLabel = T(v.Lang, "advisories.tlp."+a.Form.TLP)
			v.Drafts = append(v.Drafts, draft)
			if a.Status != "published" {
				continue
			}
			// The published advisory stays listed; the issuer's latest
			// version is the follow-up being written, one past it.
			row.ReportN = advSprintf(v.Lang, "advisories.report_n", a.ReportNumber-1)
		}
		v.Rows = append(v.Rows, row)
	}
	h.render(w, r, http.StatusOK, "advisory_list", v)
}
