package web

import (
	"fmt"
	"net/http"
	"strconv"

	"kyoyu/report"
	"kyoyu/stix"
)

// stixRoutes registers the download of a case as a STIX 2.1 bundle, the
// target of the case page's export link.
func (h *Handler) stixRoutes() {
	h.mux.HandleFunc("GET /cases/{id}/stix", h.signedIn(h.caseSTIX))
}

// caseSTIX downloads a case as the person may see it, as STIX 2.1: TLP 1.0
// marking ids, or 2.0 with ?tlp=2; the newest released report, or one
// version with ?version=ID. A case the person may not see is not found.
func (h *Handler) caseSTIX(w http.ResponseWriter, r *http.Request) {
	ids, ok := pathIDs(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	opt := report.STIXExportOptions{TLPVersion: 1}
	if r.URL.Query().Get("tlp") == "2" {
		opt.TLPVersion = 2
	}
	if s := r.URL.Query().Get("version"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v <= 0 {
			h.notFound(w, r)
			return
		}
		opt.VersionID = v
	}
	c, _, err := h.db.Case(r.Context(), viewerOf(r), ids[0])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b, err := h.reports.ExportCaseSTIX(r.Context(), principal(r), ClientIP(r), c.ID, opt)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := b.JSON()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	name := c.CaseNumber
	if name == "" {
		name = fmt.Sprintf("case-%d", c.ID)
	}
	serveDownload(w, name+".stix.json", stix.MediaType, body)
}
