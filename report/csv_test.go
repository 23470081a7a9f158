package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/internal/testkit"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/store"
)

// readCSV checks the envelope of an export (BOM, CRLF) and returns its
// heading, its rows and its last line if that is a note.
func readCSV(t *testing.T, data []byte) (head []string, rows [][]string, note string) {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		t.Fatalf("no BOM: %.40q", data)
	}
	if bytes.Count(data, []byte("\n")) != bytes.Count(data, []byte("\r\n")) {
		t.Error("lines do not end with CRLF")
	}
	r := csv.NewReader(bytes.NewReader(data[3:]))
	r.FieldsPerRecord = -1 // the note is one field
	all, err := r.ReadAll()
	if err != nil || len(all) == 0 {
		t.Fatalf("%v: %.200q", err, data)
	}
	head, rows = all[0], all[1:]
	if n := len(rows); n > 0 && len(rows[n-1]) == 1 && strings.HasPrefix(rows[n-1][0], "#") {
		note, rows = rows[n-1][0], rows[:n-1]
	}
	return head, rows, note
}

// listAll is every case v may see through the list, newest first.
func listAll(t *testing.T, db *store.DB, v policy.Viewer, f store.CaseFilter) []*kyoyu.Case {
	t.Helper()
	var out []*kyoyu.Case
	f.Limit = 200
	for {
		page, err := db.ListCases(context.Background(), v, f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Cases...)
		if page.NextAt == nil {
			return out
		}
		f.BeforeAt, f.BeforeID = page.NextAt, page.NextID
	}
}

// The case list as CSV: for each person exactly the cases the list shows
// them, in its order, an anonymised operator by its label to those not
// entitled to the source; across several pages; cut at the bound with a
// note; formulas neutralised; audited as an export and row by row for RED
// and AMBER.
func TestCasesCSV(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		stixCases(t, w)
		// Enough more cases to span pages (200 a page), one with a title a
		// spreadsheet would run as a formula.
		ministry, err := db.OrganisationByCode(ctx, "meti")
		if err != nil {
			t.Fatal(err)
		}
		nisc, err := db.OrganisationByCode(ctx, "nisc")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 430 {
			f := kyoyu.ReportForm{TLP: "green", Sector: "electricity", Description: fmt.Sprintf("検証用の事案 %d。", i)}
			if i == 7 {
				f.Description = "=HYPERLINK(\"http://evil.example/\",\"click\")"
			}
			it := policy.Item{Kind: policy.Report, TLP: policy.Green, Originator: w.reporter.Organisation.ID, Shared: true,
				Holders: []int64{ministry.ID, nisc.ID}, Sectors: []string{"electricity"}}
			ver := kyoyu.ReportVersion{Stage: kyoyu.StageMinistry, OrgID: ministry.ID, Released: true, Form: f}
			if _, _, err := db.SeedCase(ctx, kyoyu.RouteMinistry, ministry.ID, 0, "東和電力株式会社", "", it, []kyoyu.ReportVersion{ver}); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []*account.Principal{w.reporter, w.secretariat, w.liaison, w.analyst, w.other} {
			var buf bytes.Buffer
			acc, err := w.svc.ExportCasesCSV(ctx, p, "192.0.2.7", report.CasesCSVOptions{AnonymisedNote: "（匿名化済み）", Describe: "f=1"}, &buf)
			if err != nil {
				t.Fatal(err)
			}
			head, rows, note := readCSV(t, buf.Bytes())
			want := listAll(t, db, view(p), store.CaseFilter{})
			if strings.Join(head, ",") != strings.Join(report.CSVHeadings("ja"), ",") || note != "" || acc.Truncated {
				t.Errorf("%s: heading %v, note %q, truncated %t", p.Person.Email, head, note, acc.Truncated)
			}
			if len(rows) != len(want) || acc.Rows != len(want) {
				t.Fatalf("%s: %d rows (account %d), the list shows %d", p.Person.Email, len(rows), acc.Rows, len(want))
			}
			amber := 0
			for i, c := range want {
				row := rows[i]
				operator := c.Operator
				if c.Anonymised {
					operator += "（匿名化済み）"
				}
				if row[0] != c.CaseNumber || row[4] != operator || row[8] != c.TLP || row[11] != report.CSVCell(c.Title) {
					t.Errorf("%s: row %d %v, the list shows %s %q %s %q", p.Person.Email, i, row, c.CaseNumber, operator, c.TLP, c.Title)
				}
				if c.ReceivedAt != nil && !strings.HasSuffix(row[2], "+09:00") {
					t.Errorf("received at %q is not JST ISO 8601", row[2])
				}
				if strings.HasPrefix(row[11], "=") {
					t.Errorf("a formula left as is: %q", row[11])
				}
				if c.TLP == "red" || c.TLP == "amber" {
					amber++
				}
				_, d, err := db.Case(ctx, view(p), c.ID)
				if err != nil {
					t.Fatalf("%s: a row for case %d it may not open: %v", p.Person.Email, c.ID, err)
				}
				if c.Anonymised && !d.SeeSource && strings.Contains(row[4], "東和電力") {
					t.Errorf("LEAK: %s sees the source of case %d in %q", p.Person.Email, c.ID, row[4])
				}
			}
			reads, _ := db.AuditEntries(ctx, store.AuditFilter{Action: "case.export_csv", PersonID: p.Person.ID, Limit: 1000})
			exports, _ := db.AuditEntries(ctx, store.AuditFilter{Action: "cases.export_csv", PersonID: p.Person.ID})
			if len(reads) != amber || len(exports) != 1 || !strings.Contains(exports[0].Detail, fmt.Sprintf("rows=%d ", len(want))) ||
				!strings.Contains(exports[0].Detail, "filter=f=1") || exports[0].IP != "192.0.2.7" {
				t.Errorf("%s: %d row entries for %d RED/AMBER rows; export entries %+v", p.Person.Email, len(reads), amber, exports)
			}
			t.Logf("%s: %d rows, %d of them RED or AMBER", p.Person.Email, len(rows), amber)
			if p == w.analyst && len(want) < 430 {
				t.Fatalf("NISC sees only %d cases", len(want))
			}
		}
		if !bytes.Contains([]byte(report.CSVCell("=1+1")), []byte("'=1+1")) || report.CSVCell("-5") != "'-5" || report.CSVCell("@SUM(A1)") != "'@SUM(A1)" ||
			report.CSVCell("+81") != "'+81" || report.CSVCell("東和") != "東和" || report.CSVCell("") != "" {
			t.Error("CSVCell")
		}

		// Filtered as the list is, and cut at the bound with a note.
		var buf bytes.Buffer
		f := store.CaseFilter{TLP: "green", Sector: "electricity"}
		acc, err := w.svc.ExportCasesCSV(ctx, w.analyst, "192.0.2.7", report.CasesCSVOptions{Filter: f, Lang: "en", MaxRows: 250}, &buf)
		if err != nil {
			t.Fatal(err)
		}
		_, rows, note := readCSV(t, buf.Bytes())
		want := listAll(t, db, view(w.analyst), f)
		if len(rows) != 250 || acc.Rows != 250 || !acc.Truncated || !strings.Contains(note, "250") || len(want) <= 250 {
			t.Errorf("bounded export: %d rows, truncated %t, note %q (the list has %d)", len(rows), acc.Truncated, note, len(want))
		}
		for i, row := range rows {
			if row[0] != want[i].CaseNumber || row[8] != "green" || row[5] != "Electricity" && !strings.Contains(row[5], "lectric") {
				t.Fatalf("row %d %v, want %s", i, row, want[i].CaseNumber)
			}
		}
		// A query the list refuses is refused before anything is written.
		buf.Reset()
		began := false
		if _, err := w.svc.ExportCasesCSV(ctx, w.analyst, "x", report.CasesCSVOptions{Filter: store.CaseFilter{Query: "！？"}, Begin: func() { began = true }}, &buf); kyoyu.ErrorCode(err) != kyoyu.EINVALID || began || buf.Len() != 0 {
			t.Errorf("a refused query: %v, began %t, %d bytes", err, began, buf.Len())
		}
	})
}
