package web

import (
	"fmt"
	"net/http"
	"strconv"

	"kyoyu"
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
	c, version, ok := h.exportedCase(w, r)
	if !ok {
		return
	}
	opt := report.STIXExportOptions{TLPVersion: 1, VersionID: version}
	if r.URL.Query().Get("tlp") == "2" {
		opt.TLPVersion = 2
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
	serveDownload(w, exportName(c)+".stix.json", stix.MediaType, body)
}

// exportedCase reads the case of an export's path as the person may see
// it, and the version asked for with ?version=ID (0: the newest released
// report). Anything else answers as not found, and ok is false.
func (h *Handler) exportedCase(w http.ResponseWriter, r *http.Request) (c *kyoyu.Case, version int64, ok bool) {
	ids, ok := pathIDs(r, "id")
	if !ok {
		h.notFound(w, r)
		return nil, 0, false
	}
	if s := r.URL.Query().Get("version"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v <= 0 {
			h.notFound(w, r)
			return nil, 0, false
		}
		version = v
	}
	c, _, err := h.db.Case(r.Context(), viewerOf(r), ids[0])
	if err != nil {
		h.fail(w, r, err)
		return nil, 0, false
	}
	return c, version, true
}

// exportName is a case's download name: its number, or its id before it
// has one.
func exportName(c *kyoyu.Case) string {
	if c.CaseNumber == "" {
		return fmt.Sprintf("case-%d", c.ID)
	}
	return c.CaseNumber
}
