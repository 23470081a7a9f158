package web

import (
	"fmt"
	"net/http"
	"strconv"

	"kyoyu/misp"
)

// mispRoutes registers the download of a case as a MISP event.
func (h *Handler) mispRoutes() {
	h.mux.HandleFunc("GET /cases/{id}/misp", h.signedIn(h.caseMISP))
}

// caseMISP downloads a case as the person may see it, as a MISP event (the
// newest released report, or one version with ?version=ID), through the
// same service as the API. A case the person may not see is not found.
func (h *Handler) caseMISP(w http.ResponseWriter, r *http.Request) {
	ids, ok := pathIDs(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	var version int64
	if s := r.URL.Query().Get("version"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v <= 0 {
			h.notFound(w, r)
			return
		}
		version = v
	}
	c, _, err := h.db.Case(r.Context(), viewerOf(r), ids[0])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ev, err := h.reports.ExportCaseMISP(r.Context(), principal(r), ClientIP(r), c.ID, version)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := ev.JSON()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	name := c.CaseNumber
	if name == "" {
		name = fmt.Sprintf("case-%d", c.ID)
	}
	serveDownload(w, name+".misp.json", misp.MediaType, body)
}
