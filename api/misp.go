package api

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"kyoyu"
	"kyoyu/misp"
	"kyoyu/report"
)

// maxMISP bounds an imported MISP file; larger ones go through
// `kyoyu import`.
var maxMISP = misp.DefaultLimits.MaxBytes

// mispRoutes registers MISP import and export, through the reporting
// service like STIX, so the sharing range decides each answer.
func (h *Handler) mispRoutes() {
	h.mux.HandleFunc("POST /api/v1/misp/events", h.authed(h.importMISP))
	h.mux.HandleFunc("GET /api/v1/cases/{id}/misp", h.authed(h.exportCaseMISP))
	h.mux.HandleFunc("GET /api/v1/stix/bundles/{id}/misp", h.authed(h.exportImportedMISP))
}

// readMISP reads a request body of MISP JSON, at most maxMISP bytes.
func readMISP(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, &kyoyu.Error{Code: kyoyu.EUNSUPPORTED, Message: "the body must be MISP events as application/json"}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, &kyoyu.Error{Code: kyoyu.EUNSUPPORTED, Message: "the body must be UTF-8"}
	}
	return readLimited(w, r, maxMISP, "the file")
}

func (h *Handler) importMISP(w http.ResponseWriter, r *http.Request) {
	tlp, err := importRange(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data, err := readMISP(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	acc, err := h.reports.ImportMISP(r.Context(), principal(r), clientIP(r), data, report.MISPImportOptions{Range: tlp, Via: "api",
		Limits: misp.Limits{MaxBytes: maxMISP, MaxEvents: misp.DefaultLimits.MaxEvents, MaxAttributes: misp.DefaultLimits.MaxAttributes}})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if acc.Stored == 0 {
		status = http.StatusOK // nothing new was stored
	}
	writeJSON(w, status, acc)
}

// writeMISP answers with an event as MISP exports one.
func writeMISP(w http.ResponseWriter, ev *misp.Event) {
	raw, err := ev.JSON()
	if err != nil {
		writeError(w, nil, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(raw)
}

func (h *Handler) exportCaseMISP(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var version int64
	if s := r.URL.Query().Get("version"); s != "" {
		if version, err = strconv.ParseInt(s, 10, 64); err != nil || version <= 0 {
			h.fail(w, r, invalid("invalid query parameters", map[string]string{"version": "invalid"}))
			return
		}
	}
	ev, err := h.reports.ExportCaseMISP(r.Context(), principal(r), clientIP(r), id, version)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeMISP(w, ev)
}

func (h *Handler) exportImportedMISP(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ev, err := h.reports.ExportImportedMISP(r.Context(), principal(r), clientIP(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeMISP(w, ev)
}
