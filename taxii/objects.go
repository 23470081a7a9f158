package taxii

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/stix"
	"kyoyu/store"
)

// dateAdded is how TAXII timestamps are written (§3.2: RFC 3339, UTC).
const dateAdded = "2006-01-02T15:04:05.000000Z"

// Envelope is a page of objects (§3.7).
type Envelope struct {
	More    bool              `json:"more"`
	Next    string            `json:"next,omitempty"`
	Objects []json.RawMessage `json:"objects"`
}

// Versions is a page of an object's versions (§5.8).
type Versions struct {
	More     bool     `json:"more"`
	Next     string   `json:"next,omitempty"`
	Versions []string `json:"versions"`
}

// ManifestRecord is one line of a manifest (§5.3).
type ManifestRecord struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type"`
}

// Manifest is a page of a collection's manifest.
type Manifest struct {
	More    bool             `json:"more"`
	Next    string           `json:"next,omitempty"`
	Objects []ManifestRecord `json:"objects"`
}

func badRequest(msg string) error { return &kyoyu.Error{Code: kyoyu.EINVALID, Message: msg} }

// values reads a filter that may be repeated and comma-separated.
func values(q map[string][]string, key string) []string {
	var out []string
	for _, v := range q[key] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// filter reads the URL parameters of §3.4 that the endpoint allows.
func filter(r *http.Request, c *Collection, allowed ...string) (store.STIXFilter, error) {
	q := r.URL.Query()
	f := store.STIXFilter{Holding: c.holding, Sectors: c.sectors, Limit: 100}
	ok := map[string]bool{"limit": true, "next": true, "added_after": true}
	for _, a := range allowed {
		ok[a] = true
	}
	for key := range q {
		if !ok[key] {
			return f, badRequest("unsupported parameter " + key)
		}
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return f, badRequest("limit must be a positive integer")
		}
		f.Limit = min(n, 1000) // the server's own maximum (§3.4.2)
	}
	if s := q.Get("next"); s != "" {
		c, ok := decodeCursor(s)
		if !ok {
			return f, badRequest("next is not a page this server gave")
		}
		f.After = c
	}
	if s := q.Get("added_after"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return f, badRequest("added_after must be an RFC 3339 timestamp")
		}
		f.AddedAfter = &t
	}
	for _, id := range values(q, "match[id]") {
		if !stix.ValidID(id) {
			return f, badRequest("match[id]: not a STIX id: " + id)
		}
		f.IDs = append(f.IDs, id)
	}
	for _, t := range values(q, "match[type]") {
		if !stix.ValidType(t) {
			return f, badRequest("match[type]: not a STIX type: " + t)
		}
		f.Types = append(f.Types, t)
	}
	for _, v := range values(q, "match[version]") {
		switch v {
		case "first", "last", "all":
			f.Versions = append(f.Versions, v)
		default:
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, badRequest("match[version] must be first, last, all or a timestamp")
			}
			f.Versions = append(f.Versions, stix.VersionKey(t))
		}
	}
	f.SpecVersions = values(q, "match[spec_version]")
	return f, nil
}

func encodeCursor(c *store.STIXCursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*store.STIXCursor, bool) {
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

// page reads one page of objects as the person may see them, relabelled
// to the ranges they are shared under, RED and AMBER reads audited.
func (h *Handler) page(r *http.Request, f store.STIXFilter) (*store.STIXPage, error) {
	return h.reports.STIXObjects(r.Context(), principal(r), clientIP(r), f, 1)
}

// dateHeaders sets X-TAXII-Date-Added-First and -Last (§3.3.1).
func dateHeaders(w http.ResponseWriter, objs []store.STIXObject) {
	if len(objs) == 0 {
		return
	}
	w.Header().Set("X-TAXII-Date-Added-First", objs[0].DateAdded.UTC().Format(dateAdded))
	w.Header().Set("X-TAXII-Date-Added-Last", objs[len(objs)-1].DateAdded.UTC().Format(dateAdded))
}

// version is an object's version as TAXII names it: its modified, else
// its created, else (cyber observables) when it was added.
func version(o store.STIXObject) string {
	var v struct {
		Created  string `json:"created"`
		Modified string `json:"modified"`
	}
	_ = json.Unmarshal(o.JSON, &v)
	switch {
	case v.Modified != "":
		return v.Modified
	case v.Created != "":
		return v.Created
	}
	return o.DateAdded.UTC().Format(dateAdded)
}

func envelope(page *store.STIXPage) Envelope {
	e := Envelope{More: page.More, Objects: []json.RawMessage{}}
	for _, o := range page.Objects {
		e.Objects = append(e.Objects, o.JSON)
	}
	if page.Next != nil {
		e.Next = encodeCursor(page.Next)
	}
	return e
}

// objects is GET {root}/collections/{id}/objects/ (§5.4).
func (h *Handler) objects(w http.ResponseWriter, r *http.Request) {
	c, err := h.find(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, err := filter(r, c, "match[id]", "match[type]", "match[version]", "match[spec_version]")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page, err := h.page(r, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	dateHeaders(w, page.Objects)
	writeJSON(w, http.StatusOK, envelope(page))
}

// exists reports whether the person sees any version of the object in
// the collection: one they may not see is missing, like one that is not.
func (h *Handler) exists(r *http.Request, c *Collection, id string) (bool, error) {
	if !stix.ValidID(id) {
		return false, nil
	}
	page, err := h.page(r, store.STIXFilter{Holding: c.holding, Sectors: c.sectors, IDs: []string{id}, Versions: []string{"all"}, Limit: 1})
	if err != nil {
		return false, err
	}
	return len(page.Objects) > 0, nil
}

// objectFilter reads the filters of one object's endpoints, after
// checking the person sees the object at all.
func (h *Handler) objectFilter(r *http.Request, allowed ...string) (store.STIXFilter, error) {
	c, err := h.find(r)
	if err != nil {
		return store.STIXFilter{}, err
	}
	id := r.PathValue("oid")
	ok, err := h.exists(r, c, id)
	if err != nil {
		return store.STIXFilter{}, err
	}
	if !ok {
		return store.STIXFilter{}, kyoyu.ErrNotFound
	}
	f, err := filter(r, c, allowed...)
	f.IDs = []string{id}
	return f, err
}

// object is GET {root}/collections/{id}/objects/{object-id}/ (§5.6).
func (h *Handler) object(w http.ResponseWriter, r *http.Request) {
	f, err := h.objectFilter(r, "match[version]", "match[spec_version]")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page, err := h.page(r, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	dateHeaders(w, page.Objects)
	writeJSON(w, http.StatusOK, envelope(page))
}

// versions is GET {root}/collections/{id}/objects/{object-id}/versions/ (§5.8).
func (h *Handler) versions(w http.ResponseWriter, r *http.Request) {
	f, err := h.objectFilter(r, "match[spec_version]")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f.Versions = []string{"all"}
	page, err := h.page(r, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := Versions{More: page.More, Versions: []string{}}
	// Oldest version first within the page (pages follow date added,
	// and a follow-up's objects may be stored before its predecessor's).
	objs := slices.Clone(page.Objects)
	slices.SortStableFunc(objs, func(a, b store.STIXObject) int { return strings.Compare(a.Modified, b.Modified) })
	for _, o := range objs {
		out.Versions = append(out.Versions, version(o))
	}
	if page.Next != nil {
		out.Next = encodeCursor(page.Next)
	}
	dateHeaders(w, page.Objects)
	writeJSON(w, http.StatusOK, out)
}

// manifest is GET {root}/collections/{id}/manifest/ (§5.3).
func (h *Handler) manifest(w http.ResponseWriter, r *http.Request) {
	c, err := h.find(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, err := filter(r, c, "match[id]", "match[type]", "match[version]", "match[spec_version]")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page, err := h.page(r, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := Manifest{More: page.More, Objects: []ManifestRecord{}}
	for _, o := range page.Objects {
		out.Objects = append(out.Objects, ManifestRecord{ID: o.ID, DateAdded: o.DateAdded.UTC().Format(dateAdded),
			Version: version(o), MediaType: STIXMediaType})
	}
	if page.Next != nil {
		out.Next = encodeCursor(page.Next)
	}
	dateHeaders(w, page.Objects)
	writeJSON(w, http.StatusOK, out)
}
