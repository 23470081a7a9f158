package api

import (
	"net/http"
	"strconv"

	"kyoyu"
	"kyoyu/report"
)

// listCasesCSV answers GET /api/v1/cases.csv: the case list as the caller
// sees it, with the filters of GET /api/v1/cases, as CSV (UTF-8 with a
// BOM, so Excel opens it as such): every matching case up to
// report.CSVMaxRows, streamed page by page; a last line says when the list
// was cut. Names of sectors and classifications are Japanese, or English
// with ?lang=en; statuses are codes.
func (h *Handler) listCasesCSV(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	lang := q.Get("lang")
	if lang != "" && lang != "ja" && lang != "en" {
		h.fail(w, r, invalid("invalid query parameters", map[string]string{"lang": "invalid_choice"}))
		return
	}
	// Paging and counting are the export's own.
	for _, k := range []string{"lang", "limit", "cursor", "count"} {
		q.Del(k)
	}
	f, err := h.caseFilter(ctx, q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	note := "（匿名化済み）"
	if lang == "en" {
		note = " (anonymised)"
	}
	opt := report.CasesCSVOptions{Filter: f, Lang: lang, AnonymisedNote: note, Describe: q.Encode()}
	begun := false
	opt.Begin = func() {
		begun = true
		hd := w.Header()
		hd.Set("Content-Type", "text/csv; charset=utf-8")
		hd.Set("Content-Disposition", `attachment; filename="cases-`+h.db.Now().In(kyoyu.JST).Format("20060102-1504")+`.csv"`)
		hd.Set("Cache-Control", "private, no-store")
		hd.Set("X-Kyoyu-Row-Limit", strconv.Itoa(report.CSVMaxRows))
		w.WriteHeader(http.StatusOK)
	}
	if _, err := h.reports.ExportCasesCSV(ctx, principal(r), clientIP(r), opt, w); err != nil {
		if !begun {
			h.fail(w, r, err)
			return
		}
		// The rows are on their way: the status cannot change any more;
		// the export's audit entry records the failure.
		h.log.Warn("case list CSV export ended early", "err", err)
	}
}
