package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/demo"
	"kyoyu/internal/testkit"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/stix"
	"kyoyu/stix/stixtest"
	"kyoyu/store"
)

// stixCases walks a case of every route and range to NISC, with
// observables (some defanged) in the text and an attachment, and adds the
// demo cases; it returns every case id.
func stixCases(t *testing.T, w *world) []int64 {
	t.Helper()
	ctx := context.Background()
	if err := demo.LoadCases(ctx, w.db, kyoyu.Config{}, account.Argon2{Memory: 1024, Time: 1, Threads: 1}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, route := range []kyoyu.Route{kyoyu.RouteMinistry, kyoyu.RouteCEPTOAR, kyoyu.RouteMinistryOrigin} {
		for _, tlp := range policy.TLPs {
			f := form(string(tlp))
			f.Supplementary = "通信先 hxxp://update-check[.]example[.]net/dl と 203.0.113[.]50、MD5 d41d8cd98f00b204e9800998ecf8427e"
			owner, in := w.reporter, report.StartInput{Route: route, Form: f}
			if route == kyoyu.RouteMinistryOrigin {
				owner, in.OperatorOrgID, in.Channel = w.liaison, w.reporter.Organisation.ID, "phone"
			}
			c, draft, err := w.svc.Start(ctx, owner, "192.0.2.1", in)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.AddAttachment(ctx, owner, "192.0.2.1", draft.ID, report.Upload{Filename: "通信ログ.txt",
				ContentType: "text/plain", Data: []byte("203.0.113.50 GET /dl")}); err != nil {
				t.Fatal(err)
			}
			switch route {
			case kyoyu.RouteMinistry:
				w.submitThrough(t, draft, w.liaison)
			case kyoyu.RouteCEPTOAR:
				w.submitThrough(t, draft, w.secretariat, w.liaison)
			default:
				w.submitThrough(t, draft)
			}
			ids = append(ids, c.ID)
		}
	}
	// A draft, seen by its writer only.
	c, _, err := w.svc.Start(ctx, w.reporter, "192.0.2.1", report.StartInput{Route: kyoyu.RouteMinistry, Form: form("")})
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, c.ID)
	page, err := w.db.ListCases(ctx, view(w.analyst), store.CaseFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Cases {
		if !containsID(ids, c.ID) {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func incidentOf(t *testing.T, b *stix.Bundle) (stix.IncidentExtension, string, map[string]any) {
	t.Helper()
	for _, raw := range b.Objects {
		if ext, desc, ok := stix.DecodeIncident(raw); ok {
			var o map[string]any
			_ = json.Unmarshal(raw, &o)
			return ext, desc, o
		}
	}
	t.Fatal("no incident with the Kyoyu extension")
	return stix.IncidentExtension{}, "", nil
}

// Every case, as every person who may see it, exports to a bundle that
// validates against the OASIS schemas, marked with the case's range and
// naming an anonymised operator only to those entitled; a case a person
// may not see is not found.
func TestExportEveryCaseAsEveryone(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		v := stixtest.New(t)
		ids := stixCases(t, w)
		exported := 0
		for _, id := range ids {
			for _, p := range []*account.Principal{w.reporter, w.secretariat, w.liaison, w.analyst, w.other} {
				c, d, seeErr := db.Case(ctx, view(p), id)
				for _, tv := range []int{1, 2} {
					b, err := w.svc.ExportCaseSTIX(ctx, p, "192.0.2.9", id, report.STIXExportOptions{TLPVersion: tv})
					if seeErr != nil {
						if !errors.Is(err, kyoyu.ErrNotFound) {
							t.Fatalf("%s exports case %d it may not see: %v", p.Person.Email, id, err)
						}
						continue
					}
					if err != nil {
						t.Fatalf("%s exports case %d: %v", p.Person.Email, id, err)
					}
					raw, _ := b.JSON()
					if err := v.Bundle(raw); err != nil {
						t.Fatalf("case %d as %s does not validate: %v\n%s", id, p.Person.Email, err, raw)
					}
					exported++
					ext, _, inc := incidentOf(t, b)
					vers, _ := db.Versions(ctx, view(p), id)
					last := vers[len(vers)-1]
					for _, ver := range vers {
						if ver.Released {
							last = ver
						}
					}
					tlp := policy.Narrower(policy.TLP(c.TLP), policy.TLP(last.Form.TLP))
					if refs := inc["object_marking_refs"].([]any); len(refs) != 1 || refs[0] != stix.MarkingID(tlp, tv) {
						t.Errorf("case %d (%s) as %s marked %v", id, tlp, p.Person.Email, refs)
					}
					if ext.ReportNumber != last.ReportNumber || ext.CaseNumber != c.CaseNumber {
						t.Errorf("case %d: extension %+v", id, ext)
					}
					if c.Anonymised && !d.SeeSource && (bytes.Contains(raw, []byte("東和")) || bytes.Contains(raw, []byte("瑞穂"))) {
						t.Errorf("case %d as %s names the anonymised source:\n%s", id, p.Person.Email, raw)
					}
				}
			}
		}
		if exported < 50 {
			t.Errorf("only %d exports", exported)
		}
		// Exporting a version again gives the same bundle.
		a, _ := w.svc.ExportCaseSTIX(ctx, w.analyst, "192.0.2.9", ids[0], report.STIXExportOptions{})
		b, _ := w.svc.ExportCaseSTIX(ctx, w.analyst, "192.0.2.9", ids[0], report.STIXExportOptions{})
		ra, _ := a.JSON()
		rb, _ := b.JSON()
		if !bytes.Equal(ra, rb) {
			t.Error("two exports of one version differ")
		}
		if _, err := w.svc.ExportCaseSTIX(ctx, w.analyst, "192.0.2.9", ids[0], report.STIXExportOptions{TLPVersion: 3}); kyoyu.ErrorCode(err) != kyoyu.EINVALID {
			t.Errorf("TLP 3.0: %v", err)
		}
		if n := audited(t, db, "case.export_stix"); n == 0 {
			t.Error("exports of RED and AMBER cases are not audited")
		}
	})
}

func readExample(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(stixtest.Dir(), "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestImportAPT1(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		data := readExample(t, "threat-reports/apt1.json")
		opt := report.STIXImportOptions{Source: "api"}
		// No marking and no range given: refused, nothing stored.
		if _, err := w.svc.ImportSTIX(ctx, w.analyst, "192.0.2.5", data, opt); kyoyu.ErrorCode(err) != kyoyu.EINVALID {
			t.Fatalf("apt1 without a range: %v", err)
		}
		jpcert := staff(t, db, "jpcert", "analyst@jpcert.example.jp", kyoyu.RoleOrgAdmin, true)
		opt.Range = policy.Green
		acc, err := w.svc.ImportSTIX(ctx, jpcert, "192.0.2.5", data, opt)
		if err != nil {
			t.Fatal(err)
		}
		if acc.ItemID == 0 || acc.Total != 76 || acc.Stored != 76 || acc.TLP != "green" || acc.Opaque["threat-actor"] != 5 || acc.Opaque["tool"] != 10 {
			t.Fatalf("account %+v", acc)
		}
		// GREEN reaches the critical-infrastructure parties, not the public.
		for _, p := range []*account.Principal{w.analyst, w.liaison, w.reporter, jpcert} {
			page, err := w.svc.STIXObjects(ctx, p, "192.0.2.5", store.STIXFilter{Types: []string{"indicator"}}, 2)
			if err != nil || len(page.Objects) != 12 {
				t.Fatalf("%s reads %d indicators: %v", p.Person.Email, len(page.Objects), err)
			}
			var o struct {
				Refs []string `json:"object_marking_refs"`
			}
			_ = json.Unmarshal(page.Objects[0].JSON, &o)
			if len(o.Refs) != 1 || o.Refs[0] != stix.TLP2Green {
				t.Errorf("served with markings %v", o.Refs)
			}
		}
		if page, _ := db.STIXObjects(ctx, policy.Anonymous, store.STIXFilter{}); len(page.Objects) != 0 {
			t.Error("the public reads a GREEN import")
		}
		// Again: everything is already there, so nothing is stored.
		again, err := w.svc.ImportSTIX(ctx, jpcert, "192.0.2.5", data, opt)
		if err != nil || again.ItemID != 0 || again.Skipped != 76 || again.Stored != 0 {
			t.Fatalf("second import: %+v %v", again, err)
		}
		// The account is kept.
		got, err := w.svc.STIXImportAccount(ctx, w.analyst, acc.ItemID)
		if err != nil || got.Stored != 76 || got.ItemID != acc.ItemID {
			t.Errorf("kept account %+v %v", got, err)
		}
		if audited(t, db, "stix.import") != 1 {
			t.Error("the import is not audited")
		}
		// Only people who handle incident information import.
		clerk := staff(t, db, "jpcert", "clerk@jpcert.example.jp", kyoyu.RoleOrgAdmin, false)
		if _, err := w.svc.ImportSTIX(ctx, clerk, "192.0.2.5", data, opt); kyoyu.ErrorCode(err) != kyoyu.EFORBIDDEN {
			t.Errorf("a clerk imports: %v", err)
		}
	})
}

// A RED import reaches its importer and NISC only; AMBER the sectors of
// the importing organisation.
func TestImportedRangeGovernsReads(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		data := readExample(t, "indicator-for-c2-ip-address.json")
		red, err := w.svc.ImportSTIX(ctx, w.reporter, "192.0.2.1", data, report.STIXImportOptions{Source: "cli", Range: policy.Red})
		if err != nil {
			t.Fatal(err)
		}
		sees := func(p *account.Principal, item int64) bool {
			_, err := w.svc.ExportImportedSTIX(ctx, p, "192.0.2.9", item, 1)
			if err != nil && !errors.Is(err, kyoyu.ErrNotFound) {
				t.Fatal(err)
			}
			return err == nil
		}
		for p, want := range map[*account.Principal]bool{w.reporter: true, w.analyst: true, w.liaison: false, w.secretariat: false, w.other: false} {
			if got := sees(p, red.ItemID); got != want {
				t.Errorf("RED import: %s sees %v, want %v", p.Person.Email, got, want)
			}
		}
		amber, err := w.svc.ImportSTIX(ctx, w.secretariat, "192.0.2.1", readExample(t, "infrastructure.json"),
			report.STIXImportOptions{Source: "ui", Range: policy.Amber})
		if err != nil {
			t.Fatal(err)
		}
		for p, want := range map[*account.Principal]bool{w.reporter: true, w.analyst: true, w.liaison: true, w.other: false} {
			if got := sees(p, amber.ItemID); got != want {
				t.Errorf("AMBER import: %s sees %v, want %v", p.Person.Email, got, want)
			}
		}
		if audited(t, db, "stix.read") == 0 {
			t.Error("reads of RED and AMBER imports are not audited")
		}
	})
}

// Round trip: a case exported, imported by another organisation, exported
// again keeps its range (never wider) and its content.
func TestRoundTrip(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		v := stixtest.New(t)
		ids := stixCases(t, w)
		// One importing organisation per TLP version: an organisation
		// skips what it imported before.
		importers := map[int]*account.Principal{
			1: staff(t, db, "ipa", "analyst@ipa.example.jp", kyoyu.RoleOrgAdmin, true),
			2: staff(t, db, "jpcert", "analyst@jpcert.example.jp", kyoyu.RoleOrgAdmin, true),
		}
		trips := 0
		for _, id := range ids {
			c, _, err := db.Case(ctx, view(w.analyst), id)
			if err != nil {
				continue
			}
			for _, tv := range []int{1, 2} {
				first, err := w.svc.ExportCaseSTIX(ctx, w.analyst, "192.0.2.9", id, report.STIXExportOptions{TLPVersion: tv})
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := first.JSON()
				ipa := importers[tv]
				acc, err := w.svc.ImportSTIX(ctx, ipa, "192.0.2.7", raw, report.STIXImportOptions{Source: "api"})
				if err != nil {
					t.Fatalf("case %d (TLP %d.0) does not import: %v", id, tv, err)
				}
				if policy.Widens(policy.TLP(c.TLP), policy.TLP(acc.TLP)) || acc.TLP != c.TLP {
					t.Errorf("case %d %s imported as %s", id, c.TLP, acc.TLP)
				}
				if len(acc.Opaque) != 0 {
					t.Errorf("our own export is not understood: %v", acc.Opaque)
				}
				if acc.ItemID == 0 || acc.Skipped != 0 {
					t.Fatalf("case %d: account %+v", id, acc)
				}
				second, err := w.svc.ExportImportedSTIX(ctx, ipa, "192.0.2.7", acc.ItemID, tv)
				if err != nil {
					t.Fatal(err)
				}
				raw2, _ := second.JSON()
				if err := v.Bundle(raw2); err != nil {
					t.Fatalf("re-export does not validate: %v\n%s", err, raw2)
				}
				e1, d1, i1 := incidentOf(t, first)
				e2, d2, i2 := incidentOf(t, second)
				if !reflect.DeepEqual(e1, e2) || d1 != d2 || i1["id"] != i2["id"] || i1["modified"] != i2["modified"] {
					t.Errorf("case %d: content changed in the round trip:\n%+v\n%+v", id, e1, e2)
				}
				if r1, r2 := fmt.Sprint(i1["object_marking_refs"]), fmt.Sprint(i2["object_marking_refs"]); r1 != r2 {
					t.Errorf("case %d: marked %s, then %s", id, r1, r2)
				}
				if len(second.Objects) != len(first.Objects) {
					t.Errorf("case %d: %d objects out, %d back", id, len(first.Objects), len(second.Objects))
				}
				trips++
			}
		}
		if trips < 12 {
			t.Errorf("only %d round trips", trips)
		}
		// The anonymised label survives, the name never appears.
		page, err := db.STIXObjects(ctx, view(importers[1]), store.STIXFilter{Types: []string{"identity"}, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			if strings.Contains(string(o.JSON), "瑞穂") {
				t.Errorf("an imported identity names an anonymised source: %s", o.JSON)
			}
		}
	})
}
