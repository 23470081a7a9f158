package e2e

// The case list as CSV in the adversarial world, over HTTP: the page's
// download (GET /cases.csv) and the API's (GET /api/v1/cases.csv) are held
// to the oracle like the list itself — every viewer's CSV holds exactly
// the cases the oracle lets them see, each once, and names a case's
// operator by its real name only to whoever may know the source (the
// operator cell is the generated name 実名事業者<item> or label
// 匿名事業者<item>, which also tells which item a row is). Every answer
// is scanned for withheld names like any other, and a row never names an
// anonymised case's originating organisation to others.

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"

	"kyoyu/policy"
	"kyoyu/store"
)

// csvSurfaces are the case list's CSV exports.
func (hw *httpWorld) csvSurfaces() []surface {
	return []surface{
		{name: "GET /cases.csv", kind: policy.Report, showsSource: true, show: hw.caseCSV(false)},
		{name: "GET /api/v1/cases.csv", kind: policy.Report, showsSource: true, show: hw.caseCSV(true)},
	}
}

// caseCSVColumns are where the export puts what the check reads.
const (
	csvColNumber   = 0
	csvColOperator = 4
	csvColTLP      = 8
)

// caseCSV downloads the whole list as CSV as v and reads which items it
// holds and whether each names its source.
func (hw *httpWorld) caseCSV(api bool) func(context.Context, *store.DB, policy.Viewer, []int64) (map[int64]policy.Decision, error) {
	return func(_ context.Context, _ *store.DB, v policy.Viewer, _ []int64) (map[int64]policy.Decision, error) {
		p, err := hw.person(v)
		if err != nil {
			return nil, err
		}
		path := "/cases.csv?f=1"
		get := hw.page
		if api {
			path, get = "/api/v1/cases.csv", hw.api
		}
		r, err := get(p, path)
		if err != nil {
			return nil, err
		}
		if r.status != http.StatusOK {
			return nil, fmt.Errorf("%s: status %d: %.300s", path, r.status, r.body)
		}
		hw.scan(v, v, path, r.body)
		if !strings.HasPrefix(r.body, "\ufeff") {
			return nil, fmt.Errorf("%s: no byte order mark", path)
		}
		rd := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\ufeff")))
		rd.FieldsPerRecord = -1
		rows, err := rd.ReadAll()
		if err != nil || len(rows) == 0 {
			return nil, fmt.Errorf("%s: not CSV (%v): %.300s", path, err, r.body)
		}
		shown := map[int64]policy.Decision{}
		for i, row := range rows[1:] {
			if len(row) == 1 && strings.HasPrefix(row[0], "#") {
				return nil, fmt.Errorf("%s: the export was cut (%q): the check cannot tell whether it holds every case", path, row[0])
			}
			if len(row) != len(rows[0]) {
				return nil, fmt.Errorf("%s: row %d has %d cells, the heading %d", path, i+1, len(row), len(rows[0]))
			}
			cell := row[csvColOperator]
			ids := append(matchIDs(nameRe, cell), matchIDs(labelRe, cell)...)
			if len(ids) == 0 {
				return nil, fmt.Errorf("%s: row %d names no generated operator: %q", path, i+1, row)
			}
			id := ids[0]
			it, ok := hw.w.items[id]
			if !ok || it.Kind != policy.Report {
				return nil, fmt.Errorf("%s: row %d is about item %d, which is no case of the world", path, i+1, id)
			}
			if _, dup := shown[id]; dup {
				return nil, fmt.Errorf("%s: item %d listed twice", path, id)
			}
			src, problem := operatorShown(cell, id)
			if problem != "" {
				hw.problem(v, path, id, "%s", problem)
			}
			hw.checkOriginatorName(v, path, id, strings.Join(row, "\t"))
			if ref := hw.ref[caseOfItem[hw.db][id]]; ref != nil && row[csvColNumber] != ref.CaseNumber {
				hw.problem(v, path, id, "case number %q, not %q", row[csvColNumber], ref.CaseNumber)
			}
			if policy.TLP(row[csvColTLP]) != it.TLP {
				hw.problem(v, path, id, "TLP %q, not the case's %s", row[csvColTLP], it.TLP)
			}
			shown[id] = policy.Decision{See: true, SeeSource: src}
		}
		return shown, nil
	}
}

// checkCSVRefusals: the visitor is refused the case list's CSV.
func (hw *httpWorld) checkCSVRefusals() {
	for _, path := range []string{"/cases.csv", "/cases.csv?f=1&tlp=white", "/api/v1/cases.csv", "/api/v1/cases.csv?tlp=white"} {
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
