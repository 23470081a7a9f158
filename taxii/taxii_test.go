package taxii_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/advisory"
	"kyoyu/demo"
	"kyoyu/directory"
	"kyoyu/internal/testkit"
	"kyoyu/outbox"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/server"
	"kyoyu/stix"
	"kyoyu/store"
	"kyoyu/taxii"
)

// env is a server with the demo community and cases, the cases' released
// versions materialised by the outbox worker, and a few imported bundles.
type env struct {
	t      *testing.T
	db     *store.DB
	ts     *httptest.Server
	tokens map[string]string // by e-mail
	people map[string]*account.Principal
	emails []string
	cfg    kyoyu.Config
}

const (
	nisc     = "analyst@nisc.demo.kyoyu.jp"
	meti     = "liaison@meti.demo.kyoyu.jp"
	towa     = "reporter@operator.demo.kyoyu.jp"
	mizuho   = "reporter@mizuho-electric.demo.kyoyu.jp"
	sysadmin = "sysadmin@nisc.demo.kyoyu.jp"
	jpcert   = "analyst@jpcert.test"
	gasOp    = "reporter@gas.test"
)

func start(t *testing.T, db *store.DB) *env {
	t.Helper()
	ctx := context.Background()
	if err := directory.LoadBase(ctx, db); err != nil {
		t.Fatal(err)
	}
	fast := account.Argon2{Memory: 1024, Time: 1, Threads: 1}
	if _, err := demo.Load(ctx, db, fast); err != nil {
		t.Fatal(err)
	}
	cfg := kyoyu.Config{DB: "sqlite:unused"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := demo.LoadCases(ctx, db, cfg, fast); err != nil {
		t.Fatal(err)
	}
	// A security agency's analyst, who contributes, and a gas operator
	// the red gas case does not concern.
	for _, p := range []struct{ email, org string }{{jpcert, "jpcert"}, {gasOp, "demo_gas_2"}} {
		org, err := db.OrganisationByCode(ctx, p.org)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.CreatePerson(ctx, kyoyu.Actor{}, &kyoyu.Person{OrganisationID: org.ID, Email: p.email, Name: p.email,
			Role: kyoyu.RoleOperatorReporter, HandlesIncidents: true}); err != nil {
			t.Fatal(err)
		}
	}
	// The released versions' STIX, as the server's worker stores it.
	w := &outbox.Worker{DB: db, Cfg: cfg, Poll: 10 * time.Millisecond}
	if err := w.RunUntilIdle(ctx); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv.Accounts.Argon2 = fast
	e := &env{t: t, db: db, tokens: map[string]string{}, people: map[string]*account.Principal{}, cfg: cfg}
	e.emails = []string{nisc, meti, towa, mizuho, sysadmin, jpcert, gasOp, "secretariat@ceptoar.demo.kyoyu.jp"}
	for _, email := range e.emails {
		p, err := db.PersonByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		org, err := db.Organisation(ctx, p.OrganisationID)
		if err != nil {
			t.Fatal(err)
		}
		secret, _, err := srv.Accounts.CreateToken(ctx, kyoyu.Actor{}, p.ID, "taxii")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[email], e.people[email] = secret, &account.Principal{Person: p, Organisation: org}
	}
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(e.ts.Close)
	return e
}

type answer struct {
	status int
	body   []byte
	header http.Header
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

// do sends a request as email (none: no credentials) with TAXII's media type.
func (e *env) do(method, path, email string, body []byte, header ...string) answer {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept", taxii.MediaType)
	if body != nil {
		req.Header.Set("Content-Type", taxii.MediaType)
	}
	if email != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[email])
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, body: b, header: res.Header}
}

func (e *env) must(status int, method, path, email string, body []byte, header ...string) answer {
	e.t.Helper()
	a := e.do(method, path, email, body, header...)
	if a.status != status {
		e.t.Fatalf("%s %s as %q: %d, want %d: %s", method, path, email, a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != taxii.MediaType {
		e.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if a.status >= 400 {
		var te taxii.Error
		if err := json.Unmarshal(a.body, &te); err != nil || te.Title == "" || te.HTTPStatus != fmt.Sprint(a.status) {
			e.t.Errorf("%s %s: not a TAXII error message: %s", method, path, a.body)
		}
	}
	return a
}

func (e *env) collections(email string) []taxii.Collection {
	var cs struct {
		Collections []taxii.Collection `json:"collections"`
	}
	e.must(http.StatusOK, "GET", "/taxii2/api/collections/", email, nil).decode(e.t, &cs)
	return cs.Collections
}

func collectionByAlias(t *testing.T, cs []taxii.Collection, alias string) taxii.Collection {
	t.Helper()
	for _, c := range cs {
		if c.Alias == alias {
			return c
		}
	}
	t.Fatalf("no collection %s in %+v", alias, cs)
	return taxii.Collection{}
}

// object is what the tests read of a STIX object.
type object struct {
	Type     string   `json:"type"`
	ID       string   `json:"id"`
	Modified string   `json:"modified"`
	Markings []string `json:"object_marking_refs"`
	raw      string
}

// pageAll pages through a collection's objects with the given limit and
// query until more is false, checking the envelope and its headers.
func (e *env) pageAll(email, collection string, limit int, query url.Values) []object {
	e.t.Helper()
	if query == nil {
		query = url.Values{}
	}
	query.Set("limit", fmt.Sprint(limit))
	var out []object
	for pages := 0; ; pages++ {
		if pages > 500 {
			e.t.Fatal("no end to the pages")
		}
		path := "/taxii2/api/collections/" + collection + "/objects/?" + query.Encode()
		a := e.must(http.StatusOK, "GET", path, email, nil)
		var env struct {
			More    bool              `json:"more"`
			Next    string            `json:"next"`
			Objects []json.RawMessage `json:"objects"`
		}
		a.decode(e.t, &env)
		if len(env.Objects) > limit {
			e.t.Fatalf("%s: %d objects, over the limit %d", path, len(env.Objects), limit)
		}
		if len(env.Objects) > 0 && (a.header.Get("X-TAXII-Date-Added-First") == "" || a.header.Get("X-TAXII-Date-Added-Last") == "") {
			e.t.Errorf("%s: no X-TAXII-Date-Added headers", path)
		}
		for _, raw := range env.Objects {
			var o object
			if err := json.Unmarshal(raw, &o); err != nil {
				e.t.Fatal(err)
			}
			o.raw = string(raw)
			out = append(out, o)
		}
		if !env.More {
			if env.Next != "" {
				e.t.Errorf("%s: next without more", path)
			}
			return out
		}
		if env.Next == "" || len(env.Objects) != limit {
			e.t.Fatalf("%s: more with next %q after %d objects", path, env.Next, len(env.Objects))
		}
		query.Set("next", env.Next)
	}
}

// holdings maps every stored STIX id to the items holding it, read from
// the table itself (no reader's view).
func (e *env) holdings() map[string][]int64 {
	e.t.Helper()
	rows, err := e.db.SQL().QueryContext(context.Background(), `SELECT DISTINCT stix_id, item_id FROM stix_objects ORDER BY stix_id, item_id`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]int64{}
	for rows.Next() {
		var id string
		var item int64
		if err := rows.Scan(&id, &item); err != nil {
			e.t.Fatal(err)
		}
		out[id] = append(out[id], item)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// sees is what policy.Decide says of the person and an item.
func (e *env) sees(email string, item int64) bool {
	e.t.Helper()
	it, err := e.db.ItemState(context.Background(), item)
	if err != nil {
		e.t.Fatal(err)
	}
	pr := e.people[email]
	return policy.Decide(policy.ViewerOf(pr.Person, pr.Organisation), it).See
}

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
		// The migration that brought this job kind enqueues the same jobs
		// for versions released before it: its query gives these jobs.
		rows, err := db.SQL().QueryContext(ctx, `SELECT '{"case_id":' || v.case_id || ',"version_id":' || v.id || '}', 'stix:version:' || v.id
			FROM report_versions v WHERE v.released AND v.submitted_at IS NOT NULL ORDER BY v.id`)
		if err != nil {
			t.Fatal(err)
		}
		var backfill []string
		for rows.Next() {
			var payload, key string
			if err := rows.Scan(&payload, &key); err != nil {
				t.Fatal(err)
			}
			var p store.STIXJob
			if err := json.Unmarshal([]byte(payload), &p); err != nil || p.CaseID == 0 || p.VersionID == 0 {
				t.Errorf("backfill payload %s: %v", payload, err)
			}
			backfill = append(backfill, key+" "+payload)
		}
		rows.Close()
		var enqueued []string
		for _, j := range jobs {
			var p store.STIXJob
			json.Unmarshal(j.Payload, &p)
			enqueued = append(enqueued, fmt.Sprintf(`%s {"case_id":%d,"version_id":%d}`, j.DedupeKey, p.CaseID, p.VersionID))
		}
		slices.Sort(backfill)
		slices.Sort(enqueued)
		if !slices.Equal(backfill, enqueued) {
			t.Errorf("the migration's backfill %q, the release's jobs %q", backfill, enqueued)
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

		// ---- contributions: POST, status ----
		contrib := collectionByAlias(t, cs, taxii.AliasContributions).ID
		ind := func(id, addr string, marking string) map[string]any {
			return map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "created": "2026-01-01T00:00:00.000Z",
				"modified": "2026-01-01T00:00:00.000Z", "pattern": "[ipv4-addr:value = '" + addr + "']", "pattern_type": "stix",
				"valid_from": "2026-01-01T00:00:00Z", "object_marking_refs": []string{marking}}
		}
		greenEnv, _ := json.Marshal(map[string]any{"objects": []any{
			ind("indicator--11111111-1111-4111-8111-111111111111", "198.51.100.1", stix.TLP1Green),
			ind("indicator--22222222-2222-4222-8222-222222222222", "198.51.100.2", stix.TLP1Green)}})
		amberEnv, _ := json.Marshal(map[string]any{"objects": []any{
			ind("indicator--33333333-3333-4333-8333-333333333333", "198.51.100.3", stix.TLP2Amber)}})
		unmarked, _ := json.Marshal(map[string]any{"objects": []any{map[string]any{"type": "indicator", "spec_version": "2.1",
			"id": "indicator--44444444-4444-4444-8444-444444444444", "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
			"pattern": "[ipv4-addr:value = '198.51.100.4']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}}})
		objectsPath := "/taxii2/api/collections/" + contrib + "/objects/"
		e.must(http.StatusUnsupportedMediaType, "POST", objectsPath, jpcert, greenEnv, "Content-Type", "application/json")
		e.must(http.StatusUnsupportedMediaType, "POST", objectsPath, jpcert, greenEnv, "Content-Type", "application/taxii+json;version=2.0")
		e.must(http.StatusForbidden, "POST", objectsPath, towa, greenEnv)
		e.must(http.StatusForbidden, "POST", "/taxii2/api/collections/"+elec+"/objects/", jpcert, greenEnv)
		e.must(http.StatusBadRequest, "POST", objectsPath, jpcert, []byte(`{"objects": []}`))
		e.must(http.StatusUnauthorized, "POST", objectsPath, "", greenEnv)

		var st taxii.Status
		e.must(http.StatusAccepted, "POST", objectsPath, jpcert, greenEnv).decode(t, &st)
		if st.Status != "complete" || st.TotalCount != 2 || st.SuccessCount != 2 || st.FailureCount != 0 || st.PendingCount != 0 || len(st.Successes) != 2 {
			t.Errorf("status %+v", st)
		}
		var again taxii.Status
		e.must(http.StatusOK, "GET", "/taxii2/api/status/"+st.ID+"/", jpcert, nil).decode(t, &again)
		if again.ID != st.ID || again.SuccessCount != 2 {
			t.Errorf("status read back %+v", again)
		}
		// Only its poster reads a status.
		e.must(http.StatusNotFound, "GET", "/taxii2/api/status/"+st.ID+"/", nisc, nil)
		e.must(http.StatusNotFound, "GET", "/taxii2/api/status/no-such-status/", jpcert, nil)
		e.must(http.StatusAccepted, "POST", objectsPath, jpcert, amberEnv)
		var failed taxii.Status
		e.must(http.StatusAccepted, "POST", objectsPath, jpcert, unmarked).decode(t, &failed)
		if failed.FailureCount != 1 || failed.SuccessCount != 0 || len(failed.Failures) != 1 || !strings.Contains(failed.Failures[0].Message, "TLP") {
			t.Errorf("an unmarked envelope: %+v", failed)
		}
		// Posting the same objects again stores nothing twice.
		var dup taxii.Status
		e.must(http.StatusAccepted, "POST", objectsPath, jpcert, greenEnv).decode(t, &dup)
		if dup.SuccessCount != 2 || dup.Successes[0].Message == "" {
			t.Errorf("a repeated envelope: %+v", dup)
		}
		if got := e.pageAll(jpcert, contrib, 1, nil); len(got) != 3 {
			t.Errorf("the contributor sees %d contributed objects, want 3: %+v", len(got), got)
		}

		// ---- advisories: published, and followed up ----
		advs := advisory.New(db, e.cfg)
		analyst := e.people[nisc]
		adv, err := advs.Draft(ctx, analyst, "test", kyoyu.AdvisoryForm{})
		if err != nil {
			t.Fatal(err)
		}
		af := adv.Form
		af.Reason, af.Importance, af.TLP = kyoyu.ReasonVulnerability, "advisory", "amber"
		af.Recipients = []kyoyu.RecipientPair{{MinistryID: e.people[meti].Organisation.ID, Sector: "electricity"}}
		af.Title, af.Summary, af.Actions = "VPN装置の脆弱性に関する注意喚起", "VPN装置の脆弱性を突いた侵入が相次いでいる。", "最新の修正を適用すること。"
		publish := func(versionID int64, f kyoyu.AdvisoryForm) {
			t.Helper()
			hs, err := advs.Highlights(ctx, analyst, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hs {
				f.Resolved = append(f.Resolved, h.Text)
			}
			if err := advs.SaveDraft(ctx, analyst, "test", versionID, f); err != nil {
				t.Fatal(err)
			}
			if _, err := advs.Publish(ctx, analyst, "test", versionID); err != nil {
				t.Fatal(err)
			}
			w := &outbox.Worker{DB: db, Cfg: e.cfg, Poll: 10 * time.Millisecond}
			if err := w.RunUntilIdle(ctx); err != nil {
				t.Fatal(err)
			}
		}
		publish(adv.VersionID, af)
		second, _, err := advs.FollowUp(ctx, analyst, "test", adv.ID)
		if err != nil {
			t.Fatal(err)
		}
		af.Summary += " 第2報：修正版が公開された。"
		publish(second, af)
		advCol := collectionByAlias(t, cs, taxii.AliasAdvisories).ID
		reports := e.pageAll(nisc, advCol, 1, url.Values{"match[type]": {"report"}})
		coas := e.pageAll(nisc, advCol, 1, url.Values{"match[type]": {"course-of-action"}})
		if len(reports) != 1 || len(coas) != 1 {
			t.Fatalf("advisories: %d reports, %d courses of action", len(reports), len(coas))
		}
		var avs taxii.Versions
		e.must(http.StatusOK, "GET", "/taxii2/api/collections/"+advCol+"/objects/"+reports[0].ID+"/versions/", nisc, nil).decode(t, &avs)
		if len(avs.Versions) != 2 || avs.Versions[1] != reports[0].Modified {
			t.Errorf("the advisory's versions %v, newest %s", avs.Versions, reports[0].Modified)
		}
		// AMBER for electricity: not for the gas operator.
		if got := e.pageAll(gasOp, advCol, 10, nil); len(got) != 0 {
			t.Errorf("the gas operator gets %d objects of an AMBER advisory for electricity", len(got))
		}
		e.must(http.StatusNotFound, "GET", "/taxii2/api/collections/"+advCol+"/objects/"+reports[0].ID+"/", gasOp, nil)
		// The migration's backfill gives the publications' jobs too.
		arows, err := db.SQL().QueryContext(ctx, `SELECT 'stix:advisory-version:' || v.id || ' ' || '{"advisory_id":' || v.advisory_id || ',"version_id":' || v.id || '}'
			FROM advisory_versions v WHERE v.status = 'published' AND v.published_at IS NOT NULL ORDER BY v.id`)
		if err != nil {
			t.Fatal(err)
		}
		var abackfill, aenqueued []string
		for arows.Next() {
			var s string
			if err := arows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			abackfill = append(abackfill, s)
		}
		arows.Close()
		ajobs, err := db.Jobs(ctx, store.JobFilter{Kind: store.JobSTIX, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range ajobs {
			if strings.HasPrefix(j.DedupeKey, "stix:advisory-version:") {
				aenqueued = append(aenqueued, j.DedupeKey+" "+string(j.Payload))
				if j.Status != store.JobDone {
					t.Errorf("advisory job %+v", j)
				}
			}
		}
		slices.Sort(abackfill)
		slices.Sort(aenqueued)
		if len(abackfill) != 2 || !slices.Equal(abackfill, aenqueued) {
			t.Errorf("the migration's advisory backfill %q, the publications' jobs %q", abackfill, aenqueued)
		}

		// ---- every person, every collection: exactly what the rule lets them see ----
		held := e.holdings()
		for _, email := range e.emails {
			for _, c := range cs {
				seen := map[string]bool{}
				objs := e.pageAll(email, c.ID, 3, nil)
				for _, o := range objs {
					if seen[o.ID] {
						t.Errorf("%s: %s listed twice in %s", email, o.ID, c.Alias)
					}
					seen[o.ID] = true
					if !slices.ContainsFunc(held[o.ID], func(item int64) bool { return e.sees(email, item) }) {
						t.Errorf("LEAK: %s gets %s from %s, held by items %v none of which policy.Decide lets them see", email, o.ID, c.Alias, held[o.ID])
					}
				}
				// The manifest lists the same objects.
				var m taxii.Manifest
				e.must(http.StatusOK, "GET", "/taxii2/api/collections/"+c.ID+"/manifest/?limit=1000", email, nil).decode(t, &m)
				var mids []string
				for _, r := range m.Objects {
					mids = append(mids, r.ID)
					if r.MediaType != taxii.STIXMediaType || r.Version == "" || r.DateAdded == "" {
						t.Errorf("manifest record %+v", r)
					}
				}
				if got := slices.Sorted(maps.Keys(seen)); !slices.Equal(slices.Sorted(slices.Values(mids)), got) {
					t.Errorf("%s: manifest of %s %v, objects %v", email, c.Alias, mids, got)
				}
			}
			// Every item the person sees has its objects in some collection.
			all := map[string]bool{}
			for _, c := range cs {
				for _, o := range e.pageAll(email, c.ID, 100, nil) {
					all[o.ID] = true
				}
			}
			for id, items := range held {
				if slices.ContainsFunc(items, func(item int64) bool { return e.sees(email, item) }) && !all[id] {
					t.Errorf("%s sees an item holding %s (items %v), but no collection lists it", email, id, items)
				}
			}
		}
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
	})
}
