package advisory_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/internal/testkit"
	"kyoyu/report"
	"kyoyu/stix"
	"kyoyu/stix/stixtest"
	"kyoyu/store"
)

// stixObjects decodes a bundle's objects by id.
func stixObjects(t *testing.T, b *stix.Bundle) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, raw := range b.Objects {
		var o map[string]any
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		out[o["id"].(string)] = o
	}
	return out
}

func reportOf(t *testing.T, objs map[string]map[string]any) map[string]any {
	t.Helper()
	var rep map[string]any
	for _, o := range objs {
		if o["type"] == "report" {
			if rep != nil {
				t.Fatal("two reports in one advisory's bundle")
			}
			rep = o
		}
	}
	if rep == nil {
		t.Fatal("no report in the bundle")
	}
	return rep
}

// An advisory drafted from a case exports as a valid bundle to everyone
// who may read it — never to anyone else, never naming the case's source —
// a follow-up keeps the ids with a newer modified, and importing the export
// keeps its range and content.
func TestAdvisorySTIXExport(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v := stixtest.New(t)
		w := setup(t, db)
		src := w.sourceCase(t)
		clock := time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return clock }
		a, err := w.svc.Draft(ctx, w.analyst, "192.0.2.9", kyoyu.AdvisoryForm{SourceCases: []int64{src.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.ExportSTIX(ctx, w.analyst, "192.0.2.9", a.ID, 1); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("a draft exported: %v", err)
		}
		f := a.Form
		f.Reason, f.Importance = kyoyu.ReasonAttack, "warning"
		f.Recipients = []kyoyu.RecipientPair{{MinistryID: w.meti, Sector: "electricity"}}
		f.Title = "VPN装置を狙う攻撃に関する注意喚起"
		f.Summary = "電力分野でVPN装置を狙う通信（送信元 203.0.113[.]50）が確認された。"
		f.Targets = "VPN装置を運用する事業者"
		f.Actions = "修正を適用し、203.0.113.50 からの通信を遮断すること。"
		f.Other = "詳細は追って第2報で知らせる。"
		f.Resolved = []string{"203.0.113[.]50", "203.0.113.50"}
		if err := w.svc.SaveDraft(ctx, w.analyst, "192.0.2.9", a.VersionID, f); err != nil {
			t.Fatal(err)
		}
		number, err := w.svc.Publish(ctx, w.analyst, "192.0.2.9", a.VersionID)
		if err != nil {
			t.Fatalf("%v %v", err, fields(err))
		}

		if _, err := w.svc.ExportSTIX(ctx, w.analyst, "x", a.ID, 3); kyoyu.ErrorCode(err) != kyoyu.EINVALID {
			t.Errorf("tlp=3: %v", err)
		}
		// The gas operator is outside the AMBER electricity range: as if it did not exist.
		for _, id := range []int64{a.ID, a.ID + 1000} {
			if _, err := w.svc.ExportSTIX(ctx, w.gas, "192.0.2.8", id, 1); !errors.Is(err, kyoyu.ErrNotFound) {
				t.Errorf("gas operator exports advisory %d: %v", id, err)
			}
		}
		var first *stix.Bundle
		for _, tv := range []int{1, 2} {
			for _, pr := range []string{"analyst", "liaison"} {
				who := w.analyst
				if pr == "liaison" {
					who = w.liaison
				}
				b, err := w.svc.ExportSTIX(ctx, who, "192.0.2.2", a.ID, tv)
				if err != nil {
					t.Fatalf("%s, TLP %d.0: %v", pr, tv, err)
				}
				raw, _ := b.JSON()
				if err := v.Bundle(raw); err != nil {
					t.Fatalf("%s, TLP %d.0: does not validate: %v\n%s", pr, tv, err, raw)
				}
				if !strings.Contains(string(raw), stix.MarkingID("amber", tv)) {
					t.Errorf("%s, TLP %d.0: not marked AMBER", pr, tv)
				}
				for _, s := range []string{"東和電力", src.CaseNumber, src.Operator} {
					if s != "" && strings.Contains(string(raw), s) {
						t.Errorf("the export names a source: %q", s)
					}
				}
				if tv == 1 && pr == "liaison" {
					first = b
				}
			}
		}
		objs := stixObjects(t, first)
		rep := reportOf(t, objs)
		if !strings.HasPrefix(rep["name"].(string), number+" 第1報") {
			t.Errorf("report name %q", rep["name"])
		}
		by := objs[rep["created_by_ref"].(string)]
		if by == nil || by["name"] != w.analyst.Organisation.NameJA {
			t.Errorf("created by %v, not NISC", by)
		}
		reads, _ := db.AuditEntries(ctx, store.AuditFilter{Action: "advisory.export_stix", PersonID: w.liaison.Person.ID})
		if len(reads) != 2 {
			t.Errorf("%d audited exports by the ministry, want 2", len(reads))
		}

		// 第2報: the same report and course-of-action, newer.
		clock = clock.Add(26 * time.Hour)
		vid, n, err := w.svc.FollowUp(ctx, w.analyst, "192.0.2.9", a.ID)
		if err != nil || n != 2 {
			t.Fatalf("follow-up %d: %v", n, err)
		}
		f.Other = "第2報：回避策を追加した。"
		if err := w.svc.SaveDraft(ctx, w.analyst, "192.0.2.9", vid, f); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Publish(ctx, w.analyst, "192.0.2.9", vid); err != nil {
			t.Fatalf("%v %v", err, fields(err))
		}
		second, err := w.svc.ExportSTIX(ctx, w.liaison, "192.0.2.2", a.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		raw2, _ := second.JSON()
		if err := v.Bundle(raw2); err != nil {
			t.Fatalf("第2報 does not validate: %v", err)
		}
		objs2 := stixObjects(t, second)
		rep2 := reportOf(t, objs2)
		for _, pair := range [][2]map[string]any{{rep, rep2}} {
			x, y := pair[0], pair[1]
			if x["id"] != y["id"] || x["created"] != y["created"] || !(y["modified"].(string) > x["modified"].(string)) {
				t.Errorf("report versions: %v %v %v → %v %v %v", x["id"], x["created"], x["modified"], y["id"], y["created"], y["modified"])
			}
		}
		for id, o := range objs {
			if o["type"] == "course-of-action" || o["type"] == "indicator" {
				o2 := objs2[id]
				if o2 == nil || !(o2["modified"].(string) > o["modified"].(string)) {
					t.Errorf("%s: not the same object, newer, in 第2報: %v", id, o2)
				}
			}
		}
		if ext, _ := stix.DecodeAdvisory(mustRaw(t, rep2)); ext.ReportNumber != 2 || ext.Other != f.Other || ext.AdvisoryNumber != number {
			t.Errorf("第2報 extension %+v", ext)
		}

		// Round trip: the ministry imports what it exported; the stored
		// bundle keeps the AMBER range and every object as exported.
		acc, err := w.reports.ImportSTIX(ctx, w.liaison, "192.0.2.2", raw2, report.STIXImportOptions{Source: "api"})
		if err != nil {
			t.Fatal(err)
		}
		if acc.TLP != "amber" || acc.RangeFrom != "markings" {
			t.Errorf("imported as %s from %s, want amber from markings", acc.TLP, acc.RangeFrom)
		}
		back, err := w.reports.ExportImportedSTIX(ctx, w.liaison, "192.0.2.2", acc.ItemID, 1)
		if err != nil {
			t.Fatal(err)
		}
		got := stixObjects(t, back)
		if len(got) != len(objs2) {
			t.Errorf("%d objects back, %d exported", len(got), len(objs2))
		}
		amber := []any{stix.MarkingID("amber", 1)}
		for id, o := range objs2 {
			// Stored objects come back labelled with the range they are
			// shared under; those exported unmarked (the directory's and
			// the platform's) gain that label and nothing else.
			if _, marked := o["object_marking_refs"]; !marked && got[id] != nil && o["type"] != "marking-definition" {
				if !reflect.DeepEqual(got[id]["object_marking_refs"], amber) {
					t.Errorf("%s labelled %v, not AMBER", id, got[id]["object_marking_refs"])
				}
				delete(got[id], "object_marking_refs")
			}
			if !reflect.DeepEqual(got[id], o) {
				t.Errorf("%s changed on the round trip:\n%v\n%v", id, o, got[id])
			}
		}
		if _, err := w.reports.ExportImportedSTIX(ctx, w.gas, "192.0.2.8", acc.ItemID, 1); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Errorf("the gas operator reads the imported AMBER advisory: %v", err)
		}
	})
}

func mustRaw(t *testing.T, o map[string]any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
