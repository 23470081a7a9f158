package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/search"
	"kyoyu/store"
)

// caseRoutes registers the pages that read cases.
func (h *Handler) caseRoutes() {
	h.caseTemplates()
	m := h.mux
	m.HandleFunc("GET /reports", h.signedIn(h.caseList))
	m.HandleFunc("GET /cases", h.signedIn(h.caseList))
	m.HandleFunc("GET /cases/{id}", h.signedIn(h.caseDetail))
	m.HandleFunc("GET /cases/{id}/diff", h.signedIn(h.caseDiff))
	m.HandleFunc("GET /cases/{id}/versions/{vid}", h.signedIn(h.caseVersion))
	m.HandleFunc("GET /cases/{id}/versions/{vid}/print", h.signedIn(h.casePrint))
	m.HandleFunc("GET /notifications", h.signedIn(h.caseNotifications))
}

// casePageSize is how many cases a page lists unless ?n= asks otherwise.
const casePageSize = 50

// caseStatuses are the values of the status filter, in the order a
// report travels.
var caseStatuses = []kyoyu.CaseStatus{kyoyu.CaseDraft, kyoyu.CaseAtCEPTOAR, kyoyu.CaseAtMinistry, kyoyu.CaseAtNISC}

// caseFilterForm is the filter as typed, to show it again.
type caseFilterForm struct {
	Sector, EventClass, Cause, Importance, TLP, Status string
	Overdue, Mine                                      bool
	From, To, Q                                        string
	N                                                  int
	Exact                                              bool // count every match (?count=exact)
}

type caseOption struct {
	Code, Label string
}

type caseOptionGroup struct {
	Label   string
	Options []caseOption
}

// caseRow is one case of the list, as the viewer may see it.
type caseRow struct {
	ID         int64
	Number     string
	Reports    int
	LastAt     string
	Operator   string
	Anonymised bool
	Sector     string
	Importance string
	EventClass string
	TLP        string
	TLPLabel   string
	Status     string
	Overdue    bool
	Due        string
	Title      string
	Snippet    string
}

type caseListView struct {
	Page
	Action   string // the path the filter form submits to
	Inbox    bool   // NISC's inbox rather than an organisation's cases
	F        caseFilterForm
	Problem  string // a locale key, shown on the filter form
	Filtered bool
	Sectors  []caseOption
	Events   []caseOption
	Causes   []caseOptionGroup
	Levels   []caseOption // importance
	TLPs     []caseOption
	Statuses []caseOption
	Rows     []caseRow
	Total    int
	Capped   bool   // Total is a lower bound (store.TotalBound)
	ExactURL string // this list counted exactly, when Capped
	CSV      string // this list (every page) as CSV
	Next     string // the next page's URL, if any
	First    string // the first page's URL, when not on it
}

// TotalText is «全 N 件», or «N 件以上» when the count stopped at its bound.
func (v *caseListView) TotalText() string {
	if v.Capped {
		return caseSprintf(v.Lang, "cases.total_at_least", v.Total)
	}
	return caseSprintf(v.Lang, "cases.total", v.Total)
}

// caseList is the reports landing and the case list: for NISC the inbox
// of received cases, one row per case; for operators their own cases by
// default; for ministries and secretariats the cases they may see.
// Filters are a GET form; pages continue by key (?before_at, ?before_id),
// so a page stays right while new reports arrive.
func (h *Handler) caseList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pr := principal(r)
	v := &caseListView{Page: h.page(r, "reports.title"), Action: r.URL.Path, Inbox: pr.Organisation.Has(kyoyu.KindNISC)}
	refs, err := h.caseRefs(ctx, v.Lang, "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.setOptions(refs)
	q := r.URL.Query()
	// An operator lands on the cases it reported. The store's "mine" means
	// originated here, so ministries and secretariats, which mostly pass on
	// others' reports, land on every case they may see (their own route's
	// first of all) and tick "mine" for the ones they wrote.
	mineByDefault := r.URL.Path == "/reports" && pr.Organisation.Has(kyoyu.KindOperator)
	f, form, problem := parseCaseFilter(q, refs, mineByDefault)
	v.F = form
	v.Filtered = form.Sector != "" || form.EventClass != "" || form.Cause != "" || form.Importance != "" || form.TLP != "" ||
		form.Status != "" || form.Overdue || form.From != "" || form.To != "" || form.Q != ""
	if problem != "" {
		v.Problem = problem
		h.render(w, r, http.StatusUnprocessableEntity, "case_list", v)
		return
	}
	viewer := caseViewerOf(r)
	page, err := h.db.ListCases(ctx, viewer, f)
	if err != nil {
		var ke *kyoyu.Error
		if errors.As(err, &ke) && ke.Code == kyoyu.EINVALID {
			v.Problem = "cases.bad_query"
			h.render(w, r, http.StatusUnprocessableEntity, "case_list", v)
			return
		}
		h.fail(w, r, err)
		return
	}
	v.Total, v.Capped = page.Total, page.TotalCapped
	if v.Capped {
		exact := form
		exact.Exact = true
		v.ExactURL = r.URL.Path + "?" + exact.values().Encode()
	}
	for _, c := range page.Cases {
		row := caseRow{ID: c.ID, Number: c.CaseNumber, Reports: c.ReportCount, Operator: c.Operator, Anonymised: c.Anonymised,
			Sector: refs.sectorName(c.Sector), Importance: refs.name("importance", c.Importance),
			EventClass: refs.name("event_class", c.EventClass), TLP: c.TLP, TLPLabel: refs.name("tlp", c.TLP),
			Status: "cases.status." + string(c.Status), Overdue: c.Overdue, Title: c.Title}
		at := c.CreatedAt
		if c.LastReportAt != nil {
			at = *c.LastReportAt
		}
		row.LastAt = kyoyu.FormatJST(at)
		if c.FollowUpDue != nil {
			row.Due = kyoyu.FormatJST(*c.FollowUpDue)
		}
		if form.Q != "" {
			row.Snippet, err = h.caseSnippet(ctx, viewer, c, form.Q)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			if row.Snippet == row.Title {
				row.Snippet = "" // the title already shows it
			}
		}
		v.Rows = append(v.Rows, row)
	}
	link := form.values()
	v.CSV = "/cases.csv?" + link.Encode()
	if page.NextAt != nil {
		next := form.values()
		next.Set("before_at", page.NextAt.UTC().Format(time.RFC3339Nano))
		next.Set("before_id", strconv.FormatInt(page.NextID, 10))
		v.Next = r.URL.Path + "?" + next.Encode()
	}
	if f.BeforeAt != nil {
		v.First = r.URL.Path + "?" + link.Encode()
	}
	h.render(w, r, http.StatusOK, "case_list", v)
}

// values is the filter as query parameters, for the paging links.
func (f caseFilterForm) values() url.Values {
	q := url.Values{"f": {"1"}}
	for k, s := range map[string]string{"sector": f.Sector, "event_class": f.EventClass, "cause": f.Cause, "importance": f.Importance,
		"tlp": f.TLP, "status": f.Status, "from": f.From, "to": f.To, "q": f.Q} {
		if s != "" {
			q.Set(k, s)
		}
	}
	if f.Overdue {
		q.Set("overdue", "1")
	}
	if f.Mine {
		q.Set("mine", "1")
	}
	if f.N != casePageSize {
		q.Set("n", strconv.Itoa(f.N))
	}
	if f.Exact {
		q.Set("count", "exact")
	}
	return q
}

// parseCaseFilter reads the filter form. A value that is not one of the
// form's choices, or a malformed date or page position, is a problem (a
// locale key) to show on the form, never an error page.
func parseCaseFilter(q url.Values, refs *caseRefs, mineByDefault bool) (store.CaseFilter, caseFilterForm, string) {
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	form := caseFilterForm{Sector: get("sector"), EventClass: get("event_class"), Cause: get("cause"), Importance: get("importance"),
		TLP: get("tlp"), Status: get("status"), Overdue: get("overdue") != "", From: get("from"), To: get("to"), Q: get("q"), N: casePageSize}
	form.Mine = mineByDefault
	form.Exact = get("count") == "exact"
	if get("f") != "" {
		form.Mine = get("mine") != ""
	}
	f := store.CaseFilter{Sector: form.Sector, EventClass: form.EventClass, Cause: form.Cause, Importance: form.Importance,
		TLP: form.TLP, Status: form.Status, Overdue: form.Overdue, Query: form.Q, Mine: form.Mine, ExactTotal: form.Exact}
	if n := get("n"); n != "" {
		v, err := strconv.Atoi(n)
		if err != nil || v < 1 || v > 200 {
			return f, form, "cases.bad_page"
		}
		form.N = v
	}
	f.Limit = form.N
	checks := []struct {
		value, kind, problem string
	}{
		{form.EventClass, "event_class", "cases.bad_event_class"},
		{form.Cause, "cause", "cases.bad_cause"},
		{form.Importance, "importance", "cases.bad_importance"},
		{form.TLP, "tlp", "cases.bad_tlp"},
	}
	if form.Sector != "" {
		if _, ok := refs.sector[form.Sector]; !ok {
			return f, form, "cases.bad_sector"
		}
	}
	for _, c := range checks {
		if c.value != "" && !refs.valid(c.kind, c.value) {
			return f, form, c.problem
		}
	}
	if form.Status != "" && !slices.Contains(caseStatuses, kyoyu.CaseStatus(form.Status)) {
		return f, form, "cases.bad_status"
	}
	day := func(s string) (*time.Time, bool) {
		if s == "" {
			return nil, true
		}
		t, err := time.ParseInLocation("2006-01-02", s, kyoyu.JST)
		return &t, err == nil
	}
	from, ok1 := day(form.From)
	to, ok2 := day(form.To)
	if !ok1 || !ok2 {
		return f, form, "cases.bad_date"
	}
	if from != nil && to != nil && from.After(*to) {
		return f, form, "cases.bad_range"
	}
	if to != nil {
		end := to.AddDate(0, 0, 1) // the whole of the last day, in JST
		to = &end
	}
	f.From, f.To = from, to
	if form.Q != "" && len(search.QueryTokens(form.Q)) == 0 {
		return f, form, "cases.bad_query"
	}
	at, id := get("before_at"), get("before_id")
	if at != "" || id != "" {
		t, err := time.Parse(time.RFC3339Nano, at)
		n, err2 := strconv.ParseInt(id, 10, 64)
		if err != nil || err2 != nil || n < 1 {
			return f, form, "cases.bad_page"
		}
		f.BeforeAt, f.BeforeID = &t, n
	}
	return f, form, ""
}

func (v *caseListView) setOptions(refs *caseRefs) {
	for _, s := range refs.sectors {
		v.Sectors = append(v.Sectors, caseOption{s.Code, refs.sectorName(s.Code)})
	}
	for _, kind := range []struct {
		name string
		to   *[]caseOption
	}{{"event_class", &v.Events}, {"importance", &v.Levels}, {"tlp", &v.TLPs}} {
		for _, c := range refs.kinds[kind.name] {
			*kind.to = append(*kind.to, caseOption{c.Code, refs.name(kind.name, c.Code)})
		}
	}
	for _, g := range refs.kinds["cause_group"] {
		og := caseOptionGroup{Label: refs.name("cause_group", g.Code)}
		for _, c := range refs.kinds["cause"] {
			if c.Group == g.Code {
				og.Options = append(og.Options, caseOption{c.Code, refs.name("cause", c.Code)})
			}
		}
		v.Causes = append(v.Causes, og)
	}
	for _, s := range caseStatuses {
		v.Statuses = append(v.Statuses, caseOption{string(s), T(v.Lang, "cases.status."+string(s))})
	}
}

// caseSnippetWidth is how many characters of text a search result shows.
const caseSnippetWidth = 80

// caseSnippet is the text around a search match, taken only from what the
// viewer may read: the case's title as listed, else the newest released
// version the store lets the viewer see.
func (h *Handler) caseSnippet(ctx context.Context, v policy.Viewer, c *kyoyu.Case, q string) (string, error) {
	if caseMatches(c.Title, q) {
		return search.Snippet(c.Title, q, caseSnippetWidth), nil
	}
	vers, err := h.db.Versions(ctx, v, c.ID)
	if err != nil {
		return "", err
	}
	for i := len(vers) - 1; i >= 0; i-- {
		if !vers[i].Released {
			continue
		}
		f := vers[i].Form
		texts := []string{f.Description, f.AffectedSystem, f.Supplementary, f.Lessons, f.OtherBodiesNotified, f.PressTitle, f.TLPNote}
		for _, r := range f.Timeline {
			texts = append(texts, r.Event)
		}
		for _, t := range texts {
			if caseMatches(t, q) {
				return search.Snippet(t, q, caseSnippetWidth), nil
			}
		}
		break
	}
	return search.Snippet(c.Title, q, caseSnippetWidth), nil
}

// matches reports whether text holds any token of the query.
func caseMatches(text, q string) bool {
	tokens := search.Tokens(text)
	for _, t := range search.QueryTokens(q) {
		if slices.Contains(tokens, t) {
			return true
		}
	}
	return false
}
