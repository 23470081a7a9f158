package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/stix"
	"kyoyu/store"
)

// maxBundle bounds an imported bundle; larger feeds go through
// `kyoyu import`, which sets its own limits.
var maxBundle = stix.DefaultLimits.MaxBytes

// stixRoutes registers STIX 2.1 export and import. Everything is read
// through the reporting service, so the sharing range decides what each
// answer holds.
func (h *Handler) stixRoutes() {
	h.mux.HandleFunc("GET /api/v1/cases/{id}/stix", h.authed(h.exportCaseSTIX))
	h.mux.HandleFunc("GET /api/v1/advisories/{id}/stix", h.authed(h.exportAdvisorySTIX))
	h.mux.HandleFunc("POST /api/v1/stix/bundles", h.authed(h.importSTIX))
	h.mux.HandleFunc("GET /api/v1/stix/bundles/{id}", h.authed(h.exportImportedSTIX))
	h.mux.HandleFunc("GET /api/v1/stix/objects", h.authed(h.listSTIXObjects))
}

// tlpVersionParam reads ?tlp=1|2 (the TLP ids to mark with).
func tlpVersionParam(r *http.Request) (int, error) {
	switch r.URL.Query().Get("tlp") {
	case "", "1":
		return 1, nil
	case "2":
		return 2, nil
	}
	return 0, invalid("tlp must be 1 (TLP 1.0 ids) or 2 (TLP 2.0 ids)", map[string]string{"tlp": "invalid_choice"})
}

// writeSTIX answers with a bundle in the STIX media type.
func writeSTIX(w http.ResponseWriter, b *stix.Bundle) {
	raw, err := b.JSON()
	if err != nil {
		writeError(w, nil, err) // encoding our own bundle cannot fail
		return
	}
	w.Header().Set("Content-Type", stix.MediaType)
	w.Header().Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(raw)
}

func (h *Handler) exportCaseSTIX(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	opt, err := exportOptions(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b, err := h.reports.ExportCaseSTIX(r.Context(), principal(r), clientIP(r), id, opt)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeSTIX(w, b)
}

// exportAdvisorySTIX answers a published advisory as a STIX 2.1 bundle
// (advisory.Service.ExportSTIX): one the caller may not see, or a draft,
// answers as a missing id.
func (h *Handler) exportAdvisorySTIX(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	tv, err := tlpVersionParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b, err := h.advisories.ExportSTIX(r.Context(), principal(r), clientIP(r), id, tv)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeSTIX(w, b)
}

// exportOptions reads ?tlp=1|2 and ?version=ID (a version to export
// instead of the newest released one).
func exportOptions(r *http.Request) (report.STIXExportOptions, error) {
	var opt report.STIXExportOptions
	p := map[string]string{}
	tv, err := tlpVersionParam(r)
	if err != nil {
		p["tlp"] = "invalid_choice"
	}
	opt.TLPVersion = tv
	if s := r.URL.Query().Get("version"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			p["version"] = "invalid"
		}
		opt.VersionID = n
	}
	if len(p) > 0 {
		return opt, invalid("invalid query parameters", p)
	}
	return opt, nil
}

func (h *Handler) exportImportedSTIX(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	tv, err := tlpVersionParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b, err := h.reports.ExportImportedSTIX(r.Context(), principal(r), clientIP(r), id, tv)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeSTIX(w, b)
}

// readBundle reads a request body that is a STIX bundle: JSON or STIX
// JSON (version 2.1), at most maxBundle bytes.
func readBundle(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && mt != "application/stix+json") {
		return nil, &kyoyu.Error{Code: kyoyu.EUNSUPPORTED, Message: "the body must be a STIX bundle: application/stix+json;version=2.1 or application/json"}
	}
	if v, ok := params["version"]; ok && v != "2.1" {
		return nil, &kyoyu.Error{Code: kyoyu.EUNSUPPORTED, Message: "only STIX 2.1 is imported"}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, &kyoyu.Error{Code: kyoyu.EUNSUPPORTED, Message: "the body must be UTF-8"}
	}
	return readLimited(w, r, maxBundle, "the bundle")
}

// readLimited reads a request body of at most limit bytes; what names it
// in the refusal of a larger one.
func readLimited(w http.ResponseWriter, r *http.Request, limit int64, what string) ([]byte, error) {
	tooLarge := &kyoyu.Error{Code: kyoyu.ETOOLARGE, Message: what + " is over " + strconv.FormatInt(limit>>20, 10) + " MiB; import it with `kyoyu import`"}
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge
	} else if err != nil {
		return nil, invalid("the body could not be read", map[string]string{"body": "unreadable"})
	}
	return data, nil
}

// importRange reads ?tlp=, the range an importer gives (it may only narrow).
func importRange(r *http.Request) (policy.TLP, error) {
	tlp := policy.TLP(r.URL.Query().Get("tlp"))
	if tlp != "" && !tlp.Valid() {
		return "", invalid("tlp must be red, amber, green or white", map[string]string{"tlp": "invalid_choice"})
	}
	return tlp, nil
}

func (h *Handler) importSTIX(w http.ResponseWriter, r *http.Request) {
	tlp, err := importRange(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data, err := readBundle(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	acc, err := h.reports.ImportSTIX(r.Context(), principal(r), clientIP(r), data, report.STIXImportOptions{Range: tlp, Source: "api",
		Limits: stix.Limits{MaxBytes: maxBundle, MaxObjects: stix.DefaultLimits.MaxObjects}})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if acc.ItemID == 0 {
		status = http.StatusOK // nothing new was stored
	}
	writeJSON(w, status, acc)
}

// STIXObjectList is one page of imported STIX objects.
type STIXObjectList struct {
	Objects []json.RawMessage `json:"objects"`
	More    bool              `json:"more"`
	Next    string            `json:"next,omitempty"`
}

func encodeSTIXCursor(c *store.STIXCursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeSTIXCursor(s string) (*store.STIXCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	var c store.STIXCursor
	if err := json.Unmarshal(b, &c); err != nil || c.DateAdded.IsZero() || c.ItemID <= 0 || !stix.ValidID(c.ID) {
		return nil, false
	}
	return &c, true
}

// listSTIXObjects lists the imported objects the caller may see, oldest
// added first (what a TAXII collection will page through).
func (h *Handler) listSTIXObjects(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := map[string]string{}
	// Imported bundles only, as documented; cases and advisories are
	// served as STIX by their own exports and by TAXII.
	f := store.STIXFilter{Holding: store.HoldingImport}
	for _, v := range q["type"] {
		for _, typ := range strings.Split(v, ",") {
			if !stix.ValidType(typ) {
				p["type"] = "invalid_choice"
			}
			f.Types = append(f.Types, typ)
		}
	}
	limit, err := limitParam(r)
	if err != nil {
		p["limit"] = "out_of_range"
	}
	f.Limit = limit
	if s := q.Get("added_after"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			p["added_after"] = "invalid_time"
		}
		f.AddedAfter = &t
	}
	if s := q.Get("next"); s != "" {
		c, ok := decodeSTIXCursor(s)
		if !ok {
			p["next"] = "invalid"
		}
		f.After = c
	}
	if len(p) > 0 {
		h.fail(w, r, invalid("invalid query parameters", p))
		return
	}
	page, err := h.reports.STIXObjects(r.Context(), principal(r), clientIP(r), f, 1)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := STIXObjectList{Objects: []json.RawMessage{}, More: page.More}
	for _, o := range page.Objects {
		out.Objects = append(out.Objects, o.JSON)
	}
	if page.Next != nil {
		out.Next = encodeSTIXCursor(page.Next)
	}
	writeJSON(w, http.StatusOK, out)
}
