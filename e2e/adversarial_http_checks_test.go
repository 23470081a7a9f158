package e2e

// What the HTTP adversarial test reads from each surface's answers: the
// items shown and whether their source was, from the API's JSON and the
// pages' HTML, and what no answer may hold whatever it shows.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"kyoyu/policy"
	"kyoyu/store"
)

// ---- what no answer may hold -------------------------------------------------

// scan reads one answer given to v (or, for public pages, to anyone) for
// the real name of a source the oracle withholds from as.
func (hw *httpWorld) scan(as policy.Viewer, v policy.Viewer, path, body string) {
	hw.scanned++
	for _, id := range hw.withheldNames(as, body) {
		it, ok := hw.w.items[id]
		if !ok {
			hw.leaks.mismatch("viewer %s: %s shows %s, which is no item's name", hw.who(v), path, sourceName(id))
			continue
		}
		d := oracle(as, it)
		hw.leaks.mismatch("LEAK: viewer %s: %s shows %s, the real source of item %d %s; oracle %s (%s)",
			hw.who(v), path, sourceName(id), id, describeItem(it), describeDecision(d), why(as, it))
	}
}

// withheldNames lists the items whose real source body names although the
// oracle withholds it from as (or which are no items at all).
func (hw *httpWorld) withheldNames(as policy.Viewer, body string) []int64 {
	var out []int64
	for _, id := range matchIDs(nameRe, body) {
		if it, ok := hw.w.items[id]; !ok || !oracle(as, it).SeeSource {
			out = append(out, id)
		}
	}
	return out
}

// selfCheck makes sure the readers above still find what they look for,
// so that a page whose markup changed cannot pass by being unreadable.
func (hw *httpWorld) selfCheck() {
	var secret, open int64 // an item the visitor may not know the source of, and one it may
	for _, id := range hw.w.ids {
		switch d := oracle(policy.Anonymous, hw.w.items[id]); {
		case !d.SeeSource && secret == 0:
			secret = id
		case d.SeeSource && open == 0:
			open = id
		}
	}
	if secret == 0 || open == 0 {
		hw.t.Fatalf("seed %d: the world has no item whose source the visitor may know, or none it may not", hw.seed)
	}
	body := "<td>" + sourceName(open) + "</td><td>" + sourceName(secret) + "（" + label(secret) + "）</td>"
	if got := hw.withheldNames(policy.Anonymous, body); !slices.Equal(got, []int64{secret}) {
		hw.t.Fatalf("seed %d: the name scan found %v in %q, want [%d]", hw.seed, got, body, secret)
	}
	if src, problem := operatorShown(label(secret), secret); src || problem != "" {
		hw.t.Fatalf("seed %d: operatorShown(%q) = %t, %q", hw.seed, label(secret), src, problem)
	}
	if src, problem := operatorShown(sourceName(secret)+"0", secret); problem == "" {
		hw.t.Fatalf("seed %d: operatorShown took %s for %s (%t)", hw.seed, sourceName(secret)+"0", sourceName(secret), src)
	}
}

// problem records something an answer about item id got wrong besides its
// decision.
func (hw *httpWorld) problem(v policy.Viewer, path string, id int64, format string, args ...any) {
	it := hw.w.items[id]
	hw.leaks.mismatch("viewer %s: %s, item %d %s (oracle %s, %s): %s", hw.who(v), path, id, describeItem(it),
		describeDecision(oracle(v, it)), why(v, it), fmt.Sprintf(format, args...))
}

// checkCaseIDs: an anonymised case's originator (on the CEPTOAR route the
// operator itself) and operator ids are for those who may know its source.
func (hw *httpWorld) checkCaseIDs(v policy.Viewer, path string, id int64, c apiCase) {
	it := hw.w.items[id]
	d := oracle(v, it)
	switch {
	case it.Anonymised && !d.SeeSource && (c.OriginatorOrgID != 0 || c.OperatorOrgID != 0):
		hw.problem(v, path, id, "LEAK: originator_org_id=%d operator_org_id=%d of an anonymised case whose source the oracle withholds",
			c.OriginatorOrgID, c.OperatorOrgID)
	case c.Anonymised != it.Anonymised:
		hw.problem(v, path, id, "anonymised=%t", c.Anonymised)
	}
}

// checkOriginatorName: a page about an anonymised case must not name its
// originating organisation to whoever may not know the source, unless that
// organisation is on the page for another reason (the case's ministry or
// secretariat, the sharing-range section). Only generated organisations are
// looked for: their names occur nowhere else.
func (hw *httpWorld) checkOriginatorName(v policy.Viewer, path string, id int64, text string) {
	it := hw.w.items[id]
	if !it.Anonymised || oracle(v, it).SeeSource {
		return
	}
	o := hw.w.orgs[it.Originator]
	ref := hw.ref[caseOfItem[hw.db][id]]
	if o == nil || !strings.HasPrefix(o.NameJA, "検証組織") || ref == nil ||
		it.Originator == ref.MinistryOrgID || it.Originator == ref.SecretariatOrgID {
		return
	}
	// The sharing-range section names organisations by their part in the
	// range (partners, recipients) and offers the directory's organisations
	// as choices: the originator may be among them, not as the source.
	if strings.Contains(consentRe.ReplaceAllString(text, ""), o.NameJA) {
		hw.problem(v, path, id, "LEAK: names %s, the originating organisation of an anonymised case whose source the oracle withholds", o.NameJA)
	}
}

// checkRefusals: the visitor is refused everything but the public pages,
// whatever the item.
func (hw *httpWorld) checkRefusals() {
	var white, red int64
	for _, c := range hw.caseIDs {
		it := hw.w.items[hw.itemOfCase[c]]
		if it.TLP == policy.White && it.Shared && white == 0 {
			white = c
		}
		if it.TLP == policy.Red && red == 0 {
			red = c
		}
	}
	for _, c := range []int64{white, red} {
		for _, path := range []string{"/api/v1/cases", fmt.Sprintf("/api/v1/cases/%d", c), "/api/v1/notifications",
			"/reports", fmt.Sprintf("/cases/%d", c), "/notifications", "/audit"} {
			r, err := hw.page(nil, path)
			if err != nil {
				hw.leaks.mismatch("anonymous visitor: %v", err)
				continue
			}
			hw.scan(policy.Anonymous, policy.Anonymous, path, r.body)
			api := strings.HasPrefix(path, "/api/")
			if api && r.status != http.StatusUnauthorized ||
				!api && (r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin")) {
				hw.leaks.mismatch("anonymous visitor: %s answered %d (location %q), not a refusal", path, r.status, r.location)
			}
		}
	}
}

// ---- the API -----------------------------------------------------------------

// apiList pages through GET /api/v1/cases (by next_cursor) as v.
func (hw *httpWorld) apiList(q string) func(context.Context, *store.DB, policy.Viewer, []int64) (map[int64]policy.Decision, error) {
	return func(_ context.Context, _ *store.DB, v policy.Viewer, _ []int64) (map[int64]policy.Decision, error) {
		p, err := hw.person(v)
		if err != nil {
			return nil, err
		}
		shown := map[int64]policy.Decision{}
		query := url.Values{"limit": {"200"}}
		if q != "" {
			query.Set("q", q)
		}
		total := -1
		for pages := 0; ; pages++ {
			path := "/api/v1/cases?" + query.Encode()
			r, err := hw.api(p, path)
			if err != nil {
				return nil, err
			}
			if r.status != http.StatusOK || pages > 100 {
				return nil, fmt.Errorf("%s: status %d (page %d): %s", path, r.status, pages, r.body)
			}
			hw.scan(v, v, path, r.body)
			var page struct {
				Cases      []apiCase `json:"cases"`
				Total      int       `json:"total"`
				NextCursor string    `json:"next_cursor"`
			}
			if err := json.Unmarshal([]byte(r.body), &page); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if total >= 0 && page.Total != total {
				return nil, fmt.Errorf("%s: the total changed between pages: %d, then %d", path, total, page.Total)
			}
			total = page.Total
			for _, c := range page.Cases {
				id, err := hw.itemOf(c.ID)
				if err != nil {
					return nil, err
				}
				if _, dup := shown[id]; dup {
					return nil, fmt.Errorf("%s: case %d listed twice", path, c.ID)
				}
				src, problem := operatorShown(c.Operator, id)
				if problem != "" {
					hw.problem(v, path, id, "%s", problem)
				}
				hw.checkCaseIDs(v, path, id, c)
				shown[id] = policy.Decision{See: true, SeeSource: src}
			}
			if page.NextCursor == "" {
				break
			}
			query.Set("cursor", page.NextCursor)
		}
		if total != len(shown) {
			return nil, fmt.Errorf("total %d but %d cases listed", total, len(shown))
		}
		return shown, nil
	}
}

// apiDetail asks GET /api/v1/cases/{id} about each item: a case the viewer
// may not see answers exactly as one that does not exist.
func (hw *httpWorld) apiDetail(_ context.Context, _ *store.DB, v policy.Viewer, ids []int64) (map[int64]policy.Decision, error) {
	p, err := hw.person(v)
	if err != nil {
		return nil, err
	}
	missingPath := fmt.Sprintf("/api/v1/cases/%d", hw.missing)
	miss, err := hw.api(p, missingPath)
	if err != nil {
		return nil, err
	}
	if miss.status != http.StatusNotFound {
		return nil, fmt.Errorf("%s answered %d, not 404", missingPath, miss.status)
	}
	shown := map[int64]policy.Decision{}
	for _, id := range ids {
		c, ok := caseOfItem[hw.db][id]
		if !ok {
			continue
		}
		path := fmt.Sprintf("/api/v1/cases/%d", c)
		r, err := hw.api(p, path)
		if err != nil {
			return nil, err
		}
		hw.scan(v, v, path, r.body)
		switch r.status {
		case http.StatusNotFound:
			if r.body != miss.body {
				hw.problem(v, path, id, "404 body %q differs from a missing id's %q", r.body, miss.body)
			}
		case http.StatusOK:
			var out struct {
				Case          apiCase `json:"case"`
				SourceVisible bool    `json:"source_visible"`
			}
			if err := json.Unmarshal([]byte(r.body), &out); err != nil || out.Case.ID != c {
				return nil, fmt.Errorf("%s: case %d, %v: %s", path, out.Case.ID, err, r.body)
			}
			src, problem := operatorShown(out.Case.Operator, id)
			if problem != "" {
				hw.problem(v, path, id, "%s", problem)
			} else if src != out.SourceVisible {
				hw.problem(v, path, id, "operator %q but source_visible=%t", out.Case.Operator, out.SourceVisible)
			}
			hw.checkCaseIDs(v, path, id, out.Case)
			shown[id] = policy.Decision{See: true, SeeSource: src}
		default:
			return nil, fmt.Errorf("%s answered %d: %s", path, r.status, r.body)
		}
	}
	return shown, nil
}

// ---- the pages ---------------------------------------------------------------

// webList follows the case list's 次へ links from /reports?f=1&n=200 (f=1:
// an operator's default of its own cases is set aside, to list all it may
// see), reading each row's case link and operator cell.
func (hw *httpWorld) webList(q string) func(context.Context, *store.DB, policy.Viewer, []int64) (map[int64]policy.Decision, error) {
	return func(_ context.Context, _ *store.DB, v policy.Viewer, _ []int64) (map[int64]policy.Decision, error) {
		p, err := hw.person(v)
		if err != nil {
			return nil, err
		}
		query := url.Values{"f": {"1"}, "n": {"200"}}
		if q != "" {
			query.Set("q", q)
		}
		shown := map[int64]policy.Decision{}
		total := -1
		for path, pages := "/reports?"+query.Encode(), 0; path != ""; pages++ {
			r, err := hw.page(p, path)
			if err != nil {
				return nil, err
			}
			if r.status != http.StatusOK || pages > 100 {
				return nil, fmt.Errorf("%s: status %d (page %d)", path, r.status, pages)
			}
			hw.scan(v, v, path, r.body)
			m := listTotalRe.FindStringSubmatch(r.body)
			if m == nil {
				return nil, fmt.Errorf("%s: no total", path)
			}
			n, _ := strconv.Atoi(m[1])
			if total >= 0 && n != total {
				return nil, fmt.Errorf("%s: the total changed between pages: %d, then %d", path, total, n)
			}
			total = n
			for _, row := range listRowRe.FindAllStringSubmatch(r.body, -1) {
				c, _ := strconv.ParseInt(row[1], 10, 64)
				id, err := hw.itemOf(c)
				if err != nil {
					return nil, err
				}
				if _, dup := shown[id]; dup {
					return nil, fmt.Errorf("%s: case %d listed twice", path, c)
				}
				src, problem := operatorShown(row[2], id)
				if problem != "" {
					hw.problem(v, path, id, "%s", problem)
				}
				hw.checkOriginatorName(v, path, id, row[2])
				shown[id] = policy.Decision{See: true, SeeSource: src}
			}
			path = nextLink(listNextRe, r.body)
		}
		if total != len(shown) {
			return nil, fmt.Errorf("total %d but %d cases listed", total, len(shown))
		}
		return shown, nil
	}
}

// webDetail opens GET /cases/{id} for each item: the operator cell tells
// name from label; a case the viewer may not see is the page of a missing id.
func (hw *httpWorld) webDetail(_ context.Context, _ *store.DB, v policy.Viewer, ids []int64) (map[int64]policy.Decision, error) {
	p, err := hw.person(v)
	if err != nil {
		return nil, err
	}
	return hw.detailPages(v, ids, "/cases/%d", func(path string) (response, error) { return hw.page(p, path) },
		func(path string, id int64, body string) (bool, bool) {
			m := detailOpRe.FindStringSubmatch(body)
			if m == nil {
				hw.problem(v, path, id, "no operator cell (td#case-operator)")
				return false, false
			}
			src, problem := operatorShown(m[1], id)
			if problem != "" {
				hw.problem(v, path, id, "%s", problem)
			}
			hw.checkOriginatorName(v, path, id, body)
			return src, true
		}, v)
}

// publicDetail opens GET /public/cases/{id} for each item, as v.
func (hw *httpWorld) publicDetail(_ context.Context, _ *store.DB, v policy.Viewer, ids []int64) (map[int64]policy.Decision, error) {
	p := hw.people[v.PersonID]
	if v.Anonymous {
		p = nil
	}
	return hw.detailPages(v, ids, "/public/cases/%d", func(path string) (response, error) { return hw.page(p, path) },
		func(path string, id int64, body string) (bool, bool) {
			src, problem := operatorShown(body, id)
			if problem != "" {
				hw.problem(policy.Anonymous, path, id, "%s", problem)
			}
			return src, true
		}, policy.Anonymous)
}

// detailPages asks a one-case page about each item: 200 and what read
// decides, or 404 with the page a missing id gets. Its answers are read
// for names as the viewer as would be denied them.
func (hw *httpWorld) detailPages(v policy.Viewer, ids []int64, pattern string, get func(string) (response, error),
	read func(path string, id int64, body string) (seeSource, ok bool), as policy.Viewer) (map[int64]policy.Decision, error) {
	missingPath := fmt.Sprintf(pattern, hw.missing)
	miss, err := get(missingPath)
	if err != nil {
		return nil, err
	}
	if miss.status != http.StatusNotFound {
		return nil, fmt.Errorf("%s answered %d, not 404", missingPath, miss.status)
	}
	shown := map[int64]policy.Decision{}
	for _, id := range ids {
		c, ok := caseOfItem[hw.db][id]
		if !ok {
			continue
		}
		path := fmt.Sprintf(pattern, c)
		r, err := get(path)
		if err != nil {
			return nil, err
		}
		hw.scan(as, v, path, r.body)
		switch r.status {
		case http.StatusNotFound:
			if !samePage(r.body, path, miss.body, missingPath) {
				hw.problem(v, path, id, "its 404 page differs from a missing id's")
			}
		case http.StatusOK:
			if src, ok := read(path, id, r.body); ok {
				shown[id] = policy.Decision{See: true, SeeSource: src}
			}
		default:
			return nil, fmt.Errorf("%s answered %d", path, r.status)
		}
	}
	return shown, nil
}

// publicList reads the case links of a public page or feed, as v (signed
// in or not: it shows everyone the same).
func (hw *httpWorld) publicList(path string, links *regexp.Regexp) func(context.Context, *store.DB, policy.Viewer, []int64) (map[int64]policy.Decision, error) {
	return func(_ context.Context, _ *store.DB, v policy.Viewer, _ []int64) (map[int64]policy.Decision, error) {
		p := hw.people[v.PersonID]
		if v.Anonymous {
			p = nil
		}
		r, err := hw.page(p, path)
		if err != nil {
			return nil, err
		}
		if r.status != http.StatusOK {
			return nil, fmt.Errorf("%s: status %d", path, r.status)
		}
		hw.scan(policy.Anonymous, v, path, r.body)
		shown := map[int64]policy.Decision{}
		for _, m := range links.FindAllStringSubmatch(r.body, -1) {
			c, _ := strconv.ParseInt(m[1], 10, 64)
			id, err := hw.itemOf(c)
			if err != nil {
				return nil, err
			}
			if _, dup := shown[id]; dup {
				return nil, fmt.Errorf("%s: case %d listed twice", path, c)
			}
			shown[id] = policy.Decision{See: true}
		}
		return shown, nil
	}
}
