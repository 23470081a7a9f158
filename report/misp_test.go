package report_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/internal/testkit"
	"kyoyu/misp"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/store"
)

func mispFile(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "misp", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func countImports(t *testing.T, db *store.DB) int {
	t.Helper()
	es, err := db.AuditEntries(context.Background(), store.AuditFilter{Action: "stix.import"})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// A MISP event is stored as one item under its narrowest range, read back
// as MISP by those the range admits only, and not stored twice.
func TestImportMISP(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		data := mispFile(t, "objects-tlp-amber.json")
		acc, err := w.svc.ImportMISP(ctx, w.reporter, "192.0.2.1", data, report.MISPImportOptions{Via: "api"})
		if err != nil {
			t.Fatal(err)
		}
		if acc.Stored != 1 || len(acc.Events) != 1 {
			t.Fatalf("account %+v", acc)
		}
		ea := acc.Events[0]
		if ea.ItemID == 0 || ea.TLP != "amber" || ea.RangeFrom != "tlp_tag" || ea.Imported != 11 || ea.Skipped != 1 || ea.STIX == nil || ea.STIX.Stored == 0 {
			t.Fatalf("event account %+v", ea)
		}
		// Read back as MISP: the range's distribution and tag, the attributes.
		ev, err := w.svc.ExportImportedMISP(ctx, w.analyst, "192.0.2.9", ea.ItemID)
		if err != nil {
			t.Fatal(err)
		}
		if *ev.Distribution != 0 || ev.Tags[0].Name != "tlp:amber" || ev.UUID != "3f1c2e8a-7b4d-4c2a-9e61-2b8d7f0a1c55" || ev.Orgc.Name != "Example CSIRT" {
			t.Errorf("exported event %+v", ev)
		}
		n := len(ev.Attributes)
		for _, o := range ev.Objects {
			n += len(o.Attributes)
		}
		if n != 11 {
			t.Errorf("%d attributes back, want 11", n)
		}
		// AMBER: the importer's sectors and NISC, not another sector.
		for p, want := range map[*account.Principal]bool{w.reporter: true, w.analyst: true, w.liaison: true, w.other: false} {
			_, err := w.svc.ExportImportedMISP(ctx, p, "192.0.2.9", ea.ItemID)
			if got := err == nil; got != want {
				t.Errorf("%s reads the AMBER event: %v (%v)", p.Person.Email, got, err)
			}
			if err != nil && !errors.Is(err, kyoyu.ErrNotFound) {
				t.Errorf("%s: %v, want not found", p.Person.Email, err)
			}
		}
		// Served by the STIX reading path too, as AMBER.
		page, err := w.svc.STIXObjects(ctx, w.analyst, "192.0.2.9", store.STIXFilter{ItemID: ea.ItemID}, 1)
		if err != nil || len(page.Objects) == 0 || page.Objects[0].TLP != policy.Amber {
			t.Fatalf("STIX objects %v %v", page, err)
		}
		// Again: nothing new, nothing stored, every attribute skipped.
		again, err := w.svc.ImportMISP(ctx, w.reporter, "192.0.2.1", data, report.MISPImportOptions{Via: "api"})
		if err != nil || again.Stored != 0 || again.Unchanged != 1 || again.Events[0].Imported != 0 {
			t.Fatalf("second import %+v %v", again, err)
		}
		// The importer may narrow, never widen.
		wide, err := w.svc.ImportMISP(ctx, w.secretariat, "192.0.2.1", data, report.MISPImportOptions{Range: policy.White, Via: "ui"})
		if err != nil || wide.Events[0].TLP != "amber" {
			t.Fatalf("widened: %+v %v", wide, err)
		}
		es, _ := db.AuditEntries(ctx, store.AuditFilter{Action: "stix.import"})
		if len(es) != 2 || !strings.Contains(es[0].Detail+es[1].Detail, "source=misp via=") {
			t.Errorf("audit %+v", es)
		}
		// Only people who handle incident information import.
		clerk := staff(t, db, "jpcert", "clerk@jpcert.example.jp", kyoyu.RoleOrgAdmin, false)
		if _, err := w.svc.ImportMISP(ctx, clerk, "192.0.2.5", data, report.MISPImportOptions{}); kyoyu.ErrorCode(err) != kyoyu.EFORBIDDEN {
			t.Errorf("a clerk imports: %v", err)
		}
	})
}

// A file of several events is stored whole or not at all.
func TestImportMISPBatch(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		one := string(bytes.TrimSpace(mispFile(t, "circl-56bf399d.json")))
		two := string(bytes.TrimSpace(mispFile(t, "circl-regin-54884656-excerpt.json")))
		// The third event says nothing of its range: the whole file is refused.
		bad := `{"Event":{"uuid":"7c9e6679-7425-40de-944b-e07fc1f90ae7","info":"no range","Attribute":[]}}`
		_, err := w.svc.ImportMISP(ctx, w.analyst, "192.0.2.9", []byte("["+one+","+two+","+bad+"]"), report.MISPImportOptions{Via: "cli"})
		if kyoyu.ErrorCode(err) != kyoyu.EINVALID {
			t.Fatalf("a file with an event without range: %v", err)
		}
		if n := countImports(t, db); n != 0 {
			t.Fatalf("%d events stored from a refused file", n)
		}
		acc, err := w.svc.ImportMISP(ctx, w.analyst, "192.0.2.9", []byte("["+one+","+two+"]"), report.MISPImportOptions{Via: "cli"})
		if err != nil || acc.Stored != 2 || acc.Events[0].ItemID == 0 || acc.Events[1].ItemID == 0 || acc.Events[0].ItemID == acc.Events[1].ItemID {
			t.Fatalf("%+v %v", acc, err)
		}
		// WHITE events reach the public.
		if _, err := w.svc.ExportImportedMISP(ctx, &account.Principal{}, "192.0.2.9", acc.Events[0].ItemID); err != nil {
			t.Errorf("the public does not read a WHITE event: %v", err)
		}
	})
}

// A case as a MISP event says exactly what its STIX export says: not found
// for those who may not see it, its range as distribution and tag, and
// the operator of an anonymised case never named to those who may not
// know the source.
func TestExportCaseMISP(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		ids := stixCases(t, w)
		exported := 0
		for _, id := range ids {
			for _, p := range []*account.Principal{w.reporter, w.secretariat, w.liaison, w.analyst, w.other} {
				c, d, seeErr := db.Case(ctx, view(p), id)
				ev, err := w.svc.ExportCaseMISP(ctx, p, "192.0.2.9", id, 0)
				if seeErr != nil {
					if !errors.Is(err, kyoyu.ErrNotFound) {
						t.Fatalf("%s exports case %d it may not see: %v", p.Person.Email, id, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s exports case %d: %v", p.Person.Email, id, err)
				}
				exported++
				vers, _ := db.Versions(ctx, view(p), id)
				last := vers[len(vers)-1]
				for _, ver := range vers {
					if ver.Released {
						last = ver
					}
				}
				tlp := policy.Narrower(policy.TLP(c.TLP), policy.TLP(last.Form.TLP))
				dist, tag := misp.Distribution(tlp)
				if *ev.Distribution != dist || ev.Tags[0].Name != tag {
					t.Errorf("case %d (%s) as %s: distribution %d tag %s", id, tlp, p.Person.Email, *ev.Distribution, ev.Tags[0].Name)
				}
				raw, _ := ev.JSON()
				if c.Anonymised && !d.SeeSource && (bytes.Contains(raw, []byte("東和")) || bytes.Contains(raw, []byte("瑞穂"))) {
					t.Errorf("case %d as %s names the anonymised source:\n%s", id, p.Person.Email, raw)
				}
				back, err := misp.Parse(raw, misp.Limits{})
				if err != nil {
					t.Fatalf("case %d: the MISP export does not parse: %v\n%s", id, err, raw)
				}
				// Read back, the range is never wider; RED and WHITE come back
				// as they were, AMBER and GREEN one step narrower (their
				// distributions, 0 and 1, are read conservatively).
				pl, err := misp.Range(back[0], "")
				if err != nil || policy.Widens(tlp, pl.TLP) || (tlp == policy.Red || tlp == policy.White) && pl.TLP != tlp {
					t.Errorf("case %d: export reads back as %+v %v, from %s", id, pl, err, tlp)
				}
			}
		}
		if exported < 50 {
			t.Errorf("only %d exports", exported)
		}
		if audited(t, db, "case.export_misp") == 0 {
			t.Error("MISP exports of RED and AMBER cases are not audited")
		}
	})
}
