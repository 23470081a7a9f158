package web

import "net/http"

type advPrintView struct {
	Page
	ID    int64
	Sheet *advSheet
}

// advPrint lays the advisory out like the paper form (情報提供様式) on its
// own page, without the site's navigation, to print on A4 or save as PDF.
// The form is Japanese whatever the page language: it is the handbook's
// form, passed on to Japanese offices.
func (h *Handler) advPrint(w http.ResponseWriter, r *http.Request) {
	a, ok := h.advOpen(w, r)
	if !ok {
		return
	}
	ctx, pr := r.Context(), principal(r)
	open, err := h.advOpenDraft(ctx, pr, a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := h.page(r, "advisories.sheet.title")
	p.Lang = "ja"
	v := &advPrintView{Page: p, ID: a.ID}
	if v.Sheet, err = h.newAdvSheet(ctx, p.Lang, a, open); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, "advisory_print", v)
}
