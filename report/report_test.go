package report_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/audit"
	"kyoyu/demo"
	"kyoyu/directory"
	"kyoyu/internal/testkit"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/store"
)

type world struct {
	db                                             *store.DB
	svc                                            *report.Service
	reporter, secretariat, liaison, analyst, other *account.Principal
}

func principal(t *testing.T, db *store.DB, email string) *account.Principal {
	t.Helper()
	ctx := context.Background()
	p, err := db.PersonByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	o, err := db.Organisation(ctx, p.OrganisationID)
	if err != nil {
		t.Fatal(err)
	}
	return &account.Principal{Person: p, Organisation: o}
}

func setup(t *testing.T, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	if err := directory.LoadBase(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, db, account.Argon2{Memory: 1024, Time: 1, Threads: 1}); err != nil {
		t.Fatal(err)
	}
	cfg := kyoyu.Config{}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, svc: report.New(db, cfg)}
	w.reporter = principal(t, db, "reporter@operator.demo.kyoyu.jp")
	w.secretariat = principal(t, db, "secretariat@ceptoar.demo.kyoyu.jp")
	w.liaison = principal(t, db, "liaison@meti.demo.kyoyu.jp")
	w.analyst = principal(t, db, "analyst@nisc.demo.kyoyu.jp")
	// An operator of another sector, who must never see AMBER electricity reports.
	gasOrg, err := db.OrganisationByCode(ctx, "demo_gas_1")
	if err != nil {
		t.Fatal(err)
	}
	p := &kyoyu.Person{OrganisationID: gasOrg.ID, Email: "staff@gas.example.jp", Name: "ガス 職員", Role: kyoyu.RoleOperatorReporter, HandlesIncidents: true, PasswordHash: "x"}
	if err := db.CreatePerson(ctx, kyoyu.Actor{}, p); err != nil {
		t.Fatal(err)
	}
	w.other = principal(t, db, p.Email)
	return w
}

func view(p *account.Principal) policy.Viewer { return policy.ViewerOf(p.Person, p.Organisation) }

func ptime(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func form(tlp string) kyoyu.ReportForm {
	return kyoyu.ReportForm{
		TLP: tlp, Importance: "warning", EventClass: "intrusion", Causes: []string{"suspicious_email", "vulnerability"},
		Sector: "electricity", DiscoveredAt: ptime("2026-11-20T09:30:00+09:00"), OccurredAt: ptime("2026-11-20T08:00:00+09:00"),
		AffectedSystem: "制御系ネットワークの監視サーバ",
		Description:    "東和電力の監視サーバに外部から侵入された形跡を確認した。担当 reporter@operator.demo.kyoyu.jp、電話 03-1234-5678。",
		SystemStatus:   "partial", Outlook: "investigating",
		Reporter: kyoyu.Contact{Organisation: "東和電力株式会社", Name: "東和 報告者", Phone: "03-1234-5678"},
		Timeline: []kyoyu.TimelineRow{{At: "11/20 08:00", Event: "不審な通信を検知"}, {At: "11/20 09:30", Event: "侵入を確認し遮断"}},
	}
}

func mustNotSee(t *testing.T, db *store.DB, p *account.Principal, caseID int64) {
	t.Helper()
	if _, _, err := db.Case(context.Background(), view(p), caseID); !errors.Is(err, kyoyu.ErrNotFound) {
		t.Fatalf("%s sees case %d (err %v)", p.Person.Email, caseID, err)
	}
}

// submitThrough runs a draft through every hop to NISC and returns the case number.
func (w *world) submitThrough(t *testing.T, draft *kyoyu.ReportVersion, hops ...*account.Principal) string {
	t.Helper()
	ctx := context.Background()
	ver, number, err := w.svc.Submit(ctx, nil2(w, draft), "192.0.2.1", draft.ID)
	if err != nil {
		t.Fatalf("submit %d: %v", draft.ID, err)
	}
	for _, hop := range hops {
		next, err := w.svc.TakeUp(ctx, hop, "192.0.2.2", ver.ID)
		if err != nil {
			t.Fatalf("%s takes up %d: %v", hop.Person.Email, ver.ID, err)
		}
		ver, number, err = w.svc.Submit(ctx, hop, "192.0.2.2", next.ID)
		if err != nil {
			t.Fatalf("%s submits %d: %v", hop.Person.Email, next.ID, err)
		}
	}
	return number
}

// nil2 finds the principal that owns a draft.
func nil2(w *world, v *kyoyu.ReportVersion) *account.Principal {
	for _, p := range []*account.Principal{w.reporter, w.secretariat, w.liaison, w.analyst, w.other} {
		if p.Organisation.ID == v.OrgID {
			return p
		}
	}
	return nil
}

func TestRouteOperatorMinistryNISC(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		c, draft, err := w.svc.Start(ctx, w.reporter, "192.0.2.1", report.StartInput{Route: kyoyu.RouteMinistry, Form: form("green")})
		if err != nil {
			t.Fatal(err)
		}
		// The draft is the operator's alone.
		for _, p := range []*account.Principal{w.liaison, w.analyst, w.secretariat, w.other} {
			mustNotSee(t, db, p, c.ID)
		}
		ver, number, err := w.svc.Submit(ctx, w.reporter, "192.0.2.1", draft.ID)
		if err != nil || number != "" {
			t.Fatalf("submit to ministry: %q %v", number, err)
		}
		inbox, err := db.Incoming(ctx, view(w.liaison))
		if err != nil || len(inbox) != 1 || inbox[0].Version.ID != ver.ID {
			t.Fatalf("ministry inbox: %+v %v", inbox, err)
		}
		mustNotSee(t, db, w.analyst, c.ID) // not yet sent to NISC
		// The ministry narrows the range to AMBER and forwards.
		mine, err := w.svc.TakeUp(ctx, w.liaison, "192.0.2.2", ver.ID)
		if err != nil {
			t.Fatal(err)
		}
		f := mine.Form
		f.TLP = "amber"
		f.Supplementary = "所管省庁にて確認済み"
		if _, err := w.svc.SaveDraft(ctx, w.liaison, "192.0.2.2", mine.ID, f); err != nil {
			t.Fatal(err)
		}
		_, number, err = w.svc.Submit(ctx, w.liaison, "192.0.2.2", mine.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("JP-%d-00001", time.Now().In(kyoyu.JST).Year()); number != want {
			t.Errorf("case number %q, want %q", number, want)
		}
		got, _, err := db.Case(ctx, view(w.analyst), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.CaseNumber != number || got.TLP != "amber" || got.Status != kyoyu.CaseAtNISC || got.ReportCount != 1 || got.EventClass != "intrusion" {
			t.Errorf("NISC sees %+v", got)
		}
		// NISC sees the ministry's version only, not the operator's submission.
		vers, _ := db.Versions(ctx, view(w.analyst), c.ID)
		if len(vers) != 1 || vers[0].Stage != kyoyu.StageMinistry {
			t.Errorf("NISC sees versions %+v", vers)
		}
		// AMBER electricity: a gas operator does not see it.
		mustNotSee(t, db, w.other, c.ID)
		// Originator and ministry were notified; nobody else.
		for _, p := range []*account.Principal{w.reporter, w.liaison} {
			ns, _ := db.Notifications(ctx, view(p), 10)
			if !slices.ContainsFunc(ns, func(n store.Notification) bool { return n.Kind == "notify.case_received" }) {
				t.Errorf("%s was not told of the case number: %+v", p.Person.Email, ns)
			}
		}
		// Follow-up: 第2報 keeps the number; the operator sees the diff of its own versions.
		fu, err := w.svc.FollowUp(ctx, w.reporter, "192.0.2.1", c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if fu.ReportNumber != 2 {
			t.Errorf("follow-up is report %d", fu.ReportNumber)
		}
		f2 := fu.Form
		f2.Outlook, f2.SystemStatus = "completed", "recovered"
		if _, err := w.svc.SaveDraft(ctx, w.reporter, "192.0.2.1", fu.ID, f2); err != nil {
			t.Fatal(err)
		}
		fu.Form = f2
		if n := w.submitThrough(t, fu, w.liaison); n != number {
			t.Errorf("follow-up numbered %q, want %q", n, number)
		}
		got, _, _ = db.Case(ctx, view(w.analyst), c.ID)
		if got.ReportCount != 2 || got.Outlook != "completed" || got.FollowUpDue != nil {
			t.Errorf("after 第2報: %+v", got)
		}
		all, _ := db.Versions(ctx, view(w.reporter), c.ID)
		if len(all) < 4 {
			t.Fatalf("operator sees %d versions", len(all))
		}
		changes := report.Diff(all[0].Form, all[len(all)-1].Form)
		if !slices.ContainsFunc(changes, func(ch report.Change) bool { return ch.Field == "outlook" && ch.New == "completed" }) {
			t.Errorf("diff %+v", changes)
		}
	})
}

func TestRouteViaCEPTOARAnonymises(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		c, draft, err := w.svc.Start(ctx, w.reporter, "192.0.2.1", report.StartInput{Route: kyoyu.RouteCEPTOAR, Form: form("green")})
		if err != nil {
			t.Fatal(err)
		}
		ver, _, err := w.svc.Submit(ctx, w.reporter, "192.0.2.1", draft.ID)
		if err != nil {
			t.Fatal(err)
		}
		mustNotSee(t, db, w.liaison, c.ID)
		anon, err := w.svc.TakeUp(ctx, w.secretariat, "192.0.2.3", ver.ID)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := w.svc.TakeUp(ctx, w.secretariat, "192.0.2.3", ver.ID); err != nil || again.ID != anon.ID {
			t.Fatalf("second take-up made %+v (%v), want the same draft %d", again, err, anon.ID)
		}
		if !strings.HasPrefix(anon.Form.OperatorName, "電力事業者") || strings.Contains(anon.Form.Description, "東和") ||
			strings.Contains(anon.Form.Description, "reporter@operator") {
			t.Fatalf("anonymised form: %q / %q", anon.Form.OperatorName, anon.Form.Description)
		}
		// Putting the name back is refused.
		leaky := anon.Form
		leaky.Lessons = "東和電力では今後…"
		if _, err := w.svc.SaveDraft(ctx, w.secretariat, "192.0.2.3", anon.ID, leaky); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.svc.Submit(ctx, w.secretariat, "192.0.2.3", anon.ID); kyoyu.ErrorCode(err) != kyoyu.EINVALID {
			t.Fatalf("leaky submission: %v", err)
		}
		if _, err := w.svc.SaveDraft(ctx, w.secretariat, "192.0.2.3", anon.ID, anon.Form); err != nil {
			t.Fatal(err)
		}
		anon.Form.Lessons = ""
		number := w.submitThrough(t, anon, w.liaison)
		if number == "" {
			t.Fatal("no case number")
		}
		label := anon.Form.OperatorName
		for _, p := range []*account.Principal{w.liaison, w.analyst} {
			got, d, err := db.Case(ctx, view(p), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Operator != label || got.OperatorOrgID != 0 || got.OriginatorOrgID != 0 || d.SeeSource {
				t.Errorf("%s sees operator %q (org %d, source %v)", p.Person.Email, got.Operator, got.OperatorOrgID, d.SeeSource)
			}
			vers, _ := db.Versions(ctx, view(p), c.ID)
			for _, v := range vers {
				if v.SourceOnly || strings.Contains(v.Form.Description+v.Form.OperatorName+v.Form.Reporter.Organisation, "東和") {
					t.Errorf("%s sees the source in version %d: %+v", p.Person.Email, v.ID, v.Form)
				}
			}
			page, err := db.ListCases(ctx, view(p), store.CaseFilter{Query: "東和"})
			if err != nil || page.Total != 0 {
				t.Errorf("%s finds the operator's name by search: %v %v", p.Person.Email, page, err)
			}
			page, err = db.ListCases(ctx, view(p), store.CaseFilter{Query: "侵入"})
			if err != nil || page.Total != 1 {
				t.Errorf("%s search 侵入: %+v %v", p.Person.Email, page, err)
			}
		}
		for _, p := range []*account.Principal{w.reporter, w.secretariat} {
			got, d, err := db.Case(ctx, view(p), c.ID)
			if err != nil || got.Operator != "東和電力株式会社" || !d.SeeSource {
				t.Errorf("%s should see the source: %+v %v", p.Person.Email, got, err)
			}
		}
	})
}

func TestRouteMinistryOriginates(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		f := form("red")
		c, draft, err := w.svc.Start(ctx, w.liaison, "192.0.2.2", report.StartInput{Route: kyoyu.RouteMinistryOrigin,
			OperatorName: "電話連絡のあった事業者", Channel: "phone", TakenBy: "経産 連絡官", Form: f})
		if err != nil {
			t.Fatal(err)
		}
		if _, number, err := w.svc.Submit(ctx, w.liaison, "192.0.2.2", draft.ID); err != nil || number == "" {
			t.Fatalf("ministry → NISC: %q %v", number, err)
		}
		got, _, err := db.Case(ctx, view(w.analyst), c.ID)
		if err != nil || got.Channel != "phone" || got.TakenBy != "経産 連絡官" || got.TLP != "red" {
			t.Fatalf("NISC sees %+v %v", got, err)
		}
		mustNotSee(t, db, w.reporter, c.ID) // RED: sender and receiver only
	})
}

func TestRefusals(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		f := form("green")
		f.OccurredAt = ptime("2026-11-20T10:00:00+09:00") // after discovery
		f.EventClass = "meteor_strike"
		_, draft, err := w.svc.Start(ctx, w.reporter, "192.0.2.1", report.StartInput{Route: kyoyu.RouteMinistry, Form: f})
		if err != nil {
			t.Fatal(err)
		}
		// The draft is kept as typed; the problems are reported.
		problems, err := w.svc.SaveDraft(ctx, w.reporter, "192.0.2.1", draft.ID, f)
		if err != nil || problems["occurred_at"] != "after_discovered" || problems["event_class"] != "invalid_choice" {
			t.Fatalf("problems %v %v", problems, err)
		}
		_, _, err = w.svc.Submit(ctx, w.reporter, "192.0.2.1", draft.ID)
		var ke *kyoyu.Error
		if !errors.As(err, &ke) || ke.Fields["occurred_at"] != "after_discovered" {
			t.Fatalf("submit: %v", err)
		}
		kept, err := db.Version(ctx, view(w.reporter), draft.ID)
		if err != nil || kept.Form.EventClass != "meteor_strike" || kept.Status != kyoyu.VersionDraft {
			t.Fatalf("draft lost: %+v %v", kept, err)
		}
		// Far future and oversize.
		f = form("green")
		f.DiscoveredAt = ptime("2099-01-01T00:00:00+09:00")
		_, _ = w.svc.SaveDraft(ctx, w.reporter, "192.0.2.1", draft.ID, f)
		if _, _, err := w.svc.Submit(ctx, w.reporter, "192.0.2.1", draft.ID); !errors.As(err, &ke) || ke.Fields["discovered_at"] != "in_future" {
			t.Fatalf("future date: %v", err)
		}
		f.Description = strings.Repeat("長", 20001)
		if _, err := w.svc.SaveDraft(ctx, w.reporter, "192.0.2.1", draft.ID, f); !errors.As(err, &ke) || ke.Fields["description"] != "too_long" {
			t.Fatalf("oversize: %v", err)
		}
		// A forwarder may narrow but not widen.
		ok := form("amber")
		_, _ = w.svc.SaveDraft(ctx, w.reporter, "192.0.2.1", draft.ID, ok)
		ver, _, err := w.svc.Submit(ctx, w.reporter, "192.0.2.1", draft.ID)
		if err != nil {
			t.Fatal(err)
		}
		mine, _ := w.svc.TakeUp(ctx, w.liaison, "192.0.2.2", ver.ID)
		wide := mine.Form
		wide.TLP = "white"
		_, _ = w.svc.SaveDraft(ctx, w.liaison, "192.0.2.2", mine.ID, wide)
		if _, _, err := w.svc.Submit(ctx, w.liaison, "192.0.2.2", mine.ID); !errors.As(err, &ke) || ke.Fields["tlp"] != "widens" {
			t.Fatalf("widening: %v", err)
		}
		// Others cannot touch the draft or take up what is not theirs.
		if _, err := w.svc.SaveDraft(ctx, w.other, "192.0.2.9", mine.ID, wide); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("foreign draft save: %v", err)
		}
		if _, err := w.svc.TakeUp(ctx, w.analyst, "192.0.2.9", ver.ID); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("foreign take-up: %v", err)
		}
	})
}

// TestNumberingUnderConcurrency releases 200 first reports at once through
// two connection pools on one database (two servers) and expects the
// numbers 1…200 of the year, each once.
func TestNumberingUnderConcurrency(t *testing.T) {
	for _, d := range testkit.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			url := testkit.NewDatabaseURL(t, d)
			var pools []*store.DB
			for range 2 {
				db, err := store.Open(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				if _, err := db.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				pools = append(pools, db)
			}
			w := setup(t, pools[0])
			cfg := kyoyu.Config{}
			_ = cfg.Validate()
			svcs := []*report.Service{w.svc, report.New(pools[1], cfg)}
			var drafts []int64
			for range 200 {
				_, d, err := w.svc.Start(ctx, w.liaison, "192.0.2.2", report.StartInput{Route: kyoyu.RouteMinistryOrigin, OperatorName: "事業者", Form: form("green")})
				if err != nil {
					t.Fatal(err)
				}
				drafts = append(drafts, d.ID)
			}
			numbers := make([]string, len(drafts))
			var wg sync.WaitGroup
			errs := make(chan error, len(drafts))
			for i, id := range drafts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, n, err := svcs[i%2].Submit(ctx, w.liaison, "192.0.2.2", id)
					numbers[i] = n
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			year := time.Now().In(kyoyu.JST).Year()
			slices.Sort(numbers)
			for i, n := range numbers {
				if want := fmt.Sprintf("JP-%d-%05d", year, i+1); n != want {
					t.Fatalf("number %d is %q, want %q (gap or duplicate)", i, n, want)
				}
			}
		})
	}
}

func TestReadsOfRedAndAmberAreAudited(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		for _, tlp := range []string{"amber", "green"} {
			c, draft, err := w.svc.Start(ctx, w.liaison, "192.0.2.2", report.StartInput{Route: kyoyu.RouteMinistryOrigin, OperatorName: "事業者", Form: form(tlp)})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := w.svc.Submit(ctx, w.liaison, "192.0.2.2", draft.ID); err != nil {
				t.Fatal(err)
			}
			if _, _, err := w.svc.Open(ctx, w.analyst, "198.51.100.7", c.ID); err != nil {
				t.Fatal(err)
			}
			entries, _ := db.AuditEntries(ctx, store.AuditFilter{Action: "case.read", PersonID: w.analyst.Person.ID})
			found := slices.ContainsFunc(entries, func(e audit.Entry) bool { return e.ObjectID == fmt.Sprint(c.ID) && e.IP == "198.51.100.7" })
			if found != (tlp == "amber") {
				t.Errorf("%s read audited: %v (%+v)", tlp, found, entries)
			}
		}
		// A case one may not see is not found, and its refusal reveals nothing.
		if _, _, err := w.svc.Open(ctx, w.other, "198.51.100.8", 999999); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Errorf("missing case: %v", err)
		}
	})
}

// An attachment whose file name names the operator may not go up from the
// secretariat, however well the form is anonymised.
func TestAttachmentNamesAreCheckedForLeaks(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		_, draft, err := w.svc.Start(ctx, w.reporter, "192.0.2.1", report.StartInput{Route: kyoyu.RouteCEPTOAR, Form: form("green")})
		if err != nil {
			t.Fatal(err)
		}
		att, err := w.svc.AddAttachment(ctx, w.reporter, "192.0.2.1", draft.ID, report.Upload{Filename: "東和電力_報道発表.txt", ContentType: "text/plain", Data: []byte("報道発表")})
		if err != nil {
			t.Fatal(err)
		}
		ver, _, err := w.svc.Submit(ctx, w.reporter, "192.0.2.1", draft.ID)
		if err != nil {
			t.Fatal(err)
		}
		anon, err := w.svc.TakeUp(ctx, w.secretariat, "192.0.2.3", ver.ID)
		if err != nil {
			t.Fatal(err)
		}
		carried, err := w.svc.CarryAttachment(ctx, w.secretariat, "192.0.2.3", anon.ID, att.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = w.svc.Submit(ctx, w.secretariat, "192.0.2.3", anon.ID)
		var ke *kyoyu.Error
		if !errors.As(err, &ke) || ke.Fields["attachments"] != "identifies_source" {
			t.Fatalf("leaky file name: %v", err)
		}
		if err := w.svc.DeleteAttachment(ctx, w.secretariat, "192.0.2.3", anon.ID, carried.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.svc.Submit(ctx, w.secretariat, "192.0.2.3", anon.ID); err != nil {
			t.Fatalf("after removing the attachment: %v", err)
		}
	})
}

// A report that promises more and is not followed in time makes the case
// overdue for NISC and reminds the originator and the ministry, once.
func TestOverdueFollowUpReminds(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		c, draft, err := w.svc.Start(ctx, w.reporter, "192.0.2.1", report.StartInput{Route: kyoyu.RouteMinistry, Form: form("amber")})
		if err != nil {
			t.Fatal(err)
		}
		w.submitThrough(t, draft, w.liaison)
		if n, err := w.svc.RemindOverdue(ctx); err != nil || n != 0 {
			t.Fatalf("reminded %d too early (%v)", n, err)
		}
		real := db.Now
		db.Now = func() time.Time { return real().Add(w.svc.Cfg.FollowUpWait + time.Hour) }
		defer func() { db.Now = real }()
		page, err := db.ListCases(ctx, view(w.analyst), store.CaseFilter{Overdue: true})
		if err != nil || page.Total != 1 || !page.Cases[0].Overdue {
			t.Fatalf("NISC's overdue list: %+v %v", page, err)
		}
		if n, err := w.svc.RemindOverdue(ctx); err != nil || n != 1 {
			t.Fatalf("reminded %d cases (%v), want 1", n, err)
		}
		if n, _ := w.svc.RemindOverdue(ctx); n != 0 {
			t.Errorf("reminded again: %d", n)
		}
		for _, p := range []*account.Principal{w.reporter, w.liaison} {
			ns, _ := db.Notifications(ctx, view(p), 10)
			if !slices.ContainsFunc(ns, func(n store.Notification) bool {
				return n.Kind == "notify.follow_up_overdue" && n.Link == fmt.Sprintf("/cases/%d", c.ID)
			}) {
				t.Errorf("%s not reminded: %+v", p.Person.Email, ns)
			}
		}
		// Nobody outside the range is told.
		if ns, _ := db.Notifications(ctx, view(w.other), 10); len(ns) != 0 {
			t.Errorf("an outsider was notified: %+v", ns)
		}
	})
}
