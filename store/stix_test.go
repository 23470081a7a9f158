package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/directory"
	"kyoyu/internal/testkit"
	"kyoyu/policy"
	"kyoyu/store"
)

func stixObject(typ, uuid, modified string) store.STIXObject {
	id := typ + "--" + uuid
	js := fmt.Sprintf(`{"type":%q,"id":%q,"spec_version":"2.1","modified":%q}`, typ, id, modified)
	return store.STIXObject{ID: id, Type: typ, SpecVersion: "2.1", Modified: modified, JSON: json.RawMessage(js)}
}

func ids(p *store.STIXPage) []string {
	var out []string
	for _, o := range p.Objects {
		out = append(out, o.ID+"@"+o.Modified)
	}
	return out
}

func TestSTIXObjectsFollowTheSharingRange(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := directory.LoadBase(ctx, db); err != nil {
			t.Fatal(err)
		}
		org := func(code string) *kyoyu.Organisation {
			o, err := db.OrganisationByCode(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
		nisc, jpcert, ipa := org("nisc"), org("jpcert"), org("ipa")
		view := func(o *kyoyu.Organisation) policy.Viewer {
			return policy.ViewerOf(&kyoyu.Person{ID: 1, HandlesIncidents: true}, o)
		}
		clock := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return clock }
		imp := func(tlp policy.TLP, objs ...store.STIXObject) int64 {
			t.Helper()
			id, err := db.ImportSTIX(ctx, kyoyu.Actor{Organisation: jpcert}, store.STIXImport{
				Item:     policy.Item{TLP: tlp, Originator: jpcert.ID, Shared: true, Holders: []int64{nisc.ID}},
				BundleID: "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", Source: "api", Objects: objs, Account: json.RawMessage(`{}`)})
			if err != nil {
				t.Fatal(err)
			}
			clock = clock.Add(time.Hour)
			return id
		}
		const (
			a = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
			b = "2f6a0c3e-3b6a-4f1e-9d57-1c1b1a2d3e4f"
			c = "44af6c39-c09b-49c5-9de2-394224b04982"
		)
		t1, t2 := "2026-01-01T00:00:00.000000000Z", "2026-02-01T00:00:00.000000000Z"
		red := imp(policy.Red, stixObject("indicator", a, t1), stixObject("malware", c, t1))
		green := imp(policy.Green, stixObject("indicator", a, t1), stixObject("indicator", b, t1), stixObject("indicator", b, t2),
			stixObject("ipv4-addr", c, ""))

		list := func(v policy.Viewer, f store.STIXFilter) *store.STIXPage {
			t.Helper()
			p, err := db.STIXObjects(ctx, v, f)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		// NISC (holder) and the importer see both items; the object in both
		// is listed once, under the narrower range.
		for _, v := range []policy.Viewer{view(nisc), view(jpcert)} {
			p := list(v, store.STIXFilter{})
			if got := ids(p); len(got) != 4 {
				t.Errorf("sees %v", got)
			}
			for _, o := range p.Objects {
				if o.ID == "indicator--"+a && (o.TLP != policy.Red || o.ItemID != red) {
					t.Errorf("shared object listed from item %d under %s", o.ItemID, o.TLP)
				}
			}
		}
		// Another security agency sees the GREEN item only.
		p := list(view(ipa), store.STIXFilter{})
		for _, o := range p.Objects {
			if o.ItemID != green || o.TLP != policy.Green {
				t.Errorf("ipa sees %s of item %d (%s)", o.ID, o.ItemID, o.TLP)
			}
		}
		if len(p.Objects) != 3 {
			t.Errorf("ipa sees %v", ids(p))
		}
		if got := list(policy.Anonymous, store.STIXFilter{}); len(got.Objects) != 0 {
			t.Errorf("anonymous sees %v", ids(got))
		}
		// Versions: last by default, first, all, or one.
		for name, tc := range map[string]struct {
			versions []string
			want     int
		}{"last": {nil, 1}, "first": {[]string{"first"}, 1}, "all": {[]string{"all"}, 2}, "one": {[]string{t1}, 1}, "first,last": {[]string{"first", "last"}, 2}} {
			p := list(view(ipa), store.STIXFilter{IDs: []string{"indicator--" + b}, Versions: tc.versions})
			if len(p.Objects) != tc.want {
				t.Errorf("versions %s: %v", name, ids(p))
			}
			if name == "last" && p.Objects[0].Modified != t2 || name == "first" && p.Objects[0].Modified != t1 {
				t.Errorf("versions %s: %v", name, ids(p))
			}
		}
		// Filters.
		if p := list(view(nisc), store.STIXFilter{Types: []string{"malware", "ipv4-addr"}}); len(p.Objects) != 2 {
			t.Errorf("by type: %v", ids(p))
		}
		after := time.Date(2026, 11, 1, 0, 30, 0, 0, time.UTC)
		if p := list(view(nisc), store.STIXFilter{AddedAfter: &after}); len(p.Objects) != 2 {
			t.Errorf("added after: %v", ids(p))
		}
		if p := list(view(nisc), store.STIXFilter{ItemID: green, Versions: []string{"all"}}); len(p.Objects) != 4 {
			t.Errorf("one item: %v", ids(p))
		}
		// Paging, one at a time, reaches everything once, in order added.
		var seen []string
		f := store.STIXFilter{Versions: []string{"all"}, Limit: 1}
		for range 10 {
			p := list(view(nisc), f)
			seen = append(seen, ids(p)...)
			if !p.More {
				break
			}
			f.After = p.Next
		}
		if all := ids(list(view(nisc), store.STIXFilter{Versions: []string{"all"}})); fmt.Sprint(seen) != fmt.Sprint(all) || len(all) != 5 {
			t.Errorf("paged %v, listed %v", seen, all)
		}
		// A collection per sector: the items concerning it.
		sectorItem, err := db.ImportSTIX(ctx, kyoyu.Actor{Organisation: jpcert}, store.STIXImport{
			Item:     policy.Item{TLP: policy.Green, Originator: jpcert.ID, Shared: true, Holders: []int64{nisc.ID}, Sectors: []string{"electricity"}},
			BundleID: "bundle--44af6c39-c09b-49c5-9de2-394224b04982", Source: "taxii", Objects: []store.STIXObject{stixObject("campaign", c, t1)},
			Account: json.RawMessage(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		if p := list(view(nisc), store.STIXFilter{Sectors: []string{"electricity"}}); len(p.Objects) != 1 || p.Objects[0].ItemID != sectorItem {
			t.Errorf("by sector: %v", ids(p))
		}
		// The record of an import is read through the same rule.
		if _, err := db.STIXImport(ctx, view(ipa), red); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Errorf("ipa reads the RED import record: %v", err)
		}
		if r, err := db.STIXImport(ctx, view(jpcert), red); err != nil || r.TLP != policy.Red || r.Source != "api" {
			t.Errorf("record %+v %v", r, err)
		}
		// What an organisation already holds is its own business only.
		const bundleID = "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"
		held, err := db.HeldSTIXVersions(ctx, jpcert.ID, bundleID, []string{"indicator--" + a, "indicator--" + b})
		if err != nil || len(held) != 3 || len(held["indicator--"+a+" "+t1]) != 2 || held["indicator--"+a+" "+t1][0] != (store.HeldSTIX{ItemID: red, TLP: policy.Red}) {
			t.Errorf("held %v %v", held, err)
		}
		if held, _ := db.HeldSTIXVersions(ctx, ipa.ID, bundleID, []string{"indicator--" + a}); len(held) != 0 {
			t.Errorf("ipa learns of %v", held)
		}
		if held, _ := db.HeldSTIXVersions(ctx, jpcert.ID, "bundle--44af6c39-c09b-49c5-9de2-394224b04982", []string{"indicator--" + a}); len(held) != 0 {
			t.Errorf("held from another bundle: %v", held)
		}
	})
}

func TestSTIXImportIsAllOrNothing(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := directory.LoadBase(ctx, db); err != nil {
			t.Fatal(err)
		}
		nisc, _ := db.OrganisationByCode(ctx, "nisc")
		count := func(table string) int {
			var n int
			if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		items := count("items")
		dup := stixObject("indicator", "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "2026-01-01T00:00:00.000000000Z")
		_, err := db.ImportSTIX(ctx, kyoyu.Actor{}, store.STIXImport{
			Item:     policy.Item{TLP: policy.Amber, Originator: nisc.ID, Shared: true},
			BundleID: "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", Source: "cli", Objects: []store.STIXObject{dup, dup}, Account: json.RawMessage(`{}`)})
		if err == nil {
			t.Fatal("a bundle that cannot be stored whole was stored")
		}
		if count("items") != items || count("stix_objects") != 0 || count("stix_imports") != 0 {
			t.Error("a failed import left rows behind")
		}
	})
}
