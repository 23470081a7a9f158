package e2e

// MISP in the adversarial world, over HTTP: a case as a MISP event
// (GET /api/v1/cases/{id}/misp, and the page's download GET /cases/{id}/misp) is held to the oracle like its STIX export
// — a case the viewer may not see answers exactly as a missing id; a
// visible one names its operator (the creator organisation and the
// target-org attribute) by its real name only to whoever may know the
// source, and its distribution and tlp: tag never say a range wider than
// the case's. Imported MISP events join the world of imported items
// (adversarial_stix_test.go): their ranges are held to the test's own
// reading of distribution and tlp: tags, their objects to the oracle on
// GET /api/v1/stix/objects, and every imported item's MISP export
// (GET /api/v1/stix/bundles/{id}/misp) to the oracle as a surface.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/misp"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/stix"
	"kyoyu/store"
)

// mispSurfaces are a case's MISP export.
func (hw *httpWorld) mispSurfaces() []surface {
	return []surface{
		{name: "GET /api/v1/cases/{id}/misp", kind: policy.Report, showsSource: true, perViewer: 40, show: hw.caseMISP(true)},
		{name: "GET /cases/{id}/misp", kind: policy.Report, showsSource: true, perViewer: 40, show: hw.caseMISP(false)},
	}
}

// caseMISP asks the MISP export (the API's, or the page's download) about
// each item: 404 exactly as for a missing id, or an event read by
// readCaseEvent.
func (hw *httpWorld) caseMISP(api bool) func(context.Context, *store.DB, policy.Viewer, []int64) (map[int64]policy.Decision, error) {
	pattern, same := "/cases/%d/misp", samePage
	if api {
		pattern, same = "/api/v1/cases/%d/misp", func(a, _, b, _ string) bool { return a == b }
	}
	return func(_ context.Context, _ *store.DB, v policy.Viewer, ids []int64) (map[int64]policy.Decision, error) {
		p, err := hw.person(v)
		if err != nil {
			return nil, err
		}
		get := func(path string) (response, error) {
			if api {
				return hw.api(p, path)
			}
			return hw.page(p, path)
		}
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
			hw.scan(v, v, path, r.body)
			// As for the STIX export: an unreleased case's one version is
			// the ministry's alone.
			it := hw.w.items[id]
			exportable := it.Shared || v.OrgID == hw.ref[c].MinistryOrgID
			switch {
			case r.status == http.StatusNotFound:
				if !same(r.body, path, miss.body, missingPath) {
					hw.problem(v, path, id, "its 404 differs from a missing id's: %.300q, not %.300q", r.body, miss.body)
				}
				if !exportable {
					shown[id] = oracle(v, it)
				}
			case r.status == http.StatusOK && !exportable:
				hw.problem(v, path, id, "LEAK: exports a version the viewer may not see (unreleased, written by organisation %d)", hw.ref[c].MinistryOrgID)
				shown[id] = policy.Decision{See: true}
			case r.status == http.StatusOK:
				if src, ok := hw.readCaseEvent(v, path, id, r.body); ok {
					shown[id] = policy.Decision{See: true, SeeSource: src}
				}
			default:
				return nil, fmt.Errorf("%s answered %d: %.300s", path, r.status, r.body)
			}
		}
		return shown, nil
	}
}

// readCaseEvent reads a case's event: whether it names the source (the
// creator organisation and the target-org attributes, as the STIX export's
// identities), and that the range its distribution and tags say, read back
// as an import reads them, is not wider than the item's. ok is false when
// the event cannot be read.
func (hw *httpWorld) readCaseEvent(v policy.Viewer, path string, id int64, body string) (seeSource, ok bool) {
	it := hw.w.items[id]
	evs, err := misp.Parse([]byte(body), misp.Limits{})
	if err != nil || len(evs) != 1 {
		hw.problem(v, path, id, "not one MISP event (%v): %.300s", err, body)
		return false, false
	}
	ev := evs[0]
	plan, err := misp.Range(ev, "")
	if err != nil {
		hw.problem(v, path, id, "the event says no range: %v", err)
		return false, false
	}
	if policy.Widens(it.TLP, plan.TLP) {
		hw.problem(v, path, id, "LEAK: distribution and tags say %s, wider than the case's range %s", plan.TLP, it.TLP)
	}
	// Independently of the package's table: the widest distribution and
	// tlp: tag each range may travel with.
	widest := map[policy.TLP]misp.Int{policy.Red: 0, policy.Amber: 0, policy.Green: 1, policy.White: 3}[it.TLP]
	if ev.Distribution == nil {
		hw.problem(v, path, id, "no distribution")
	} else if *ev.Distribution > widest {
		hw.problem(v, path, id, "LEAK: distribution %d, wider than %d for the case's range %s", *ev.Distribution, widest, it.TLP)
	}
	tagRange := map[string]policy.TLP{"tlp:red": policy.Red, "tlp:amber": policy.Amber, "tlp:green": policy.Green, "tlp:white": policy.White, "tlp:clear": policy.White}
	tagged := 0
	for _, tg := range ev.Tags {
		name := strings.ToLower(tg.Name)
		if !strings.HasPrefix(name, "tlp:") {
			continue
		}
		tagged++
		if r, ok := tagRange[name]; !ok || policy.Widens(it.TLP, r) {
			hw.problem(v, path, id, "LEAK: tag %s for the case's range %s", tg.Name, it.TLP)
		}
	}
	if tagged != 1 {
		hw.problem(v, path, id, "%d tlp: tags, not one", tagged)
	}
	var who []string
	if ev.Orgc != nil {
		who = append(who, ev.Orgc.Name)
	}
	for _, a := range ev.Attributes {
		if a.Type == "target-org" {
			who = append(who, a.Value)
		}
	}
	src, problem := operatorShown(strings.Join(who, "\n"), id)
	if problem != "" {
		hw.problem(v, path, id, "creator and targets: %s", problem)
	}
	hw.checkOriginatorName(v, path, id, body)
	return src, true
}

// ---- imported MISP events --------------------------------------------------------

// mispImports is how many MISP events importMISPEvents imports into the
// world of imported items (adversarial_stix_test.go), next to the bundles.
const mispImports = 20

// mispDistribution and mispTags are the test's own reading of MISP's
// ranges, written from docs/MISP.md rather than taken from the package:
// the import must never give an event a range wider than these.
var (
	mispDistribution = map[misp.Int]policy.TLP{0: policy.Red, 1: policy.Amber, 2: policy.Green, 3: policy.White, 4: policy.Red}
	mispTags         = map[string]policy.TLP{"tlp:white": policy.White, "tlp:clear": policy.White, "tlp:green": policy.Green,
		"tlp:amber": policy.Amber, "tlp:amber+strict": policy.Red, "tlp:red": policy.Red, "tlp:ex:chr": policy.Red}
	mispTagNames = []string{"tlp:white", "tlp:clear", "tlp:green", "tlp:amber", "tlp:amber+strict", "tlp:red", "tlp:ex:chr", "type:OSINT"}
)

// randomEvent makes event i: a distribution or none, some tags, attributes
// (some with a distribution or tag of their own) and sometimes an object.
func randomEvent(r *rand.Rand, i int) *misp.Event {
	ev := &misp.Event{UUID: stixUUID(r), Info: fmt.Sprintf("検証用MISPイベント%d", i), Date: "2026-02-01",
		ThreatLevelID: misp.Int(1 + r.IntN(4)), Timestamp: misp.Int(1790000000 + i), Published: misp.Bool(r.IntN(2) == 0),
		Orgc: &misp.Org{Name: fmt.Sprintf("検証用MISP組織%d", i%3), UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i%3)}}
	// Mostly the wider distributions, so the ranges vary; 0 and 4 now and then.
	if r.IntN(6) > 0 {
		ev.Distribution = misp.IntPtr(one(r, []int64{0, 1, 1, 2, 2, 2, 3, 3, 3, 4}))
	}
	if r.IntN(3) > 0 {
		ev.Tags = append(ev.Tags, misp.Tag{Name: one(r, []string{"tlp:white", "tlp:clear", "tlp:clear", "tlp:green", "tlp:green", "tlp:amber", "tlp:amber+strict", "tlp:red", "tlp:ex:chr"})})
	}
	if r.IntN(2) == 0 {
		ev.Tags = append(ev.Tags, misp.Tag{Name: "type:OSINT"})
	}
	attr := func(j int) misp.Attribute {
		a := misp.Attribute{UUID: stixUUID(r), ToIDs: misp.Bool(r.IntN(2) == 0), Timestamp: misp.Int(1790000000 + j)}
		switch r.IntN(4) {
		case 0:
			a.Type, a.Value = "ip-dst", fmt.Sprintf("198.18.%d.%d", i, j+1)
		case 1:
			a.Type, a.Value = "domain", fmt.Sprintf("misp%d-%d.example", i, j)
		case 2:
			a.Type, a.Value = "md5", fmt.Sprintf("%032x", i*1000+j)
		default:
			a.Type, a.Value = "comment", fmt.Sprintf("検証用コメント%d-%d", i, j)
		}
		switch r.IntN(20) {
		case 0, 1, 2:
			a.Distribution = misp.IntPtr(one(r, []int64{1, 2, 3, 5, 5}))
		case 3:
			a.Distribution = misp.IntPtr(0)
		case 4, 5:
			a.Tags = []misp.Tag{{Name: one(r, mispTagNames)}}
		}
		return a
	}
	for j := range 1 + r.IntN(4) {
		ev.Attributes = append(ev.Attributes, attr(j))
	}
	if r.IntN(3) == 0 {
		o := misp.Object{UUID: stixUUID(r), Name: "file", Attributes: []misp.Attribute{attr(10), attr(11)}}
		if r.IntN(2) == 0 {
			o.Distribution = misp.IntPtr(one(r, []int64{1, 2, 3, 5}))
		}
		ev.Objects = append(ev.Objects, o)
	}
	return ev
}

// expectedRange is the narrowest range an event may be imported under,
// or "" when it must be refused (no range of its own, none given).
func expectedRange(ev *misp.Event, given policy.TLP) policy.TLP {
	var t policy.TLP
	narrow := func(x policy.TLP) {
		if t == "" || policy.Widens(x, t) {
			t = x
		}
	}
	if ev.Distribution != nil {
		narrow(mispDistribution[*ev.Distribution])
	}
	for _, tg := range ev.Tags {
		if x, ok := mispTags[tg.Name]; ok {
			narrow(x)
		}
	}
	if t == "" {
		t = given
	}
	if t == "" {
		return ""
	}
	member := func(d *misp.Int, tags []misp.Tag) {
		if d != nil && *d != 5 {
			narrow(mispDistribution[*d])
		}
		for _, tg := range tags {
			if x, ok := mispTags[tg.Name]; ok {
				narrow(x)
			}
		}
	}
	for _, a := range ev.Attributes {
		member(a.Distribution, a.Tags)
	}
	for _, o := range ev.Objects {
		member(o.Distribution, nil)
		for _, a := range o.Attributes {
			member(a.Distribution, a.Tags)
		}
	}
	if given != "" {
		narrow(given)
	}
	return t
}

// importMISPEvents imports random events through the reporting service as
// sampled people who handle incidents, each with or without a range of
// the importer's, checks the range each was given against expectedRange,
// and adds the items and their STIX objects to the world of imports.
func (hw *httpWorld) importMISPEvents(ctx context.Context, sw *stixWorld) {
	t := hw.t
	r := newRand(hw.seed + 7)
	var importers []*httpPerson
	for _, p := range hw.sample {
		if p.p.HandlesIncidents {
			importers = append(importers, p)
		}
	}
	var nisc int64
	for id, o := range hw.w.orgs {
		if o.Code == "nisc" {
			nisc = id
		}
	}
	ranges := map[policy.TLP]int{}
	defer func() {
		// The events must take every range and some be refused, or the
		// check would test little.
		if delete(ranges, ""); len(ranges) < 3 {
			t.Errorf("seed %d: the MISP events took only the ranges %v", hw.seed, ranges)
		}
	}()
	for i := range mispImports {
		imp := importers[r.IntN(len(importers))]
		ev := randomEvent(r, i)
		var given policy.TLP
		if r.IntN(3) == 0 {
			given = one(r, policy.TLPs)
		}
		want := expectedRange(ev, given)
		ranges[want]++
		data, err := json.Marshal(misp.Wrapped{Event: ev})
		if err != nil {
			t.Fatal(err)
		}
		pr := &account.Principal{Person: imp.p, Organisation: imp.org}
		acc, err := hw.reports.ImportMISP(ctx, pr, "test", data, report.MISPImportOptions{Range: given, Via: "api"})
		if want == "" {
			if kyoyu.ErrorCode(err) != kyoyu.EINVALID {
				hw.leaks.mismatch("MISP event %d without range, none given: imported (%v), not refused", i, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("seed %d: import MISP event %d as %s: %v", hw.seed, i, imp.p.Email, err)
		}
		ea := acc.Events[0]
		if policy.TLP(ea.TLP) != want {
			dist := "none"
			if ev.Distribution != nil {
				dist = fmt.Sprint(int64(*ev.Distribution))
			}
			hw.leaks.mismatch("MISP event %d (distribution %s, tags %v, range given %q) as %s: shared as %s, not %s",
				i, dist, ev.Tags, given, imp.p.Email, ea.TLP, want)
		}
		it := policy.Item{Kind: policy.Report, TLP: policy.TLP(ea.TLP), Originator: imp.org.ID, Shared: true,
			Holders: []int64{nisc}, Sectors: slices.Clone(imp.org.Sectors)}
		sw.w.items[ea.ItemID] = it
		sw.w.ids = append(sw.w.ids, ea.ItemID)
		// The objects it was stored as: the same conversion again.
		parsed, err := misp.Parse(data, misp.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		conv, err := misp.ToSTIX(parsed[0], &misp.Plan{TLP: it.TLP})
		if err != nil {
			t.Fatal(err)
		}
		b, err := stix.Parse(conv.Bundle, stix.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range b.Objects {
			sw.holders[o.ID] = append(sw.holders[o.ID], ea.ItemID)
		}
	}
	sw.unique = map[int64]int{}
	for _, items := range sw.holders {
		if len(items) == 1 {
			sw.unique[items[0]]++
		}
	}
}

// importedMISP asks GET /api/v1/stix/bundles/{id}/misp about each imported
// item (bundles and events alike): 404 exactly as for a missing id, or an
// event whose distribution and tlp: tag are not wider than the item's range.
func (sw *stixWorld) importedMISP(_ context.Context, _ *store.DB, v policy.Viewer, ids []int64) (map[int64]policy.Decision, error) {
	hw := sw.hw
	p, err := hw.person(v)
	if err != nil {
		return nil, err
	}
	const missingID = 1 << 40
	missingPath := fmt.Sprintf("/api/v1/stix/bundles/%d/misp", missingID)
	miss, err := hw.api(p, missingPath)
	if err != nil {
		return nil, err
	}
	if miss.status != http.StatusNotFound {
		return nil, fmt.Errorf("%s answered %d, not 404", missingPath, miss.status)
	}
	shown := map[int64]policy.Decision{}
	for _, id := range ids {
		path := fmt.Sprintf("/api/v1/stix/bundles/%d/misp", id)
		r, err := hw.api(p, path)
		if err != nil {
			return nil, err
		}
		hw.scan(v, v, path, r.body)
		it := sw.w.items[id]
		switch r.status {
		case http.StatusNotFound:
			if strings.ReplaceAll(r.body, fmt.Sprint(id), fmt.Sprint(missingID)) != miss.body {
				sw.problem(v, path, id, "its 404 differs from a missing id's: %.300q, not %.300q", r.body, miss.body)
			}
		case http.StatusOK:
			shown[id] = policy.Decision{See: true}
			evs, err := misp.Parse([]byte(r.body), misp.Limits{})
			if err != nil || len(evs) != 1 {
				sw.problem(v, path, id, "not one MISP event (%v): %.300s", err, r.body)
				continue
			}
			ev := evs[0]
			widest := map[policy.TLP]misp.Int{policy.Red: 0, policy.Amber: 0, policy.Green: 1, policy.White: 3}[it.TLP]
			if ev.Distribution == nil || *ev.Distribution > widest {
				sw.problem(v, path, id, "LEAK: distribution wider than %d (or none) for the range %s", widest, it.TLP)
			}
			for _, tg := range ev.Tags {
				if x, ok := mispTags[strings.ToLower(tg.Name)]; ok && policy.Widens(it.TLP, x) || !ok && strings.HasPrefix(strings.ToLower(tg.Name), "tlp:") {
					sw.problem(v, path, id, "LEAK: tag %s for the range %s", tg.Name, it.TLP)
				}
			}
		default:
			return nil, fmt.Errorf("%s answered %d: %.300s", path, r.status, r.body)
		}
	}
	return shown, nil
}
