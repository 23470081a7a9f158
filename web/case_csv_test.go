package web_test

import (
	"bytes"
	"encoding/csv"
	"html"
	"regexp"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/demo"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

var caseCSVLink = regexp.MustCompile(`<a id="case-csv" href="([^"]+)">`)

// The list's CSV link downloads the list as filtered, every page of it,
// as the person sees it: UTF-8 with a BOM, an anonymised operator by its
// label to those not entitled to the source, formulas neutralised.
func TestCaseListCSV(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		w := newCaseWorld(t, db)
		anon, numAnon := w.operatorCase(kyoyu.RouteCEPTOAR, caseSpec{tlp: "amber", importance: "warning", event: "intrusion", sector: "electricity",
			description: "監視サーバへの侵入を確認した。", outlook: "investigating", causes: []string{"suspicious_email"}})
		_, numGas := w.ministryCase(caseSpec{tlp: "green", importance: "advisory", event: "confidentiality", sector: "gas",
			description: "=cmd|' /C calc'!A0 顧客情報の漏洩を確認した。", outlook: "completed", causes: []string{"insider"}})
		_ = anon

		nisc := w.signIn(analyst, demo.Password)
		page := nisc.get("/reports?f=1&sector=electricity&n=1")
		m := caseCSVLink.FindStringSubmatch(page.body)
		if m == nil {
			t.Fatalf("no CSV link on the list:\n%s", page.body)
		}
		link := html.UnescapeString(m[1])
		if !strings.HasPrefix(link, "/cases.csv?") || !strings.Contains(link, "sector=electricity") || strings.Contains(link, "before_") {
			t.Errorf("CSV link %q does not carry the list's filter", link)
		}
		a := nisc.get(link)
		if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(a.header.Get("Content-Disposition"), ".csv") || a.header.Get("X-Kyoyu-Row-Limit") != "100000" {
			t.Fatalf("download: %d %v", a.status, a.header)
		}
		if !strings.HasPrefix(a.body, "\ufeff") {
			t.Fatal("no BOM")
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(a.body, "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0][0] != "識別番号" || rows[1][0] != numAnon || rows[1][5] != "電力" && !strings.Contains(rows[1][5], "電") {
			t.Fatalf("NISC's electricity cases: %q", rows)
		}
		if !strings.Contains(rows[1][4], "匿名化") || strings.Contains(rows[1][4], "東和") {
			t.Errorf("NISC's row %q: the source named, or not said to be anonymised", rows[1])
		}
		if all := nisc.get("/cases.csv?f=1&sector=gas"); !strings.Contains(all.body, ",'=cmd|") {
			t.Errorf("a formula not neutralised:\n%s", all.body)
		}
		// The reporter is its source and sees its name; the gas operator
		// sees neither case's source and only what the list shows it.
		op := w.signIn(reporter, demo.Password)
		mine := op.get("/cases.csv?f=1")
		if !strings.Contains(mine.body, "東和") || !strings.Contains(mine.body, numAnon) {
			t.Errorf("the source's own CSV:\n%s", mine.body)
		}
		gas := w.signIn(gasStaff, demo.Password)
		theirs := gas.get("/cases.csv")
		if strings.Contains(theirs.body, numAnon) || !strings.Contains(theirs.body, numGas) || strings.Contains(theirs.body, "東和") {
			t.Errorf("the gas operator's CSV:\n%s", theirs.body)
		}
		if !bytes.Equal([]byte(listedNumbers(gas.get("/cases").body)), []byte(strings.Join(csvNumbers(theirs.body), ","))) {
			t.Errorf("the gas operator's CSV %v is not its list %v", csvNumbers(theirs.body), listedNumbers(gas.get("/cases").body))
		}
		// A filter the list refuses goes back to the list, which says why.
		bad := nisc.get("/cases.csv?f=1&tlp=black")
		if bad.status != 303 || !strings.HasPrefix(bad.header.Get("Location"), "/cases?") {
			t.Errorf("a refused filter: %d %v", bad.status, bad.header)
		}
		exports, _ := db.AuditEntries(t.Context(), store.AuditFilter{Action: "cases.export_csv", PersonID: w.analyst.Person.ID})
		if len(exports) != 2 || !strings.Contains(exports[1].Detail, "rows=1 ") || !strings.Contains(exports[1].Detail, "sector=electricity") {
			t.Errorf("NISC's export audited as %+v", exports)
		}
	})
}

var caseNumberCell = regexp.MustCompile(`<td class="nowrap"><a href="/cases/\d+">([^<]+)</a></td>`)

func listedNumbers(body string) string {
	var out []string
	for _, m := range caseNumberCell.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return strings.Join(out, ",")
}

func csvNumbers(body string) []string {
	rows, _ := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[0])
	}
	return out
}
