package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/store"
)

// CaseList is one page of cases (事案) with the total the filter matches.
type CaseList struct {
	Cases []*kyoyu.Case `json:"cases"`
	Total int           `json:"total"`
	// TotalCapped: the count stopped at its bound, so there are at least
	// Total; ?count=exact counts them all.
	TotalCapped bool   `json:"total_capped"`
	NextCursor  string `json:"next_cursor,omitempty"`
}

// cursor is where the next page starts: opaque to clients, so the paging
// key may change without breaking them.
type cursor struct {
	At time.Time `json:"at"`
	ID int64     `json:"id"`
}

func encodeCursor(at time.Time, id int64) string {
	b, _ := json.Marshal(cursor{At: at.UTC(), ID: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.ID <= 0 || c.At.IsZero() {
		return nil, false
	}
	return &c, true
}

// parseWhen reads an RFC 3339 time or a date (YYYY-MM-DD, a day in JST).
// A date as the upper bound means the end of that day.
func parseWhen(s string, end bool) (*time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t, true
	}
	d, err := time.ParseInLocation(time.DateOnly, s, kyoyu.JST)
	if err != nil {
		return nil, false
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return &d, true
}

var caseStatuses = []kyoyu.CaseStatus{kyoyu.CaseDraft, kyoyu.CaseAtCEPTOAR, kyoyu.CaseAtMinistry, kyoyu.CaseAtNISC}

// caseFilter reads the list's query parameters; every problem is named in
// one answer.
func (h *Handler) caseFilter(ctx context.Context, q url.Values) (store.CaseFilter, error) {
	var f store.CaseFilter
	p := map[string]string{}
	cs, err := h.db.Classifications(ctx, report.ClassificationVersion)
	if err != nil {
		return f, err
	}
	codes := map[string][]string{}
	for _, c := range cs {
		codes[c.Kind] = append(codes[c.Kind], c.Code)
	}
	sectors, err := h.db.Sectors(ctx)
	if err != nil {
		return f, err
	}
	for _, s := range sectors {
		codes["sector"] = append(codes["sector"], s.Code)
	}
	for _, s := range caseStatuses {
		codes["status"] = append(codes["status"], string(s))
	}
	choice := func(name, kind string, dst *string) {
		v := q.Get(name)
		if v != "" && !slices.Contains(codes[kind], v) {
			p[name] = "invalid_choice"
		}
		*dst = v
	}
	choice("sector", "sector", &f.Sector)
	choice("event_class", "event_class", &f.EventClass)
	choice("cause", "cause", &f.Cause)
	choice("importance", "importance", &f.Importance)
	choice("tlp", "tlp", &f.TLP)
	choice("status", "status", &f.Status)
	flag := func(name string, dst *bool) {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				p[name] = "not_boolean"
			}
			*dst = b
		}
	}
	flag("overdue", &f.Overdue)
	flag("mine", &f.Mine)
	when := func(name string, end bool) *time.Time {
		v := q.Get(name)
		if v == "" {
			return nil
		}
		t, ok := parseWhen(v, end)
		if !ok {
			p[name] = "invalid_time"
		}
		return t
	}
	f.From, f.To = when("from", false), when("to", true)
	if f.From != nil && f.To != nil && !f.To.After(*f.From) {
		p["to"] = "before_from"
	}
	f.Query = strings.TrimSpace(q.Get("q"))
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			p["limit"] = "out_of_range"
		}
		f.Limit = n
	} else {
		f.Limit = 50
	}
	switch q.Get("count") {
	case "":
	case "exact":
		f.ExactTotal = true
	default:
		p["count"] = "invalid_choice"
	}
	if s := q.Get("cursor"); s != "" {
		c, ok := decodeCursor(s)
		if !ok {
			p["cursor"] = "invalid"
		} else {
			f.BeforeAt, f.BeforeID = &c.At, c.ID
		}
	}
	if len(p) > 0 {
		return f, invalid("invalid query parameters", p)
	}
	return f, nil
}

func (h *Handler) listCases(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, err := h.caseFilter(ctx, r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page, err := h.db.ListCases(ctx, viewer(r), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := CaseList{Cases: make([]*kyoyu.Case, 0, len(page.Cases)), Total: page.Total, TotalCapped: page.TotalCapped}
	for _, c := range page.Cases {
		out.Cases = append(out.Cases, listedCase(c))
	}
	if page.NextAt != nil {
		out.NextCursor = encodeCursor(*page.NextAt, page.NextID)
	}
	writeJSON(w, http.StatusOK, out)
}

// visibleCase reads the case of the path as the caller may see it.
func (h *Handler) visibleCase(r *http.Request) (*kyoyu.Case, policy.Decision, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, policy.Decision{}, err
	}
	// Opened through the reporting service, which audits reads of RED and
	// AMBER material.
	return h.reports.Open(r.Context(), principal(r), clientIP(r), id)
}

// CaseDetail is a case with whether the caller may know its real source.
type CaseDetail struct {
	Case          *kyoyu.Case `json:"case"`
	SourceVisible bool        `json:"source_visible"`
}

func (h *Handler) getCase(w http.ResponseWriter, r *http.Request) {
	c, d, err := h.visibleCase(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, CaseDetail{Case: caseOut(c, d.SeeSource), SourceVisible: d.SeeSource})
}

func (h *Handler) listVersions(w http.ResponseWriter, r *http.Request) {
	c, _, err := h.visibleCase(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	vers, err := h.db.Versions(r.Context(), viewer(r), c.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, v := range vers {
		versionOut(v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": nonNil(vers)})
}

// caseVersion reads a version of case c that the caller may see; one of
// another case is as absent as a missing one.
func (h *Handler) caseVersion(r *http.Request, c *kyoyu.Case, id int64) (*kyoyu.ReportVersion, error) {
	ver, err := h.db.Version(r.Context(), viewer(r), id)
	if err != nil {
		return nil, err
	}
	if ver.CaseID != c.ID {
		return nil, kyoyu.ErrNotFound
	}
	return versionOut(ver), nil
}

func (h *Handler) getVersion(w http.ResponseWriter, r *http.Request) {
	c, _, err := h.visibleCase(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id, err := pathID(r, "vid")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ver, err := h.caseVersion(r, c, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ver)
}

// DiffResult lists what changed from one version to another, in form order.
type DiffResult struct {
	From    int64           `json:"from"`
	To      int64           `json:"to"`
	Changes []report.Change `json:"changes"`
}

func (h *Handler) diff(w http.ResponseWriter, r *http.Request) {
	c, _, err := h.visibleCase(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	ids := map[string]int64{}
	p := map[string]string{}
	for _, name := range []string{"from", "to"} {
		s := q.Get(name)
		n, err := strconv.ParseInt(s, 10, 64)
		switch {
		case s == "":
			p[name] = "required"
		case err != nil || n <= 0:
			p[name] = "invalid"
		}
		ids[name] = n
	}
	if len(p) > 0 {
		h.fail(w, r, invalid("from and to must be version ids", p))
		return
	}
	a, err := h.caseVersion(r, c, ids["from"])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	b, err := h.caseVersion(r, c, ids["to"])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, DiffResult{From: a.ID, To: b.ID, Changes: nonNil(report.Diff(a.Form, b.Form))})
}
