package web

import "net/http"

type casePrintView struct {
	Page
	CaseID    int64
	VersionID int64
	Heading   string
	Form      *caseFormView
}

// casePrint lays one version out like the paper form (情報連絡様式) on
// its own page, without the site's navigation, for printing on A4 or
// saving as PDF to fax. The form is Japanese whatever the page language:
// it is the handbook's form, sent to Japanese offices.
func (h *Handler) casePrint(w http.ResponseWriter, r *http.Request) {
	c, ver, _, ok := h.caseAndVersion(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	p := h.page(r, "cases.form.title")
	p.Lang = "ja"
	refs, err := h.caseRefs(ctx, p.Lang, ver.Form.ClassificationVersion)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	count, err := h.caseAttachments(ctx, caseViewerOf(r), ver.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := &casePrintView{Page: p, CaseID: c.ID, VersionID: ver.ID,
		Form: newCaseFormView(p.Lang, refs, h.caseOrgNames(ctx, p.Lang), c, ver, count)}
	v.Heading = T(p.Lang, "cases.form.title") + " " + caseSprintf(p.Lang, "cases.report_n", ver.ReportNumber)
	if c.CaseNumber != "" {
		v.Heading += " " + c.CaseNumber
	}
	h.render(w, r, http.StatusOK, "case_print", v)
}
