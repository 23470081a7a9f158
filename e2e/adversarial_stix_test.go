package e2e

// STIX in the adversarial world, over HTTP: a case's export (the API's
// GET /api/v1/cases/{id}/stix and the page's download GET /cases/{id}/stix)
// is held to the oracle like the case's page — a case the viewer may not
// see answers as a missing id, a visible one names its operator by its real
// name only to whoever may know the source, and no object in it is marked
// wider than the case's range — and the imported objects
// (GET /api/v1/stix/objects) are held to it on bundles imported into the
// world as items of their own.
//
// Imported bundles are items no case surface shows, so they are kept out of
// the shared world: checkSTIXObjects imports them after the other surfaces
// are checked and holds the object list to the oracle on a world of their
// own (the same organisations and viewers, only the imported items). Half
// go through the reporting service as real imports by sampled people, their
// ranges set by random TLP 1.0 and 2.0 markings and the importer's range;
// half are stored directly as items with random sharing ranges (exclusions,
// partners, anonymised sources …) and objects that claim a range of their
// own, wider or narrower, which the list must replace by the item's.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/stix"
	"kyoyu/store"
)

// stixImports is how many bundles checkSTIXObjects imports.
const stixImports = 24

// stixSurfaces are a case's STIX exports.
func (hw *httpWorld) stixSurfaces() []surface {
	return []surface{
		{name: "GET /api/v1/cases/{id}/stix", kind: policy.Report, showsSource: true, perViewer: 40, show: hw.caseSTIX(true)},
		{name: "GET /cases/{id}/stix", kind: policy.Report, showsSource: true, perViewer: 40, show: hw.caseSTIX(false)},
	}
}

// ---- a case's export -----------------------------------------------------------

// caseSTIX asks a case's export about each item: 404 exactly as for a
// missing id (the API's body, the page's error page), or a bundle read by
// readCaseBundle. The API is asked for TLP 2.0 ids, the page for 1.0.
func (hw *httpWorld) caseSTIX(api bool) func(context.Context, *store.DB, policy.Viewer, []int64) (map[int64]policy.Decision, error) {
	pattern, same := "/cases/%d/stix", samePage
	if api {
		pattern, same = "/api/v1/cases/%d/stix?tlp=2", func(a, _, b, _ string) bool { return a == b }
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
			// A bundle is a version of the case: one the viewer may see
			// the case of but none of its versions has nothing to export.
			// The seeded case's one version, the ministry's, is for all
			// once released, before that for the ministry alone.
			it := hw.w.items[id]
			exportable := it.Shared || v.OrgID == hw.ref[c].MinistryOrgID
			switch {
			case r.status == http.StatusNotFound:
				if !same(r.body, path, miss.body, missingPath) {
					hw.problem(v, path, id, "its 404 differs from a missing id's: %.300q, not %.300q", r.body, miss.body)
				}
				if !exportable {
					// Not found, as it must be: nothing more to compare.
					shown[id] = oracle(v, it)
				}
			case r.status == http.StatusOK && !exportable:
				hw.problem(v, path, id, "LEAK: exports a version the viewer may not see (unreleased, written by organisation %d)", hw.ref[c].MinistryOrgID)
				shown[id] = policy.Decision{See: true}
			case r.status == http.StatusOK:
				if src, ok := hw.readCaseBundle(v, path, id, r.body); ok {
					shown[id] = policy.Decision{See: true, SeeSource: src}
				}
			default:
				return nil, fmt.Errorf("%s answered %d: %.300s", path, r.status, r.body)
			}
		}
		return shown, nil
	}
}

// stixHead is what the test reads of any STIX object.
type stixHead struct {
	Type        string   `json:"type"`
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Markings    []string `json:"object_marking_refs"`
}

// readCaseBundle reads a case's bundle: whether its identities name the
// source (the operator's identity is the case's operator, by name or
// label), and that no TLP marking in it, on an object or defined, is wider
// than the item's range. ok is false when the bundle cannot be read.
func (hw *httpWorld) readCaseBundle(v policy.Viewer, path string, id int64, body string) (seeSource, ok bool) {
	it := hw.w.items[id]
	var b struct {
		Type    string            `json:"type"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil || b.Type != "bundle" {
		hw.problem(v, path, id, "not a bundle (%v): %.300s", err, body)
		return false, false
	}
	var identities []string
	incidents, marked := 0, 0
	for _, raw := range b.Objects {
		var o stixHead
		if err := json.Unmarshal(raw, &o); err != nil {
			hw.problem(v, path, id, "an object that is not JSON: %v", err)
			return false, false
		}
		refs := o.Markings
		if o.Type == "marking-definition" {
			refs = append(refs, o.ID)
		}
		for _, ref := range refs {
			lvl, known := stix.KnownMarking(ref)
			if !known {
				continue
			}
			if policy.Widens(it.TLP, lvl.Range()) {
				hw.problem(v, path, id, "LEAK: %s %s is marked TLP:%s, wider than the case's range %s", o.Type, o.ID, lvl, it.TLP)
			}
			if o.Type == "incident" {
				marked++
			}
		}
		switch o.Type {
		case "identity":
			identities = append(identities, o.Name+" "+o.Description)
		case "incident":
			incidents++
		}
	}
	if incidents != 1 || marked == 0 {
		hw.problem(v, path, id, "%d incidents, %d TLP markings on them: the bundle is not the case's", incidents, marked)
		return false, false
	}
	src, problem := operatorShown(strings.Join(identities, "\n"), id)
	if problem != "" {
		hw.problem(v, path, id, "identities: %s", problem)
	}
	hw.checkOriginatorName(v, path, id, body)
	return src, true
}

// ---- imported objects ----------------------------------------------------------

// stixWorld is the imported bundles as a world of their own.
type stixWorld struct {
	hw      *httpWorld
	w       *world             // the main world's organisations and viewers; only the imported items
	holders map[string][]int64 // STIX id → the items that hold the object, in import order
	unique  map[int64]int      // item → how many objects it alone holds
}

// checkSTIXObjects imports the bundles, checks that the visitor is refused
// the STIX routes, and holds GET /api/v1/stix/objects to the oracle for
// viewers. It returns how many (viewer, item) pairs it checked.
func (hw *httpWorld) checkSTIXObjects(ctx context.Context, viewers []policy.Viewer) int {
	hw.checkSTIXRefusals()
	sw := hw.importSTIX(ctx)
	hw.importMISPEvents(ctx, sw) // adversarial_misp_test.go
	hw.stixWorld = sw
	// The world must hold items some viewers see and others do not, or
	// the check would pass by testing nothing.
	seen, total := 0, 0
	for _, v := range viewers {
		for _, it := range sw.w.items {
			total++
			if oracle(v, it).See {
				seen++
			}
		}
	}
	if seen == 0 || seen == total {
		hw.t.Errorf("seed %d: the imported STIX items are seen in %d of %d (viewer, item) pairs: the check tests nothing", hw.seed, seen, total)
	}
	s := surface{name: "GET /api/v1/stix/objects", kind: policy.Report, show: sw.list}
	m := surface{name: "GET /api/v1/stix/bundles/{id}/misp", kind: policy.Report, show: sw.importedMISP} // adversarial_misp_test.go
	return checkSurface(ctx, hw.t, hw.seed, hw.db, sw.w, s, viewers, newStepCount()) +
		checkSurface(ctx, hw.t, hw.seed, hw.db, sw.w, m, viewers, newStepCount())
}

// checkSTIXRefusals: the visitor is refused the STIX routes, whatever the case.
func (hw *httpWorld) checkSTIXRefusals() {
	for _, c := range hw.caseIDs[:min(2, len(hw.caseIDs))] {
		for _, path := range []string{fmt.Sprintf("/api/v1/cases/%d/stix", c), "/api/v1/stix/objects", fmt.Sprintf("/cases/%d/stix", c)} {
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

// stixMarkings are the marking ids bundles are marked with.
var stixMarkings = []string{stix.TLP1White, stix.TLP1Green, stix.TLP1Amber, stix.TLP1Red,
	stix.TLP2Clear, stix.TLP2Green, stix.TLP2Amber, stix.TLP2AmberStrict, stix.TLP2Red, stix.OpenCTIAmberStrict}

// importSTIX imports the bundles, each with a few objects of its own and,
// often, an indicator every bundle may carry (listed once, under the
// narrowest range the viewer sees it in) and a TLP marking-definition.
func (hw *httpWorld) importSTIX(ctx context.Context) *stixWorld {
	t := hw.t
	r := newRand(hw.seed + 5)
	sw := &stixWorld{hw: hw, w: &world{orgs: hw.w.orgs, viewers: hw.w.viewers, items: map[int64]policy.Item{}},
		holders: map[string][]int64{}, unique: map[int64]int{}}
	var importers []*httpPerson
	for _, p := range hw.sample {
		if p.p.HandlesIncidents {
			importers = append(importers, p)
		}
	}
	var nisc int64
	pools := itemPools{}
	sectors := map[string]bool{}
	for _, id := range slices.Sorted(maps.Keys(hw.w.orgs)) {
		o := hw.w.orgs[id]
		pools.all = append(pools.all, id)
		switch {
		case o.Code == "nisc":
			nisc = id
			pools.nisc = append(pools.nisc, id)
		case o.Has(kyoyu.KindNISC):
			pools.nisc = append(pools.nisc, id)
		}
		if o.Has(kyoyu.KindMinistry) {
			pools.ministries = append(pools.ministries, id)
		}
		if o.Has(kyoyu.KindSecurityAgency) {
			pools.partners = append(pools.partners, id)
		}
		if o.Has(kyoyu.KindCEPTOAR) {
			pools.sources = append(pools.sources, id)
		}
		for _, s := range o.Sectors {
			sectors[s] = true
		}
	}
	pools.sectors = slices.Sorted(maps.Keys(sectors))
	pools.partners = append(pools.partners, some(r, pools.all, 4)...)
	pools.sources = append(pools.sources, some(r, pools.all, 4)...)
	if nisc == 0 || len(importers) == 0 {
		t.Fatalf("seed %d: no NISC organisation or no sampled person who handles incidents", hw.seed)
	}
	common := "indicator--" + stixUUID(r)
	for i := range stixImports {
		imp := importers[r.IntN(len(importers))]
		viaService := i%2 == 0
		objs, levels := stixObjects(r, i, viaService)
		if r.IntN(2) == 0 {
			objs = append(objs, stixIndicator(common, "198.51.100.200", nil))
		}
		var want policy.TLP
		for _, l := range levels {
			if want == "" {
				want = l.Range()
			}
			want = policy.Narrower(want, l.Range())
		}
		var given policy.TLP
		if want == "" || r.IntN(2) == 0 {
			given = one(r, policy.TLPs)
		}
		if given != "" && (want == "" || policy.Narrower(want, given) != want) {
			want = given
		}
		data, err := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + stixUUID(r), "objects": objs})
		if err != nil {
			t.Fatal(err)
		}
		var it policy.Item
		var itemID int64
		if viaService {
			pr := &account.Principal{Person: imp.p, Organisation: imp.org}
			acc, err := hw.reports.ImportSTIX(ctx, pr, "test", data, report.STIXImportOptions{Range: given, Source: "api"})
			if err != nil {
				t.Fatalf("seed %d: import bundle %d as %s: %v", hw.seed, i, imp.p.Email, err)
			}
			if policy.TLP(acc.TLP) != want {
				hw.leaks.mismatch("import of bundle %d (markings %v, range given %q) as %s: shared as %s, not %s",
					i, levels, given, imp.p.Email, acc.TLP, want)
			}
			itemID = acc.ItemID
			it = policy.Item{Kind: policy.Report, TLP: policy.TLP(acc.TLP), Originator: imp.org.ID, Shared: true,
				Holders: []int64{nisc}, Sectors: slices.Clone(imp.org.Sectors)}
		} else {
			// Any range at all, the objects' own markings notwithstanding.
			it = randomItem(r, pools)
			it.Kind, it.RecipientMinistries, it.Originator = policy.Report, nil, imp.org.ID
			b, err := stix.Parse(data, stix.DefaultLimits)
			if err != nil {
				t.Fatalf("seed %d: bundle %d: %v", hw.seed, i, err)
			}
			var objects []store.STIXObject
			for _, o := range b.Objects {
				objects = append(objects, store.STIXObject{ID: o.ID, Type: o.Type, SpecVersion: o.SpecVersion,
					Created: o.Created, Modified: o.Version(), JSON: o.Raw})
			}
			itemID, err = hw.db.ImportSTIX(ctx, kyoyu.Actor{IP: "test"}, store.STIXImport{Item: it, BundleID: b.ID,
				PersonID: imp.p.ID, Source: "cli", Objects: objects, Account: json.RawMessage(`{}`)})
			if err != nil {
				t.Fatalf("seed %d: store bundle %d as item %s: %v", hw.seed, i, describeItem(it), err)
			}
		}
		sw.w.items[itemID] = it
		sw.w.ids = append(sw.w.ids, itemID)
		for _, o := range objs {
			id := o["id"].(string)
			sw.holders[id] = append(sw.holders[id], itemID)
		}
	}
	for _, items := range sw.holders {
		if len(items) == 1 {
			sw.unique[items[0]]++
		}
	}
	return sw
}

// stixObjects makes bundle i's own objects, two to five of them, and
// marks some (one in two bundles through the service carries no marking,
// so the importer's range alone decides). It returns the levels marked.
func stixObjects(r *rand.Rand, i int, viaService bool) ([]map[string]any, []stix.Level) {
	ts := fmt.Sprintf("2026-01-%02dT00:00:00.000Z", i%28+1)
	ind := "indicator--" + stixUUID(r)
	addr := "ipv4-addr--" + stixUUID(r)
	all := []map[string]any{
		{"type": "identity", "spec_version": "2.1", "id": "identity--" + stixUUID(r), "created": ts, "modified": ts,
			"name": fmt.Sprintf("検証用STIX組織%d", i), "identity_class": "organization"},
		stixIndicator(ind, fmt.Sprintf("203.0.113.%d", i+1), nil),
		{"type": "ipv4-addr", "spec_version": "2.1", "id": addr, "value": fmt.Sprintf("203.0.113.%d", i+1)},
		{"type": "relationship", "spec_version": "2.1", "id": "relationship--" + stixUUID(r), "created": ts, "modified": ts,
			"relationship_type": "based-on", "source_ref": ind, "target_ref": addr},
		{"type": "malware", "spec_version": "2.1", "id": "malware--" + stixUUID(r), "created": ts, "modified": ts,
			"name": fmt.Sprintf("検証用マルウェア%d", i), "is_family": false},
	}
	objs := some(r, all, 5)
	if len(objs) < 2 {
		objs = all[:2]
	}
	var levels []stix.Level
	if viaService && r.IntN(2) == 0 {
		return objs, nil
	}
	for _, o := range objs {
		if r.IntN(2) == 0 {
			continue
		}
		m := one(r, stixMarkings)
		o["object_marking_refs"] = []string{m}
		lvl, _ := stix.KnownMarking(m)
		levels = append(levels, lvl)
		// Often the definition travels with the reference, as real feeds send it.
		if def, ok := stix.MarkingObject(m); ok && r.IntN(2) == 0 && !slices.ContainsFunc(objs, func(x map[string]any) bool { return x["id"] == m }) {
			var d map[string]any
			if err := json.Unmarshal(def, &d); err == nil {
				objs = append(objs, d)
			}
		}
	}
	return objs, levels
}

func stixIndicator(id, addr string, markings []string) map[string]any {
	o := map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "created": "2026-01-01T00:00:00.000Z",
		"modified": "2026-01-01T00:00:00.000Z", "pattern": "[ipv4-addr:value = '" + addr + "']", "pattern_type": "stix",
		"valid_from": "2026-01-01T00:00:00Z", "name": "検証用指標 " + addr}
	if markings != nil {
		o["object_marking_refs"] = markings
	}
	return o
}

// stixUUID is a random (version 4) UUID drawn from r, so a seed gives the
// same bundles.
func stixUUID(r *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// list pages through GET /api/v1/stix/objects as v, in small pages, and
// maps the objects back to the items holding them: an item is shown when
// every object it alone holds is listed (some but not all is a problem).
// An object several items hold is listed once, iff v sees one of them,
// labelled with the narrowest range among those v sees; every listed
// object is labelled with its item's range, never the one it came with.
func (sw *stixWorld) list(_ context.Context, _ *store.DB, v policy.Viewer, _ []int64) (map[int64]policy.Decision, error) {
	hw := sw.hw
	p, err := hw.person(v)
	if err != nil {
		return nil, err
	}
	listed := map[string]stixHead{}
	query := url.Values{"limit": {"29"}}
	path := ""
	for pages := 0; ; pages++ {
		path = "/api/v1/stix/objects?" + query.Encode()
		r, err := hw.api(p, path)
		if err != nil {
			return nil, err
		}
		if r.status != http.StatusOK || pages > 200 {
			return nil, fmt.Errorf("%s: status %d (page %d): %.300s", path, r.status, pages, r.body)
		}
		hw.scan(v, v, path, r.body)
		var page struct {
			Objects []json.RawMessage `json:"objects"`
			More    bool              `json:"more"`
			Next    string            `json:"next"`
		}
		if err := json.Unmarshal([]byte(r.body), &page); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, raw := range page.Objects {
			var o stixHead
			if err := json.Unmarshal(raw, &o); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if _, dup := listed[o.ID]; dup {
				return nil, fmt.Errorf("%s: %s listed twice", path, o.ID)
			}
			listed[o.ID] = o
		}
		if !page.More {
			break
		}
		if page.Next == "" {
			return nil, fmt.Errorf("%s: more=true but no next cursor", path)
		}
		query.Set("next", page.Next)
	}
	path = "/api/v1/stix/objects"
	counts := map[int64]int{}
	for id, o := range listed {
		holders, ok := sw.holders[id]
		if !ok {
			return nil, fmt.Errorf("%s lists %s, which no imported bundle holds", path, id)
		}
		if len(holders) == 1 {
			counts[holders[0]]++
			sw.checkLabel(v, path, o, sw.w.items[holders[0]].TLP, holders[0])
			continue
		}
		if narrowest, ok := sw.narrowestSeen(v, holders); !ok {
			sw.problem(v, path, holders[0], "LEAK: lists %s, held by items %v of which the oracle lets the viewer see none", id, holders)
		} else {
			sw.checkLabel(v, path, o, narrowest, holders[0])
		}
	}
	for id, holders := range sw.holders {
		if _, ok := listed[id]; !ok && len(holders) > 1 {
			if _, seen := sw.narrowestSeen(v, holders); seen {
				sw.problem(v, path, holders[0], "%s, held by items %v of which the viewer sees some, is not listed", id, holders)
			}
		}
	}
	shown := map[int64]policy.Decision{}
	for item, n := range counts {
		if n != sw.unique[item] {
			sw.problem(v, path, item, "lists %d of the %d objects only this item holds", n, sw.unique[item])
		}
		shown[item] = policy.Decision{See: true}
	}
	return shown, nil
}

// narrowestSeen is the narrowest range among the items v sees of items.
func (sw *stixWorld) narrowestSeen(v policy.Viewer, items []int64) (policy.TLP, bool) {
	var out policy.TLP
	for _, id := range items {
		it := sw.w.items[id]
		if !oracle(v, it).See {
			continue
		}
		if out == "" {
			out = it.TLP
		}
		out = policy.Narrower(out, it.TLP)
	}
	return out, out != ""
}

// checkLabel: a listed object carries the TLP 1.0 marking of the range it
// is shared under, and no other TLP marking (marking-definitions are
// listed as they are).
func (sw *stixWorld) checkLabel(v policy.Viewer, path string, o stixHead, tlp policy.TLP, item int64) {
	if o.Type == "marking-definition" {
		return
	}
	var tlps []string
	for _, ref := range o.Markings {
		lvl, known := stix.KnownMarking(ref)
		if !known {
			continue
		}
		tlps = append(tlps, ref)
		if policy.Widens(tlp, lvl.Range()) {
			sw.problem(v, path, item, "LEAK: %s is marked TLP:%s, wider than the range %s it is shared under", o.ID, lvl, tlp)
		}
	}
	if want := stix.MarkingID(tlp, 1); !slices.Equal(tlps, []string{want}) {
		sw.problem(v, path, item, "%s is marked %v, not %s alone (the range %s)", o.ID, tlps, want, tlp)
	}
}

// problem records something a list got wrong about an imported item,
// besides whether it was shown.
func (sw *stixWorld) problem(v policy.Viewer, path string, id int64, format string, args ...any) {
	it := sw.w.items[id]
	sw.hw.leaks.mismatch("viewer %s: %s, imported item %d %s (oracle %s, %s): %s", sw.hw.who(v), path, id, describeItem(it),
		describeDecision(oracle(v, it)), why(v, it), fmt.Sprintf(format, args...))
}
