package web

import (
	"fmt"
	"net/http"

	"kyoyu"
)

// rfDrafts lists the open drafts of the person's organisation.
func (h *Handler) rfDrafts(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	entries, err := h.db.Drafts(ctx, rfViewer(principal(r)))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := &rfListView{Page: h.page(r, "report_form.drafts_title")}
	if v.Rows, err = h.rfRows(ctx, v.Lang, entries, true); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, "report_drafts", v)
}

// rfFollowUp opens the next report (第N報) of a case the organisation
// originated and goes to its form. If a draft of the case is already
// open, that draft is where the person wanted to be.
func (h *Handler) rfFollowUp(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pr := principal(r)
	id, ok := rfPathID(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	draft, err := h.reports.FollowUp(ctx, pr, ClientIP(r), id)
	if kyoyu.ErrorCode(err) == kyoyu.ECONFLICT {
		entries, derr := h.db.Drafts(ctx, rfViewer(pr))
		if derr != nil {
			h.fail(w, r, derr)
			return
		}
		for _, e := range entries {
			if e.Case.ID == id {
				http.Redirect(w, r, fmt.Sprintf("/reports/drafts/%d?flash=report_form.draft_already_open", e.Version.ID), http.StatusSeeOther)
				return
			}
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/reports/drafts/%d", draft.ID), http.StatusSeeOther)
}
