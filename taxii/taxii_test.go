package taxii_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/demo"
	"kyoyu/internal/testkit"
	"kyoyu/report"
	"kyoyu/store"
	"kyoyu/taxii"
)

func TestTAXII(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := start(t, db)
		ctx := context.Background()

		// ---- authentication ----
		a := e.must(http.StatusUnauthorized, "GET", "/taxii2/", "", nil)
		if got := a.header.Values("WWW-Authenticate"); len(got) != 2 || !strings.HasPrefix(got[0], "Basic ") || !strings.HasPrefix(got[1], "Bearer ") {
			t.Errorf("WWW-Authenticate %q", got)
		}
		e.must(http.StatusUnauthorized, "GET", "/taxii2/api/collections/", "", nil, "Authorization", "Bearer "+account.TokenPrefix+strings.Repeat("A", 43))
		basic := func(user, pass string) string {
			req, _ := http.NewRequest("GET", "/", nil)
			req.SetBasicAuth(user, pass)
			return req.Header.Get("Authorization")
		}
		e.must(http.StatusOK, "GET", "/taxii2/", "", nil, "Authorization", basic(nisc, e.tokens[nisc]))
		e.must(http.StatusOK, "GET", "/taxii2/", "", nil, "Authorization", basic(strings.ToUpper(nisc), e.tokens[nisc]))
		e.must(http.StatusUnauthorized, "GET", "/taxii2/", "", nil, "Authorization", basic(towa, e.tokens[nisc]))
		e.must(http.StatusUnauthorized, "GET", "/taxii2/", "", nil, "Authorization", basic(nisc, demo.Password))

		// ---- media types ----
		for _, acc := range []string{"application/json", "application/taxii+json;version=2.0", "text/html", "application/taxii+json;q=0"} {
			e.must(http.StatusNotAcceptable, "GET", "/taxii2/api/", nisc, nil, "Accept", acc)
		}
		for _, acc := range []string{"", "*/*", "application/taxii+json", "text/html, application/taxii+json;version=2.1;q=0.5"} {
			e.must(http.StatusOK, "GET", "/taxii2/api/", nisc, nil, "Accept", acc)
		}

		// ---- discovery, API root, collections ----
		var disc taxii.Discovery
		e.must(http.StatusOK, "GET", "/taxii2/", nisc, nil).decode(t, &disc)
		if disc.Default != e.ts.URL+taxii.Root || !slices.Equal(disc.APIRoots, []string{e.ts.URL + taxii.Root}) {
			t.Errorf("discovery %+v", disc)
		}
		var root taxii.APIRoot
		e.must(http.StatusOK, "GET", "/taxii2/api/", nisc, nil).decode(t, &root)
		if !slices.Equal(root.Versions, []string{taxii.MediaType}) || root.MaxContentLength <= 0 {
			t.Errorf("api root %+v", root)
		}
		sectors, err := db.Sectors(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cs := e.collections(towa)
		if len(cs) != len(sectors)+2 {
			t.Fatalf("%d collections for %d sectors", len(cs), len(sectors))
		}
		for _, c := range cs {
			if !c.CanRead || c.CanWrite || !slices.Equal(c.MediaTypes, []string{taxii.STIXMediaType}) {
				t.Errorf("operator's collection %+v", c)
			}
			var one taxii.Collection
			e.must(http.StatusOK, "GET", "/taxii2/api/collections/"+c.ID+"/", towa, nil).decode(t, &one)
			if one.ID != c.ID || one.Title != c.Title {
				t.Errorf("collection %s: %+v", c.ID, one)
			}
		}
		if c := collectionByAlias(t, e.collections(jpcert), taxii.AliasContributions); !c.CanWrite {
			t.Errorf("an agency's analyst may not write contributions: %+v", c)
		}
		if c := collectionByAlias(t, e.collections(sysadmin), taxii.AliasContributions); c.CanWrite {
			t.Errorf("a system admin who does not handle incidents may write contributions: %+v", c)
		}
		missing := e.must(http.StatusNotFound, "GET", "/taxii2/api/collections/00000000-0000-4000-8000-000000000000/", nisc, nil)
		e.must(http.StatusNotFound, "GET", "/taxii2/api/collections/00000000-0000-4000-8000-000000000000/objects/", nisc, nil)
		e.must(http.StatusNotFound, "GET", "/taxii2/api/nothing/", nisc, nil)

		elec := collectionByAlias(t, cs, "sector-electricity").ID
		gas := collectionByAlias(t, cs, "sector-gas").ID

		// ---- the cases, materialised ----
		jobs, err := db.Jobs(ctx, store.JobFilter{Kind: store.JobSTIX, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		// Four released versions: the amber case and its follow-up, the
		// anonymised green case, the ministry's red one.
		if len(jobs) != 4 || slices.ContainsFunc(jobs, func(j *store.Job) bool { return j.Status != store.JobDone }) {
			t.Fatalf("stix jobs: %+v", jobs)
		}
		// Versions released before their export was stored get the same
		// jobs from the backfill, window by window.
		if got := backfilled(t, db, jobs); !slices.Equal(got, jobKeys(jobs)) {
			t.Errorf("the backfill's jobs %q, the release's %q", got, jobKeys(jobs))
		}
		// Storing a version again changes nothing.
		var p0 store.STIXJob
		json.Unmarshal(jobs[0].Payload, &p0)
		if n, err := report.New(db, kyoyu.Config{}).MaterialiseCaseSTIX(ctx, p0.CaseID, p0.VersionID); err != nil || n != 0 {
			t.Errorf("materialising again: %d new, %v", n, err)
		}
		incidents := e.pageAll(nisc, elec, 2, url.Values{"match[type]": {"incident"}})
		if len(incidents) != 2 {
			t.Fatalf("NISC sees %d incidents in electricity, want 2: %+v", len(incidents), incidents)
		}
		mizuhoOrg, err := db.OrganisationByCode(ctx, "demo_electricity_2")
		if err != nil {
			t.Fatal(err)
		}
		for _, email := range e.emails {
			for _, c := range cs {
				for _, o := range e.pageAll(email, c.ID, 50, nil) {
					if strings.Contains(o.raw, mizuhoOrg.NameJA) || strings.Contains(o.raw, mizuhoOrg.NameEN) {
						t.Errorf("%s: %s names the anonymised source: %s", email, o.ID, o.raw)
					}
				}
			}
		}
		// The followed-up case: two versions of one incident.
		var followed string
		for _, o := range incidents {
			a := e.must(http.StatusOK, "GET", "/taxii2/api/collections/"+elec+"/objects/"+o.ID+"/versions/", nisc, nil)
			var vs taxii.Versions
			a.decode(t, &vs)
			if len(vs.Versions) == 2 {
				followed = o.ID
				if vs.Versions[1] != o.Modified || vs.Versions[0] >= vs.Versions[1] { // oldest first
					t.Errorf("versions %v; the newest listed is %s", vs.Versions, o.Modified)
				}
				var first, all struct {
					Objects []object `json:"objects"`
				}
				e.must(http.StatusOK, "GET", "/taxii2/api/collections/"+elec+"/objects/"+o.ID+"/?match[version]=first", nisc, nil).decode(t, &first)
				e.must(http.StatusOK, "GET", "/taxii2/api/collections/"+elec+"/objects/"+o.ID+"/?match[version]=all", nisc, nil).decode(t, &all)
				if len(first.Objects) != 1 || first.Objects[0].Modified != vs.Versions[0] || len(all.Objects) != 2 {
					t.Errorf("first %+v, all %+v", first, all)
				}
				var at struct {
					Objects []object `json:"objects"`
				}
				e.must(http.StatusOK, "GET", "/taxii2/api/collections/"+elec+"/objects/"+o.ID+"/?match[version]="+url.QueryEscape(vs.Versions[0]), nisc, nil).decode(t, &at)
				if len(at.Objects) != 1 || at.Objects[0].Modified != vs.Versions[0] {
					t.Errorf("match[version]=%s: %+v", vs.Versions[0], at)
				}
			}
		}
		if followed == "" {
			t.Fatalf("no incident with two versions")
		}

		// ---- an object the person may not see is missing ----
		redGas := e.pageAll(nisc, gas, 10, url.Values{"match[type]": {"incident"}})
		if len(redGas) != 1 {
			t.Fatalf("NISC sees %d gas incidents", len(redGas))
		}
		missingObj := e.must(http.StatusNotFound, "GET", "/taxii2/api/collections/"+gas+"/objects/incident--00000000-0000-4000-8000-000000000000/", towa, nil)
		for _, p := range []string{"/", "/versions/"} {
			hidden := e.must(http.StatusNotFound, "GET", "/taxii2/api/collections/"+gas+"/objects/"+redGas[0].ID+p, towa, nil)
			if !bytes.Equal(hidden.body, missingObj.body) {
				t.Errorf("the hidden object's 404 %s differs from a missing one's %s", hidden.body, missingObj.body)
			}
		}
		if !bytes.Equal(missing.body, missingObj.body) {
			t.Errorf("a missing collection's 404 %s differs from a missing object's %s", missing.body, missingObj.body)
		}
		e.must(http.StatusOK, "GET", "/taxii2/api/collections/"+gas+"/objects/"+redGas[0].ID+"/", nisc, nil)

		// A gas operator the red gas case does not concern does not see it.
		if got := e.pageAll(gasOp, gas, 10, url.Values{"match[type]": {"incident"}}); len(got) != 0 {
			t.Errorf("the gas operator sees the red gas case: %+v", got)
		}

		// ---- filters ----
		all := e.pageAll(nisc, elec, 1000, nil)
		if len(all) < 4 {
			t.Fatalf("electricity holds %d objects", len(all))
		}
		a = e.must(http.StatusOK, "GET", "/taxii2/api/collections/"+elec+"/objects/?limit=2", nisc, nil)
		after := a.header.Get("X-TAXII-Date-Added-Last")
		later := e.pageAll(nisc, elec, 1000, url.Values{"added_after": {after}})
		if len(later) >= len(all) {
			t.Errorf("added_after %s: %d of %d objects", after, len(later), len(all))
		}
		at, _ := time.Parse(time.RFC3339Nano, after)
		var m taxii.Manifest
		e.must(http.StatusOK, "GET", "/taxii2/api/collections/"+elec+"/manifest/?added_after="+url.QueryEscape(after), nisc, nil).decode(t, &m)
		for _, r := range m.Objects {
			if d, _ := time.Parse(time.RFC3339Nano, r.DateAdded); !d.After(at) {
				t.Errorf("added_after %s lists %s added %s", after, r.ID, r.DateAdded)
			}
		}
		if len(m.Objects) != len(later) {
			t.Errorf("manifest after %s: %d, objects %d", after, len(m.Objects), len(later))
		}
		byID := e.pageAll(nisc, elec, 10, url.Values{"match[id]": {all[0].ID + "," + followed}})
		if len(byID) != 2 {
			t.Errorf("match[id]: %+v", byID)
		}
		if got := e.pageAll(nisc, elec, 10, url.Values{"match[spec_version]": {"2.0"}}); len(got) != 0 {
			t.Errorf("match[spec_version]=2.0: %+v", got)
		}
		if got := e.pageAll(nisc, elec, 1000, url.Values{"match[spec_version]": {"2.1"}}); len(got) != len(all) {
			t.Errorf("match[spec_version]=2.1: %d of %d", len(got), len(all))
		}
		for _, bad := range []string{"limit=0", "limit=x", "added_after=yesterday", "match[id]=nope", "match[type]=A", "match[version]=latest", "next=zzz", "color=red"} {
			e.must(http.StatusBadRequest, "GET", "/taxii2/api/collections/"+elec+"/objects/?"+bad, nisc, nil)
		}
		e.checkViews(t)
	})
}

// jobKeys is each job as its dedupe key and payload, sorted.
func jobKeys(jobs []*store.Job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.DedupeKey+" "+string(j.Payload))
	}
	slices.Sort(out)
	return out
}

// backfilled removes the given jobs and lets a backfill (in windows of
// two, so it takes several steps) enqueue them again; it returns the STIX
// jobs then pending, as jobKeys does.
func backfilled(t *testing.T, db *store.DB, jobs []*store.Job) []string {
	t.Helper()
	ctx := context.Background()
	for _, j := range jobs {
		if _, err := db.SQL().ExecContext(ctx, fmt.Sprintf("DELETE FROM jobs WHERE id = %d", j.ID)); err != nil {
			t.Fatal(err)
		}
	}
	b := &store.STIXBackfill{Window: 2, Queue: 1000}
	for i := 0; !b.Done(); i++ {
		if i > 100 {
			t.Fatal("the backfill does not end")
		}
		if _, err := b.Step(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	again, err := db.Jobs(ctx, store.JobFilter{Kind: store.JobSTIX, Status: store.JobPending, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	// A second pass over the same versions adds nothing.
	if n, err := (&store.STIXBackfill{Window: 2, Queue: 1000}).Step(ctx, db); err != nil || n != 0 {
		t.Errorf("a second backfill enqueued %d: %v", n, err)
	}
	return jobKeys(again)
}
