package e2e

// The HTTP half of the adversarial test: the world TestAdversarialSurfaces
// built is served by the real server (server.New, over TCP), and the
// surfaces people actually use are held to the same oracle, as real people:
// an account per sampled (organisation, need to know), signed in through
// the sign-in form for the pages and holding an API token for the API.
//
// Every surface reports what it showed as item → decision, like the store
// surfaces, and checkSurface compares it with the oracle. Besides, every
// answer is read for what it must never hold: the real name of a source
// the oracle withholds (実名事業者<id>), an anonymised case's originator as
// an id (API) or a name (pages), a refusal that differs from a missing id's.
// The audit log is checked entry by entry (checkAudit).
//
// The surfaces are checked for a seeded sample of viewers — always the
// anonymous visitor, NISC, a ministry, a CEPTOAR secretariat and an operator
// with and without need to know — unless KYOYU_ADVERSARIAL_FULL=1; the store
// surfaces check every viewer.
//
// Adding an HTTP surface: append it to (*httpWorld).surfaces() below, as a
// store surface is added to surfaces(); its show func fetches as the
// viewer's person (hw.person(v), then hw.api or hw.page), passes every
// answer to hw.scan, and reads the items shown. The readers of answers are
// in adversarial_http_checks_test.go and adversarial_http_client_test.go;
// notifications and the audit log in adversarial_http_audit_test.go.

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/server"
	"kyoyu/store"
)

// httpSampleSize is how many viewers the HTTP surfaces check by default,
// the anonymous visitor included.
const httpSampleSize = 40

// httpWorld is the adversarial world served by the real server.
type httpWorld struct {
	t          *testing.T
	seed       uint64
	db         *store.DB
	w          *world
	base       string
	transport  *http.Transport
	anon       *http.Client
	accounts   *account.Service
	reports    *report.Service
	people     map[int64]*httpPerson // by person id
	sample     []*httpPerson         // the signed-in viewers the surfaces check
	auditors   []*httpPerson         // a NISC analyst and a system admin
	itemOfCase map[int64]int64
	caseIDs    []int64
	ref        map[int64]*kyoyu.Case      // each case as its originator reads it
	missing    int64                      // a case id that does not exist
	notified   map[noteKey]map[int64]bool // items each person was told about, by kind
	leaks      *reporter                  // what an answer holds besides its decisions
	stixWorld  *stixWorld                 // the imported bundles, once checkSTIXObjects imported them
	scanned    int
	requests   atomic.Int64
}

func checkHTTPSurfaces(ctx context.Context, t *testing.T, seed uint64, db *store.DB, w *world) {
	start := time.Now()
	hw := newHTTPWorld(ctx, t, seed, db, w)
	setup := time.Since(start)
	hw.selfCheck()
	hw.checkRefusals()
	hw.checkAdvisorySTIXRefusals() // adversarial_advisory_stix_test.go
	hw.checkCSVRefusals()          // adversarial_csv_test.go
	var signedIn []policy.Viewer
	for _, p := range hw.sample {
		signedIn = append(signedIn, p.v)
	}
	everyone := append([]policy.Viewer{policy.Anonymous}, signedIn...)
	total, surfaces := 0, hw.surfaces()
	for _, s := range surfaces {
		vs := signedIn
		if s.asAnonymous {
			vs = everyone
		}
		// The steps are counted (and required) by the store surfaces.
		total += checkSurface(ctx, t, seed, db, w, s, vs, newStepCount())
	}
	total += hw.checkSTIXObjects(ctx, signedIn) // adversarial_stix_test.go
	total += hw.checkAudit(ctx)
	total += hw.checkTAXII(ctx, signedIn) // adversarial_taxii_test.go; after the audit view, as it stores cases' STIX
	hw.leaks.done(hw.scanned, time.Since(start)-setup)
	note := fmt.Sprintf("a seeded sample of %d of %d viewers; KYOYU_ADVERSARIAL_FULL=1 checks every one", len(everyone), len(w.viewers))
	if os.Getenv("KYOYU_ADVERSARIAL_FULL") == "1" {
		note = "every viewer"
	}
	t.Logf("seed %d: HTTP on %s: %d viewers (%s) and 2 auditors; %d (viewer, item) checks over %d surfaces and the audit log; %d requests; set up in %v, checked in %v",
		seed, db.Dialect, len(everyone), note, total, len(surfaces), hw.requests.Load(), setup.Round(time.Millisecond),
		(time.Since(start) - setup).Round(time.Millisecond))
}

func (hw *httpWorld) surfaces() []surface {
	return append([]surface{
		{name: "GET /api/v1/cases", kind: policy.Report, showsSource: true, show: hw.apiList("")},
		{name: "GET /api/v1/cases?q=侵入", kind: policy.Report, showsSource: true, sharedOnly: true, show: hw.apiList("侵入")},
		{name: "GET /api/v1/cases/{id}", kind: policy.Report, showsSource: true, perViewer: 60, show: hw.apiDetail},
		{name: "GET /reports", kind: policy.Report, showsSource: true, show: hw.webList("")},
		{name: "GET /reports?q=侵入", kind: policy.Report, showsSource: true, sharedOnly: true, show: hw.webList("侵入")},
		{name: "GET /cases/{id}", kind: policy.Report, showsSource: true, perViewer: 60, show: hw.webDetail},
		{name: "GET /notifications", perViewer: 40, show: hw.notifications(false)},
		{name: "GET /api/v1/notifications", perViewer: 40, show: hw.notifications(true)},
		{name: "GET /public", kind: policy.Report, asAnonymous: true, show: hw.publicList("/public", publicRe)},
		{name: "GET /public/feed.atom", kind: policy.Report, asAnonymous: true, show: hw.publicList("/public/feed.atom", feedRe)},
		{name: "GET /public/cases/{id}", kind: policy.Report, showsSource: true, asAnonymous: true, perViewer: 60, show: hw.publicDetail},
	}, slices.Concat(hw.advisorySurfaces(), hw.stixSurfaces(), hw.advisorySTIXSurfaces(), hw.csvSurfaces(), hw.mispSurfaces())...) // adversarial_advisory_test.go, adversarial_stix_test.go, adversarial_advisory_stix_test.go, adversarial_csv_test.go, adversarial_misp_test.go
}

// ---- the server and its people ---------------------------------------------

func newHTTPWorld(ctx context.Context, t *testing.T, seed uint64, db *store.DB, w *world) *httpWorld {
	t.Helper()
	cfg := kyoyu.Config{}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	fast := account.Argon2{Memory: 1024, Time: 1, Threads: 1}
	srv.Accounts.Argon2 = fast
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	hw := &httpWorld{t: t, seed: seed, db: db, w: w, base: ts.URL, accounts: srv.Accounts, reports: report.New(db, cfg),
		transport: &http.Transport{MaxIdleConnsPerHost: 4}, people: map[int64]*httpPerson{},
		itemOfCase: map[int64]int64{}, ref: map[int64]*kyoyu.Case{}, notified: map[noteKey]map[int64]bool{},
		leaks: &reporter{t: t, seed: seed, check: "HTTP answers (names, ids, refusals)"}}
	t.Cleanup(hw.transport.CloseIdleConnections)
	hw.anon = hw.newClient()
	for item, c := range caseOfItem[db] {
		hw.itemOfCase[c] = item
		hw.caseIDs = append(hw.caseIDs, c)
		// The case's ministry and secretariat, which its pages name.
		it := w.items[item]
		ref, _, err := db.Case(ctx, policy.ViewerOf(&kyoyu.Person{ID: 1}, w.orgs[it.Originator]), c)
		if err != nil {
			t.Fatalf("case %d as its originator: %v", c, err)
		}
		hw.ref[c] = ref
	}
	slices.Sort(hw.caseIDs)
	hw.missing = slices.Max(hw.caseIDs) + 1_000_000

	hash, err := fast.HashPassword(adversarialPassword)
	if err != nil {
		t.Fatal(err)
	}
	nisc, operator, slots := hw.chooseViewers(newRand(seed + 3))
	add := func(org int64, ntk bool, role kyoyu.Role) *httpPerson {
		p, err := hw.addPerson(ctx, org, ntk, role, hash)
		if err != nil {
			t.Fatalf("seed %d: account for organisation %d (need to know %t): %v", seed, org, ntk, err)
		}
		return p
	}
	for _, s := range slots {
		hw.sample = append(hw.sample, add(s.org, s.ntk, roleFor(w.orgs[s.org])))
	}
	// The auditors read the whole log: a NISC analyst, and a system admin
	// who works for the sampled operator, whose own staff's reads of cases
	// it may not know the source of are in the log too.
	hw.auditors = []*httpPerson{add(nisc, true, kyoyu.RoleNISCAnalyst), add(operator, true, kyoyu.RoleSystemAdmin)}
	return hw
}

type viewerSlot struct {
	org int64
	ntk bool
}

// chooseViewers picks the organisations whose staff the HTTP surfaces
// check: NISC, a ministry, the CEPTOAR secretariat that is most often a
// source and the CEPTOAR member operator that most often reports
// anonymised (with and without need to know) always, then a seeded draw.
// It also returns the NISC organisation and the operator, for the auditors.
func (hw *httpWorld) chooseViewers(r *rand.Rand) (nisc, operator int64, slots []viewerSlot) {
	ids := slices.Sorted(maps.Keys(hw.w.orgs))
	only := func(k kyoyu.OrgKind) []int64 {
		var out []int64
		for _, id := range ids {
			if o := hw.w.orgs[id]; len(o.Kinds) == 1 && o.Kinds[0] == k {
				out = append(out, id)
			}
		}
		return out
	}
	// The organisation that most often plays role(it) in an item.
	most := func(pool []int64, role func(it policy.Item) []int64) int64 {
		count := map[int64]int{}
		for _, it := range hw.w.items {
			for _, id := range role(it) {
				count[id]++
			}
		}
		return slices.MaxFunc(pool, func(a, b int64) int { return cmp.Or(cmp.Compare(count[a], count[b]), cmp.Compare(b, a)) })
	}
	var members []int64
	for _, id := range only(kyoyu.KindOperator) {
		if len(hw.w.orgs[id].CEPTOARs) > 0 {
			members = append(members, id)
		}
	}
	nisc = only(kyoyu.KindNISC)[0]
	ministry := only(kyoyu.KindMinistry)[0]
	secretariat := most(only(kyoyu.KindCEPTOAR), func(it policy.Item) []int64 { return it.SourceOrgs })
	operator = most(members, func(it policy.Item) []int64 {
		if it.Anonymised {
			return []int64{it.Originator}
		}
		return nil
	})
	slots = []viewerSlot{{nisc, true}, {ministry, true}, {secretariat, true}, {operator, true}, {operator, false}}
	var rest []viewerSlot
	for _, id := range ids {
		for _, ntk := range []bool{false, true} {
			if s := (viewerSlot{id, ntk}); !slices.Contains(slots, s) {
				rest = append(rest, s)
			}
		}
	}
	n := httpSampleSize - 1 - len(slots) // the anonymous visitor is the first
	if os.Getenv("KYOYU_ADVERSARIAL_FULL") == "1" {
		n = len(rest)
	}
	for _, i := range r.Perm(len(rest))[:min(n, len(rest))] {
		slots = append(slots, rest[i])
	}
	return nisc, operator, slots
}

// roleFor is what a person of o usually does; the role decides actions and
// the audit log's scope, never what a person sees of items.
func roleFor(o *kyoyu.Organisation) kyoyu.Role {
	switch {
	case o.Has(kyoyu.KindNISC):
		return kyoyu.RoleNISCAnalyst
	case o.Has(kyoyu.KindMinistry):
		return kyoyu.RoleMinistryLiaison
	case o.Has(kyoyu.KindCEPTOAR):
		return kyoyu.RoleCEPTOARSecretariat
	}
	return kyoyu.RoleOperatorReporter
}

// addPerson creates an account in org, gives it an API token and signs it in.
func (hw *httpWorld) addPerson(ctx context.Context, orgID int64, ntk bool, role kyoyu.Role, hash string) (*httpPerson, error) {
	org := hw.w.orgs[orgID]
	p := &kyoyu.Person{OrganisationID: orgID, Email: fmt.Sprintf("adv%d-%s-%d-%t@test.kyoyu.jp", len(hw.people), role, orgID, ntk),
		Name: fmt.Sprintf("検証職員%d", orgID), Role: role, HandlesIncidents: ntk, PasswordHash: hash}
	if err := hw.db.CreatePerson(ctx, kyoyu.Actor{IP: "test"}, p); err != nil {
		return nil, err
	}
	token, _, err := hw.accounts.CreateToken(ctx, kyoyu.Actor{Person: p, Organisation: org, IP: "test"}, p.ID, "adversarial")
	if err != nil {
		return nil, err
	}
	hp := &httpPerson{p: p, org: org, v: policy.ViewerOf(p, org), token: token}
	if err := hw.signIn(hp); err != nil {
		return nil, err
	}
	hw.people[p.ID] = hp
	return hp, nil
}

func (hw *httpWorld) person(v policy.Viewer) (*httpPerson, error) {
	if p := hw.people[v.PersonID]; p != nil && !v.Anonymous {
		return p, nil
	}
	return nil, fmt.Errorf("no account for viewer %+v", v)
}

func (hw *httpWorld) who(v policy.Viewer) string {
	s := describeViewer(v, hw.w.orgName(v.OrgID))
	if p := hw.people[v.PersonID]; p != nil && !v.Anonymous {
		s += " <" + p.p.Email + ">"
	}
	return s
}

func (hw *httpWorld) itemOf(caseID int64) (int64, error) {
	if id, ok := hw.itemOfCase[caseID]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("case %d is not one the test created", caseID)
}
