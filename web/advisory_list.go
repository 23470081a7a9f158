package web

import (
	"net/http"

	"kyoyu"
)

// advListLimit is how many of the newest advisories the list shows.
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
}

// advList lists the advisories the person may see, newest first; NISC's
// analysts also get their drafts and the way to write a new one.
func (h *Handler) advList(w http.ResponseWriter, r *http.Request) {
	pr, ctx := principal(r), r.Context()
	as, err := h.db.ListAdvisories(ctx, advViewer(pr), advListLimit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := &advListView{Page: h.page(r, "advisories.title"), Drafter: advDrafter(pr)}
	for _, a := range as {
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
