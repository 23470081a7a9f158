package web

import (
	"net/http"

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
	c, version, ok := h.exportedCase(w, r)
	if !ok {
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
	serveDownload(w, exportName(c)+".misp.json", misp.MediaType, body)
}
