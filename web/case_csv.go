package web

import (
	"net/http"
	"strconv"

	"kyoyu"
	"kyoyu/report"
)

// caseCSVRoutes registers the case list as CSV, the target of the list
// page's download link.
func (h *Handler) caseCSVRoutes() {
	h.mux.HandleFunc("GET /cases.csv", h.signedIn(h.caseCSV))
}

// caseCSV downloads the case list as the person sees it, with the list's
// filter (the link carries it), as CSV for a spreadsheet: every matching
// case up to report.CSVMaxRows, streamed page by page
// (report.Service.ExportCasesCSV). A filter the list would refuse sends
// the person back to the list, which says why.
func (h *Handler) caseCSV(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := language(r)
	refs, err := h.caseRefs(ctx, lang, "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	q.Del("before_at")
	q.Del("before_id")
	f, form, problem := parseCaseFilter(q, refs, false)
	if problem != "" {
		http.Redirect(w, r, "/cases?"+q.Encode(), http.StatusSeeOther)
		return
	}
	form.N = casePageSize // not part of the export
	note := "（" + T(lang, "cases.anonymised") + "）"
	if lang == "en" {
		note = " (" + T(lang, "cases.anonymised") + ")"
	}
	opt := report.CasesCSVOptions{Filter: f, Lang: lang, AnonymisedNote: note, Describe: form.values().Encode(),
		Status: func(s kyoyu.CaseStatus) string { return T(lang, "cases.status."+string(s)) }}
	begun := false
	opt.Begin = func() {
		begun = true
		hd := w.Header()
		hd.Set("Content-Type", "text/csv; charset=utf-8")
		hd.Set("Content-Disposition", contentDisposition("cases-"+h.db.Now().In(kyoyu.JST).Format("20060102-1504")+".csv"))
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Cache-Control", "private, no-store")
		hd.Set("X-Kyoyu-Row-Limit", strconv.Itoa(report.CSVMaxRows))
		w.WriteHeader(http.StatusOK)
	}
	if _, err := h.reports.ExportCasesCSV(ctx, principal(r), ClientIP(r), opt, w); err != nil {
		if !begun && kyoyu.ErrorCode(err) == kyoyu.EINVALID {
			http.Redirect(w, r, "/cases?"+q.Encode(), http.StatusSeeOther) // the list says why
			return
		}
		if !begun {
			h.fail(w, r, err)
			return
		}
		// The rows are on their way: the status cannot change any more;
		// the export's audit entry records the failure.
		h.log.Warn("case list CSV export ended early", "err", err)
	}
}
