package web

import (
	"fmt"
	"net/http"

	"kyoyu/stix"
)

// advSTIX downloads a published advisory as the person may see it, as a
// STIX 2.1 bundle (advisory.Service.ExportSTIX): TLP 1.0 marking ids, or
// 2.0 with ?tlp=2. An advisory the person may not see, or one never
// published, is not found.
func (h *Handler) advSTIX(w http.ResponseWriter, r *http.Request) {
	id, ok := advPathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	tv := 1
	switch r.URL.Query().Get("tlp") {
	case "", "1":
	case "2":
		tv = 2
	default:
		h.notFound(w, r)
		return
	}
	b, err := h.advisories.ExportSTIX(r.Context(), principal(r), ClientIP(r), id, tv)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := b.JSON()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// The advisory number names the file (T2026-0001.stix.json); the
	// export holds it, so the bundle is of a numbered advisory.
	name := fmt.Sprintf("advisory-%d", id)
	for _, raw := range b.Objects {
		if ext, ok := stix.DecodeAdvisory(raw); ok && ext.AdvisoryNumber != "" {
			name = fmt.Sprintf("%s-%d", ext.AdvisoryNumber, ext.ReportNumber)
		}
	}
	serveDownload(w, name+".stix.json", stix.MediaType, body)
}
