package advisory_test

import (
	"context"
	"errors"
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
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/store"
)

type world struct {
	db                                      *store.DB
	reports                                 *report.Service
	svc                                     *advisory.Service
	reporter, secretariat, liaison, analyst *account.Principal
	gas                                     *account.Principal
	meti                                    int64
}

func principal(t *testing.T, db *store.DB, email string) *account.Principal {
	t.Helper()
	p, err := db.PersonByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	o, err := db.Organisation(context.Background(), p.OrganisationID)
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
	w := &world{db: db, reports: report.New(db, cfg), svc: advisory.New(db, cfg)}
	w.reporter = principal(t, db, "reporter@operator.demo.kyoyu.jp")
	w.secretariat = principal(t, db, "secretariat@ceptoar.demo.kyoyu.jp")
	w.liaison = principal(t, db, "liaison@meti.demo.kyoyu.jp")
	w.analyst = principal(t, db, "analyst@nisc.demo.kyoyu.jp")
	w.meti = w.liaison.Organisation.ID
	gasOrg, _ := db.OrganisationByCode(ctx, "demo_gas_1")
	p := &kyoyu.Person{OrganisationID: gasOrg.ID, Email: "staff@gas.example.jp", Name: "ガス 職員", Role: kyoyu.RoleOperatorReporter, HandlesIncidents: true, PasswordHash: "x"}
	if err := db.CreatePerson(ctx, kyoyu.Actor{}, p); err != nil {
		t.Fatal(err)
	}
	w.gas = principal(t, db, p.Email)
	return w
}

// sourceCase is 東和電力's AMBER report, narrowed by METI, at NISC.
func (w *world) sourceCase(t *testing.T) *kyoyu.Case {
	t.Helper()
	ctx := context.Background()
	f := kyoyu.ReportForm{TLP: "amber", EventClass: "intrusion", Sector: "electricity", Description: "VPN装置の脆弱性を突いた侵入を確認した。",
		Reporter: kyoyu.Contact{Organisation: "東和電力株式会社", Name: "東和 報告者", Phone: "03-0000-0001"}, Outlook: "completed"}
	c, d, err := w.reports.Start(ctx, w.reporter, "192.0.2.1", report.StartInput{Route: kyoyu.RouteMinistry, Form: f})
	if err != nil {
		t.Fatal(err)
	}
	ver, _, err := w.reports.Submit(ctx, w.reporter, "192.0.2.1", d.ID)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := w.reports.TakeUp(ctx, w.liaison, "192.0.2.2", ver.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.reports.Submit(ctx, w.liaison, "192.0.2.2", mine.ID); err != nil {
		t.Fatal(err)
	}
	got, _, err := w.db.Case(ctx, policy.ViewerOf(w.analyst.Person, w.analyst.Organisation), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func fields(err error) map[string]string {
	var ke *kyoyu.Error
	if errors.As(err, &ke) {
		return ke.Fields
	}
	return nil
}

func TestAdvisoryFromCaseThroughTheCascade(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		src := w.sourceCase(t)
		if _, err := w.svc.Draft(ctx, w.liaison, "x", kyoyu.AdvisoryForm{}); kyoyu.ErrorCode(err) != kyoyu.EFORBIDDEN {
			t.Fatalf("a ministry drafted an advisory: %v", err)
		}
		a, err := w.svc.Draft(ctx, w.analyst, "192.0.2.9", kyoyu.AdvisoryForm{SourceCases: []int64{src.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if a.Form.TLP != "amber" {
			t.Errorf("draft from an AMBER case starts at %s", a.Form.TLP)
		}
		f := a.Form
		f.Reason, f.Importance = kyoyu.ReasonVulnerability, "advisory"
		f.Recipients = []kyoyu.RecipientPair{{MinistryID: w.meti, Sector: "electricity"}}
		f.Title = "VPN装置の脆弱性に関する注意喚起"
		f.Summary = "東和電力株式会社でVPN装置の脆弱性を突いた侵入があった（" + src.CaseNumber + "）。連絡先 soc@example.jp"
		f.Actions = "最新の修正を適用すること。"
		f.TLP = "green"
		if err := w.svc.SaveDraft(ctx, w.analyst, "192.0.2.9", a.VersionID, f); err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.Publish(ctx, w.analyst, "192.0.2.9", a.VersionID)
		p := fields(err)
		if p["tlp"] != "wider_than_sources" || p["summary"] != "identifies_source" {
			t.Fatalf("publish refusals: %v", err)
		}
		f.TLP = "amber"
		f.Summary = "電力分野の事業者でVPN装置の脆弱性を突いた侵入があった。連絡先 soc@example.jp"
		_ = w.svc.SaveDraft(ctx, w.analyst, "192.0.2.9", a.VersionID, f)
		if _, err := w.svc.Publish(ctx, w.analyst, "192.0.2.9", a.VersionID); fields(err)["summary"] != "unresolved_highlight" {
			t.Fatalf("unresolved highlight: %v", err)
		}
		f.Resolved = []string{"soc@example.jp"}
		_ = w.svc.SaveDraft(ctx, w.analyst, "192.0.2.9", a.VersionID, f)
		number, err := w.svc.Publish(ctx, w.analyst, "192.0.2.9", a.VersionID)
		if err != nil {
			t.Fatalf("%v %v", err, fields(err))
		}
		if !strings.HasPrefix(number, "T") || !strings.HasSuffix(number, "-0001") {
			t.Errorf("advisory number %q", number)
		}
		// The ministry has it and an acknowledgement link; the gas operator does not.
		if _, err := w.svc.Open(ctx, w.liaison, "192.0.2.2", a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Open(ctx, w.gas, "192.0.2.8", a.ID); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("gas operator sees an AMBER electricity advisory: %v", err)
		}
		reads, _ := db.AuditEntries(ctx, store.AuditFilter{Action: "advisory.read", PersonID: w.liaison.Person.ID})
		if len(reads) != 1 || reads[0].IP != "192.0.2.2" {
			t.Errorf("the ministry's read of an AMBER advisory is not audited: %+v", reads)
		}
		ns, _ := db.Notifications(ctx, policy.ViewerOf(w.liaison.Person, w.liaison.Organisation), 10)
		i := slices.IndexFunc(ns, func(n store.Notification) bool { return n.Kind == "notify.advisory_received" })
		if i < 0 || !strings.HasPrefix(ns[i].Link, "/ack/") {
			t.Fatalf("ministry notification %+v", ns)
		}
		ministryLink := strings.TrimPrefix(ns[i].Link, "/ack/")

		// A forward may not widen.
		if _, err := w.svc.Forward(ctx, w.liaison, "192.0.2.2", a.ID, advisory.ForwardInput{AllCEPTOARs: true, TLP: "green"}); fields(err)["tlp"] != "widens" {
			t.Fatalf("widening forward: %v", err)
		}
		n, err := w.svc.Forward(ctx, w.liaison, "192.0.2.2", a.ID, advisory.ForwardInput{AllCEPTOARs: true})
		if err != nil || n != 1 {
			t.Fatalf("forward to CEPTOARs: %d %v", n, err)
		}
		n, err = w.svc.Forward(ctx, w.secretariat, "192.0.2.3", a.ID, advisory.ForwardInput{AllMembers: true})
		if err != nil || n < 3 {
			t.Fatalf("forward to members: %d %v", n, err)
		}
		// An operator cannot forward, and a gas operator is outside the range.
		if _, err := w.svc.Forward(ctx, w.reporter, "192.0.2.1", a.ID, advisory.ForwardInput{AllMembers: true}); kyoyu.ErrorCode(err) != kyoyu.EFORBIDDEN {
			t.Errorf("operator forwards: %v", err)
		}
		if _, err := w.svc.Forward(ctx, w.liaison, "192.0.2.2", a.ID, advisory.ForwardInput{Operators: []int64{w.gas.Organisation.ID}}); fields(err)["targets"] != "outside_range" {
			t.Errorf("forward outside the range: %v", err)
		}

		// Acknowledgements: one click, and the e-mail link — once only.
		if first, err := w.svc.Acknowledge(ctx, w.reporter, "192.0.2.1", a.ID); err != nil || !first {
			t.Fatalf("operator ack: %v %v", first, err)
		}
		if _, err := w.svc.AckByLink(ctx, ministryLink, "198.51.100.1"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.AckByLink(ctx, ministryLink, "198.51.100.1"); kyoyu.ErrorCode(err) != kyoyu.EINVALID {
			t.Errorf("replayed link: %v", err)
		}
		if _, err := w.svc.AckByLink(ctx, "forged-link-value-0123456789abcdef", "198.51.100.1"); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Errorf("forged link: %v", err)
		}
		rates, err := w.svc.Rates(ctx, w.analyst, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		byStage := map[string]advisory.StageRate{}
		for _, r := range rates {
			byStage[r.Stage] = r
		}
		if r := byStage["ministry"]; r.Delivered != 1 || r.Acknowledged != 1 || r.Rate != 1 {
			t.Errorf("ministry stage %+v", r)
		}
		if r := byStage["ceptoar"]; r.Delivered != 1 || r.Acknowledged != 0 || len(r.Silent) != 1 {
			t.Errorf("CEPTOAR stage %+v", r)
		}
		if r := byStage["operator"]; r.Acknowledged != 1 || r.Delivered < 3 {
			t.Errorf("operator stage %+v", r)
		}
		if _, err := w.svc.Rates(ctx, w.liaison, a.ID); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Errorf("a ministry reads the issuer's rates: %v", err)
		}
		// The silent are reminded once, after the wait.
		real := db.Now
		db.Now = func() time.Time { return real().Add(w.svc.Cfg.AckWait + time.Hour) }
		if n, err := w.svc.RemindSilent(ctx); err != nil || n == 0 {
			t.Fatalf("reminded %d (%v)", n, err)
		}
		if n, _ := w.svc.RemindSilent(ctx); n != 0 {
			t.Errorf("reminded twice: %d", n)
		}
		db.Now = real
		// The reminder carries a fresh acknowledgement link: one click
		// acknowledges the silent CEPTOAR's delivery, once.
		reminders, err := db.Notifications(ctx, policy.ViewerOf(w.secretariat.Person, w.secretariat.Organisation), 20)
		if err != nil {
			t.Fatal(err)
		}
		ackLink := ""
		for _, n := range reminders {
			if n.Kind == "notify.advisory_ack_reminder" {
				ackLink = n.Link
			}
		}
		nonce, ok := strings.CutPrefix(ackLink, "/ack/")
		if !ok {
			t.Fatalf("the secretariat's reminder links to %q", ackLink)
		}
		if _, err := w.svc.AckByLink(ctx, nonce, "192.0.2.3"); err != nil {
			t.Fatalf("acknowledging from the reminder: %v", err)
		}
		if _, err := w.svc.AckByLink(ctx, nonce, "192.0.2.3"); err == nil {
			t.Error("the reminder's link acknowledged twice")
		}
		rates, err = w.svc.Rates(ctx, w.analyst, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rates {
			if r.Stage == "ceptoar" && (r.Acknowledged != 1 || len(r.Silent) != 0) {
				t.Errorf("CEPTOAR stage after the reminder's link: %+v", r)
			}
		}

		// Inquiries: the ministry asks, NISC answers, nobody else reads it.
		if _, err := w.svc.Ask(ctx, w.liaison, "192.0.2.2", a.ID, "対象機種を教えてください。"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Ask(ctx, w.reporter, "192.0.2.1", a.ID, "質問"); kyoyu.ErrorCode(err) != kyoyu.EFORBIDDEN {
			t.Errorf("an operator asked: %v", err)
		}
		if _, err := w.svc.Reply(ctx, w.analyst, "192.0.2.9", a.ID, w.meti, "型番は別紙のとおりです。"); err != nil {
			t.Fatal(err)
		}
		if th, _ := w.svc.Threads(ctx, w.liaison, a.ID); len(th) != 2 {
			t.Errorf("ministry thread %+v", th)
		}
		if th, _ := w.svc.Threads(ctx, w.reporter, a.ID); len(th) != 0 {
			t.Errorf("operator reads the inquiry: %+v", th)
		}

		// Feedback: the issuer sees it all; the source's reporter the counts.
		if err := w.svc.GiveFeedback(ctx, w.reporter, "192.0.2.1", a.ID, "seen_here", "当社でも同様の通信を確認"); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.GiveFeedback(ctx, w.reporter, "192.0.2.1", a.ID, "bogus", ""); fields(err)["answer"] != "invalid_choice" {
			t.Errorf("bogus answer: %v", err)
		}
		if fv, err := w.svc.Feedback(ctx, w.analyst, a.ID); err != nil || len(fv.Answers) != 1 || fv.Counts["seen_here"] != 1 {
			t.Errorf("issuer feedback %+v %v", fv, err)
		}
		counts, err := w.svc.FeedbackForCase(ctx, w.reporter, src.ID)
		if err != nil || counts[a.ID]["seen_here"] != 1 {
			t.Errorf("reporter's anonymous counts %+v %v", counts, err)
		}
		if _, err := w.svc.Feedback(ctx, w.secretariat, a.ID); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Errorf("a secretariat reads the answers: %v", err)
		}
	})
}
