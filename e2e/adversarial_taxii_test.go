package e2e

// TAXII 2.1 in the adversarial world: every viewer's view of every TAXII
// collection (GET /taxii2/api/collections/{id}/objects/, paged with limit
// and next until more is false) is held to the oracle like the STIX object
// list (adversarial_stix_test.go). It runs after the other surfaces, on
// what the world then holds: the bundles checkSTIXObjects imported (the
// contributions collection, and the sector collections of their sectors)
// and the world's released cases, whose STIX the server stores for TAXII
// (report.Service.MaterialiseCaseSTIX, run here as the job would run it),
// and the world's published advisories (advisory.Service.MaterialiseSTIX:
// the advisories collection).
//
// A collection is a world of its own: the items it covers (a sector's
// reports and imports, every import, or every advisory) with the objects the store holds
// for them. An object is listed iff the viewer sees one of the covered
// items holding it, labelled with the narrowest range among those; an
// item is shown iff every object it alone holds there is listed. The
// bodies are scanned for the real names of anonymised sources. Asking for
// a case's incident through objects/{id}/ must answer 404, as for a
// missing id, wherever the viewer may not see the case.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"kyoyu"
	"kyoyu/advisory"
	"kyoyu/policy"
	"kyoyu/stix"
	"kyoyu/store"
	"kyoyu/taxii"
)

// taxiiCollection is one collection as a world of its own.
type taxiiCollection struct {
	alias, id string
	w         *world
	holders   map[string][]int64 // STIX id → the covered items holding it
	unique    map[int64]int      // item → how many objects it alone holds here
}

// checkTAXII materialises the released cases, then holds every collection
// to the oracle for viewers. It returns how many (viewer, item) pairs it
// checked.
func (hw *httpWorld) checkTAXII(ctx context.Context, viewers []policy.Viewer) int {
	t := hw.t
	if hw.stixWorld == nil {
		t.Fatalf("seed %d: checkTAXII runs after checkSTIXObjects", hw.seed)
	}
	// The visitor is refused.
	if r, err := hw.page(nil, "/taxii2/api/collections/"); err != nil || r.status != http.StatusUnauthorized {
		hw.leaks.mismatch("anonymous visitor: GET /taxii2/api/collections/ answered %d (%v), not 401", r.status, err)
	}
	materialised := 0
	nisc, err := hw.db.OrganisationByCode(ctx, "nisc")
	if err != nil {
		t.Fatal(err)
	}
	nv := policy.Viewer{OrgID: nisc.ID, Kinds: nisc.Kinds, NeedToKnow: true}
	for _, c := range hw.caseIDs {
		vers, err := hw.db.Versions(ctx, nv, c)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vers {
			if !v.Released {
				continue
			}
			if _, err := hw.reports.MaterialiseCaseSTIX(ctx, c, v.ID); err != nil {
				t.Fatalf("seed %d: materialise case %d version %d: %v", hw.seed, c, v.ID, err)
			}
			materialised++
		}
	}
	if materialised == 0 {
		t.Fatalf("seed %d: no released case to serve over TAXII", hw.seed)
	}
	// The published advisories, as the job stores them at publication.
	advs := advisory.New(hw.db, kyoyu.Config{})
	vrows, err := hw.db.SQL().QueryContext(ctx, `SELECT advisory_id, id FROM advisory_versions WHERE status = 'published' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var published [][2]int64
	for vrows.Next() {
		var a, v int64
		if err := vrows.Scan(&a, &v); err != nil {
			t.Fatal(err)
		}
		published = append(published, [2]int64{a, v})
	}
	vrows.Close()
	for _, p := range published {
		if _, err := advs.MaterialiseSTIX(ctx, p[0], p[1]); err != nil {
			t.Fatalf("seed %d: materialise advisory %d version %d: %v", hw.seed, p[0], p[1], err)
		}
	}
	if len(published) == 0 {
		t.Fatalf("seed %d: no published advisory to serve over TAXII", hw.seed)
	}
	// What the store holds, per item: the facts the expectations are
	// built on (which items hold which ids), not a reader's view.
	held := map[int64][]string{}
	rows, err := hw.db.SQL().QueryContext(ctx, `SELECT DISTINCT item_id, stix_id FROM stix_objects ORDER BY item_id, stix_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var item int64
		var id string
		if err := rows.Scan(&item, &id); err != nil {
			t.Fatal(err)
		}
		held[item] = append(held[item], id)
	}
	rows.Close()
	items := map[int64]policy.Item{}
	imports := map[int64]bool{}
	for id, it := range hw.stixWorld.w.items {
		items[id], imports[id] = it, true
	}
	for id, it := range hw.w.items {
		if len(held[id]) > 0 {
			items[id] = it
		}
	}
	sectors, err := hw.db.Sectors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := hw.sample[0]
	r, err := hw.api(p, "/taxii2/api/collections/")
	if err != nil || r.status != http.StatusOK {
		t.Fatalf("seed %d: GET /taxii2/api/collections/: %d %v %.300s", hw.seed, r.status, err, r.body)
	}
	var listed struct {
		Collections []taxii.Collection `json:"collections"`
	}
	if err := json.Unmarshal([]byte(r.body), &listed); err != nil {
		t.Fatal(err)
	}
	byAlias := map[string]string{}
	for _, c := range listed.Collections {
		byAlias[c.Alias] = c.ID
	}
	var cols []*taxiiCollection
	covered := func(alias string, in func(int64, policy.Item) bool) {
		id, ok := byAlias[alias]
		if !ok {
			t.Fatalf("seed %d: no TAXII collection %s", hw.seed, alias)
		}
		tc := &taxiiCollection{alias: alias, id: id, w: &world{orgs: hw.w.orgs, viewers: hw.w.viewers, items: map[int64]policy.Item{}},
			holders: map[string][]int64{}, unique: map[int64]int{}}
		for _, item := range slices.Sorted(maps.Keys(items)) {
			it := items[item]
			if !in(item, it) {
				continue
			}
			tc.w.items[item] = it
			tc.w.ids = append(tc.w.ids, item)
			for _, sid := range held[item] {
				tc.holders[sid] = append(tc.holders[sid], item)
			}
		}
		for _, hs := range tc.holders {
			if len(hs) == 1 {
				tc.unique[hs[0]]++
			}
		}
		cols = append(cols, tc)
	}
	covered(taxii.AliasContributions, func(id int64, _ policy.Item) bool { return imports[id] })
	covered(taxii.AliasAdvisories, func(_ int64, it policy.Item) bool { return it.Kind == policy.Advisory })
	for _, s := range sectors {
		covered("sector-"+s.Code, func(_ int64, it policy.Item) bool {
			return it.Kind == policy.Report && slices.Contains(it.Sectors, s.Code)
		})
	}
	total, nonEmpty := 0, 0
	for _, tc := range cols {
		if len(tc.w.ids) == 0 {
			// Nothing covered: nothing may be listed either.
			for _, v := range viewers[:min(3, len(viewers))] {
				if _, err := hw.taxiiList(tc, v); err != nil {
					hw.leaks.mismatch("%s: %v", tc.alias, err)
				}
			}
			continue
		}
		nonEmpty++
		kind := policy.Report
		if tc.alias == taxii.AliasAdvisories {
			kind = policy.Advisory
		}
		s := surface{name: "TAXII " + tc.alias + " GET /taxii2/api/collections/{id}/objects/", kind: kind,
			show: func(_ context.Context, _ *store.DB, v policy.Viewer, _ []int64) (map[int64]policy.Decision, error) {
				return hw.taxiiList(tc, v)
			}}
		total += checkSurface(ctx, t, hw.seed, hw.db, tc.w, s, viewers, newStepCount())
	}
	if nonEmpty < 2 {
		t.Errorf("seed %d: only %d TAXII collections hold anything: the check tests little", hw.seed, nonEmpty)
	}
	total += hw.checkTAXIIObjects(ctx, viewers, byAlias)
	return total
}

// taxiiList pages through a collection as v and maps the objects back to
// the covered items holding them.
func (hw *httpWorld) taxiiList(tc *taxiiCollection, v policy.Viewer) (map[int64]policy.Decision, error) {
	p, err := hw.person(v)
	if err != nil {
		return nil, err
	}
	base := "/taxii2/api/collections/" + tc.id + "/objects/"
	listed := map[string]stixHead{}
	query := url.Values{"limit": {"97"}}
	for pages := 0; ; pages++ {
		path := base + "?" + query.Encode()
		r, err := hw.api(p, path)
		if err != nil {
			return nil, err
		}
		if r.status != http.StatusOK || pages > 500 {
			return nil, fmt.Errorf("%s: status %d (page %d): %.300s", path, r.status, pages, r.body)
		}
		hw.scan(v, v, path, r.body)
		var env taxii.Envelope
		if err := json.Unmarshal([]byte(r.body), &env); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, raw := range env.Objects {
			var o stixHead
			if err := json.Unmarshal(raw, &o); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if _, dup := listed[o.ID]; dup {
				return nil, fmt.Errorf("%s: %s listed twice", path, o.ID)
			}
			listed[o.ID] = o
		}
		if !env.More {
			break
		}
		if env.Next == "" {
			return nil, fmt.Errorf("%s: more=true but no next", path)
		}
		query.Set("next", env.Next)
	}
	counts := map[int64]int{}
	for id, o := range listed {
		holders, ok := tc.holders[id]
		if !ok {
			hw.leaks.mismatch("LEAK? viewer %s: %s lists %s, which no item it covers holds", hw.who(v), base, id)
			continue
		}
		narrowest, seen := narrowestSeen(tc.w, v, holders)
		if !seen {
			hw.taxiiProblem(tc, v, base, holders[0], "LEAK: lists %s, held by items %v of which the oracle lets the viewer see none", id, holders)
			continue
		}
		if len(holders) == 1 {
			counts[holders[0]]++
		}
		hw.taxiiLabel(tc, v, base, o, narrowest, holders[0])
	}
	for id, holders := range tc.holders {
		if _, ok := listed[id]; !ok {
			if _, seen := narrowestSeen(tc.w, v, holders); seen {
				hw.taxiiProblem(tc, v, base, holders[0], "%s, held by items %v of which the viewer sees some, is not listed", id, holders)
			}
		}
	}
	shown := map[int64]policy.Decision{}
	for item, n := range counts {
		if n != tc.unique[item] {
			hw.taxiiProblem(tc, v, base, item, "lists %d of the %d objects only this item holds", n, tc.unique[item])
		}
		shown[item] = policy.Decision{See: true}
	}
	return shown, nil
}

// narrowestSeen is the narrowest range among the items of w that v sees.
func narrowestSeen(w *world, v policy.Viewer, items []int64) (policy.TLP, bool) {
	var out policy.TLP
	for _, id := range items {
		it := w.items[id]
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

// taxiiLabel: a listed object carries the TLP 1.0 marking of the range it
// is shared under and no other (marking definitions are listed as they are).
func (hw *httpWorld) taxiiLabel(tc *taxiiCollection, v policy.Viewer, path string, o stixHead, tlp policy.TLP, item int64) {
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
			hw.taxiiProblem(tc, v, path, item, "LEAK: %s is marked TLP:%s, wider than the range %s it is shared under", o.ID, lvl, tlp)
		}
	}
	if want := stix.MarkingID(tlp, 1); !slices.Equal(tlps, []string{want}) {
		hw.taxiiProblem(tc, v, path, item, "%s is marked %v, not %s alone (the range %s)", o.ID, tlps, want, tlp)
	}
}

func (hw *httpWorld) taxiiProblem(tc *taxiiCollection, v policy.Viewer, path string, id int64, format string, args ...any) {
	it := tc.w.items[id]
	hw.leaks.mismatch("viewer %s: %s (%s), item %d %s (oracle %s, %s): %s", hw.who(v), path, tc.alias, id, describeItem(it),
		describeDecision(oracle(v, it)), why(v, it), fmt.Sprintf(format, args...))
}

// checkTAXIIObjects asks for a sample of cases' incidents by id, in a
// sector's collection of the case, as each viewer: found iff the oracle lets the viewer see the
// case, and otherwise a 404 exactly like a missing id's.
func (hw *httpWorld) checkTAXIIObjects(ctx context.Context, viewers []policy.Viewer, byAlias map[string]string) int {
	incidents := map[int64]string{} // item → its incident's id
	rows, err := hw.db.SQL().QueryContext(ctx, `SELECT DISTINCT item_id, stix_id FROM stix_objects WHERE type = 'incident' ORDER BY item_id`)
	if err != nil {
		hw.t.Fatal(err)
	}
	for rows.Next() {
		var item int64
		var id string
		if err := rows.Scan(&item, &id); err != nil {
			hw.t.Fatal(err)
		}
		if _, ok := hw.w.items[item]; ok {
			incidents[item] = id
		}
	}
	rows.Close()
	var sample []int64
	for _, item := range slices.Sorted(maps.Keys(incidents)) {
		if len(hw.w.items[item].Sectors) > 0 && len(sample) < 20 {
			sample = append(sample, item)
		}
	}
	base := "/taxii2/api/collections/" + byAlias["sector-electricity"] + "/objects/"
	checked := 0
	for _, v := range viewers {
		p, err := hw.person(v)
		if err != nil {
			hw.t.Fatal(err)
		}
		miss, err := hw.api(p, base+"incident--00000000-0000-4000-8000-000000000000/")
		if err != nil || miss.status != http.StatusNotFound {
			hw.leaks.mismatch("viewer %s: a missing object answered %d (%v)", hw.who(v), miss.status, err)
			continue
		}
		for _, item := range sample {
			it := hw.w.items[item]
			path := "/taxii2/api/collections/" + byAlias["sector-"+it.Sectors[0]] + "/objects/" + incidents[item] + "/"
			r, err := hw.api(p, path)
			if err != nil {
				hw.t.Fatal(err)
			}
			hw.scan(v, v, path, r.body)
			checked++
			see := oracle(v, it).See
			switch {
			case r.status == http.StatusOK && !see:
				hw.problem(v, path, item, "LEAK: the incident of a case the viewer may not see is served")
			case r.status == http.StatusNotFound && see:
				hw.problem(v, path, item, "the incident of a case the viewer sees is not found")
			case r.status == http.StatusNotFound && r.body != miss.body:
				hw.problem(v, path, item, "its 404 differs from a missing id's: %.300q, not %.300q", r.body, miss.body)
			case r.status != http.StatusOK && r.status != http.StatusNotFound:
				hw.problem(v, path, item, "answered %d: %.300s", r.status, r.body)
			}
		}
	}
	return checked
}
