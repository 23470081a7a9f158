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
	"testing"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/demo"
	"kyoyu/directory"
	"kyoyu/outbox"
	"kyoyu/policy"
	"kyoyu/server"
	"kyoyu/store"
	"kyoyu/taxii"
)

// env is a server with the demo community and cases, the cases' released
// versions materialised by the outbox worker, and a token per person.
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

// checkViews holds every person's view of every collection to the rule:
// each object listed is held by an item policy.Decide lets them see, listed
// once, with the manifest listing the same objects, and every object of an
// item they may see is in some collection.
func (e *env) checkViews(t *testing.T) {
	t.Helper()
	cs := e.collections(nisc)
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
}
