package web_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/demo"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/store"
)

// caseWorld is the site with the reporting service beside it: tests write
// and send reports through the service, and read them through the pages.
type caseWorld struct {
	*site
	svc                                     *report.Service
	reporter, secretariat, liaison, analyst *account.Principal
	gas                                     *account.Principal // an operator of another sector and organisation
}

const gasStaff = "staff@gas.example.jp"

func newCaseWorld(t *testing.T, db *store.DB) *caseWorld {
	t.Helper()
	s := newSite(t, db)
	cfg := kyoyu.Config{}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w := &caseWorld{site: s, svc: report.New(db, cfg)}
	ctx := context.Background()
	gasOrg, err := db.OrganisationByCode(ctx, "demo_gas_1")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := account.Argon2{Memory: 1024, Time: 1, Threads: 1}.HashPassword(demo.Password)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreatePerson(ctx, kyoyu.Actor{}, &kyoyu.Person{OrganisationID: gasOrg.ID, Email: gasStaff, Name: "ガス 職員",
		Role: kyoyu.RoleOperatorReporter, HandlesIncidents: true, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	w.reporter, w.secretariat, w.liaison, w.analyst = w.principal(reporter), w.principal(secretariat), w.principal(liaison), w.principal(analyst)
	w.gas = w.principal(gasStaff)
	return w
}

func (w *caseWorld) principal(email string) *account.Principal {
	w.t.Helper()
	p := w.person(email)
	o, err := w.db.Organisation(context.Background(), p.OrganisationID)
	if err != nil {
		w.t.Fatal(err)
	}
	return &account.Principal{Person: p, Organisation: o}
}

// caseSpec is what a test report says.
type caseSpec struct {
	tlp, importance, event, sector, description, outlook string
	causes                                               []string
}

func (w *caseWorld) form(c caseSpec) kyoyu.ReportForm {
	now := w.db.Now()
	discovered, occurred := now.Add(-2*time.Hour), now.Add(-3*time.Hour)
	return kyoyu.ReportForm{
		TLP: c.tlp, Importance: c.importance, EventClass: c.event, Causes: c.causes, Sector: c.sector,
		DiscoveredAt: &discovered, OccurredAt: &occurred, AffectedSystem: "監視サーバ", Description: c.description,
		SystemStatus: "partial", Outlook: c.outlook, Press: "none",
		Timeline: []kyoyu.TimelineRow{{At: "08:00", Event: "不審な通信を検知"}, {At: "09:30", Event: "通信を遮断"}},
	}
}

// through submits a draft and has each hop take it up and send it on;
// it returns the case number once NISC has it.
func (w *caseWorld) through(owner *account.Principal, draft *kyoyu.ReportVersion, hops ...*account.Principal) string {
	w.t.Helper()
	ctx := context.Background()
	ver, number, err := w.svc.Submit(ctx, owner, "192.0.2.1", draft.ID)
	if err != nil {
		w.t.Fatalf("submit %d: %v", draft.ID, err)
	}
	for _, hop := range hops {
		next, err := w.svc.TakeUp(ctx, hop, "192.0.2.2", ver.ID)
		if err != nil {
			w.t.Fatalf("%s takes up %d: %v", hop.Person.Email, ver.ID, err)
		}
		if ver, number, err = w.svc.Submit(ctx, hop, "192.0.2.2", next.ID); err != nil {
			w.t.Fatalf("%s submits %d: %v", hop.Person.Email, next.ID, err)
		}
	}
	return number
}

// ministryCase is a report the ministry writes itself and sends to NISC.
func (w *caseWorld) ministryCase(c caseSpec) (int64, string) {
	w.t.Helper()
	f := w.form(c)
	f.Reporter = kyoyu.Contact{Organisation: "経済産業省", Name: "経産 連絡官", Phone: "03-0000-0000"}
	cs, draft, err := w.svc.Start(context.Background(), w.liaison, "192.0.2.2", report.StartInput{Route: kyoyu.RouteMinistryOrigin,
		OperatorName: "電話連絡のあった事業者", Channel: "phone", TakenBy: "経産 連絡官", Form: f})
	if err != nil {
		w.t.Fatal(err)
	}
	return cs.ID, w.through(w.liaison, draft)
}

// operatorCase is 東和電力's report along a route, sent all the way to NISC.
func (w *caseWorld) operatorCase(route kyoyu.Route, c caseSpec) (int64, string) {
	w.t.Helper()
	f := w.form(c)
	f.Description = "東和電力の" + f.Description + " 担当 reporter@operator.demo.kyoyu.jp、電話 03-1234-5678。"
	f.Reporter = kyoyu.Contact{Organisation: "東和電力株式会社", Name: "東和 報告者", Phone: "03-1234-5678"}
	cs, draft, err := w.svc.Start(context.Background(), w.reporter, "192.0.2.1", report.StartInput{Route: route, Form: f})
	if err != nil {
		w.t.Fatal(err)
	}
	hops := []*account.Principal{w.liaison}
	if route == kyoyu.RouteCEPTOAR {
		hops = []*account.Principal{w.secretariat, w.liaison}
	}
	return cs.ID, w.through(w.reporter, draft, hops...)
}

// followUp sends the originator's next report along the same hops.
func (w *caseWorld) followUp(owner *account.Principal, caseID int64, edit func(*kyoyu.ReportForm), hops ...*account.Principal) {
	w.t.Helper()
	ctx := context.Background()
	draft, err := w.svc.FollowUp(ctx, owner, "192.0.2.1", caseID)
	if err != nil {
		w.t.Fatal(err)
	}
	f := draft.Form
	edit(&f)
	if _, err := w.svc.SaveDraft(ctx, owner, "192.0.2.1", draft.ID, f); err != nil {
		w.t.Fatal(err)
	}
	w.through(owner, draft, hops...)
}

// versions lists the IDs of a case's versions as p may see them.
func (w *caseWorld) versions(p *account.Principal, caseID int64) []int64 {
	w.t.Helper()
	vers, err := w.svc.DB.Versions(context.Background(), policy.ViewerOf(p.Person, p.Organisation), caseID)
	if err != nil {
		w.t.Fatal(err)
	}
	var ids []int64
	for _, v := range vers {
		ids = append(ids, v.ID)
	}
	return ids
}

var caseRowID = regexp.MustCompile(`<tr id="case-(\d+)"`)

// listed returns the cases a list page shows, in order.
func listed(a answer) []int64 {
	var out []int64
	for _, m := range caseRowID.FindAllStringSubmatch(a.body, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		out = append(out, id)
	}
	return out
}

func sameCases(t *testing.T, what string, got []int64, want ...int64) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s lists %v, want %v", what, got, want)
	}
}

var (
	footer   = regexp.MustCompile(`(?s)<footer>.*</footer>`)
	nextPath = regexp.MustCompile(`next=[^"]*`)
)

// sameAsMissing requires a refused page to answer exactly like a page
// about something that does not exist: same status, same body (but for
// the path in the language link and the clock in the footer).
func sameAsMissing(t *testing.T, b *browser, hidden, missing string) {
	t.Helper()
	h, m := b.get(hidden), b.get(missing)
	norm := func(s string) string { return nextPath.ReplaceAllString(footer.ReplaceAllString(s, ""), "next=") }
	if h.status != http.StatusNotFound || m.status != http.StatusNotFound {
		t.Fatalf("%s → %d, %s → %d; want 404 for both", hidden, h.status, missing, m.status)
	}
	if norm(h.body) != norm(m.body) {
		t.Fatalf("%s answers unlike a missing page:\n%s\n---\n%s", hidden, h.body, m.body)
	}
}

func caseURL(id int64, rest ...string) string {
	return fmt.Sprintf("/cases/%d", id) + strings.Join(rest, "")
}
