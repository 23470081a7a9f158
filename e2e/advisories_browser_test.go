package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/internal/testkit"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/store"
)

// The advisory flow (情報提供) walked in a real browser, each person in a
// browser of their own: NISC drafts from a case and publishes to a
// ministry, which passes it to every CEPTOAR of its sectors in one action;
// the secretariat passes it to its members; an operator acknowledges and
// answers; the ministry asks and NISC replies; NISC reads the
// confirmation rates; an e-mail's acknowledgement link works once.
func TestBrowserAdvisoryCascade(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ts := demoServer(t, db)
		ctx := context.Background()
		caseID, number := advisorySourceCase(t, db)
		meti := principalFor(t, db, demoLiaison).Organisation
		reporterOrg := principalFor(t, db, demoReporter).Organisation

		// NISC drafts from the case. The source's name in the summary is
		// marked and blocks publishing until it is gone; an address must be
		// ticked as checked.
		analyst := signInBrowser(t, ts.URL, demoAnalyst)
		analyst.open(fmt.Sprintf("/cases/%d", caseID), "case-page")
		analyst.submit("#advise-from-case", "advisory-new-page")
		analyst.expect("#new-sources", number)
		analyst.typeInto("new-title", "VPN装置の脆弱性に関する注意喚起")
		analyst.submit("#new-submit", "draft-form")
		analyst.choose("reason", "vulnerability")
		analyst.choose("importance", "advisory")
		analyst.choose("recipients", fmt.Sprintf("%d:electricity", meti.ID))
		analyst.typeInto("f-summary", "東和電力株式会社でVPN装置の脆弱性を突いた侵入があった。連絡先 soc@example.jp")
		analyst.typeInto("f-targets", "リモート保守用のVPN装置")
		analyst.typeInto("f-actions", "最新の修正を適用し、認証ログを確認すること。")
		analyst.submit("#draft-publish", "summary-error")
		analyst.expect("#summary-error", "情報源の提供元を特定できる記載があります")
		analyst.expect("mark.source", "東和電力株式会社")
		analyst.screenshot("draft-blocked")
		if as, _ := db.ListAdvisories(ctx, viewerFor(t, db, demoLiaison), 10); len(as) != 0 {
			t.Fatal("a refused advisory reached the ministry")
		}
		analyst.set("f-summary", "電力分野の事業者でVPN装置の脆弱性を突いた侵入があった。連絡先 soc@example.jp")
		analyst.submit("#draft-publish", "summary-error")
		analyst.expect("#summary-error", "確認していない記載")
		analyst.do("tick the address as checked", chromedp.Click(chromedp.CSS(`input[name="resolved"][value="soc@example.jp"]`)))
		analyst.submit("#draft-publish", "advisory-page")
		analyst.expect(".flash", "情報提供を発出しました")
		advNumber := analyst.text("#advisory-number")
		if !regexp.MustCompile(`^T\d{4}-0001$`).MatchString(advNumber) {
			t.Errorf("advisory number %q", advNumber)
		}
		analyst.noTowa("the published advisory")
		path := analyst.advisoryPath()

		// The ministry passes it to every CEPTOAR of its sectors in one action.
		liaison := signInBrowser(t, ts.URL, demoLiaison)
		liaison.open("/advisories", "advisories-page")
		liaison.submit(fmt.Sprintf(`a[href=%q]`, path), "advisory-page")
		liaison.expect("#advisory-number", advNumber)
		liaison.submit("#forward-ceptoars", "advisory-page")
		liaison.expect(".flash", "情報提供を展開しました")

		// The secretariat passes it to its members.
		secretariat := signInBrowser(t, ts.URL, demoSecretariat)
		secretariat.open(path, "advisory-page")
		secretariat.submit("#forward-members", "advisory-page")
		secretariat.expect(".flash", "情報提供を展開しました")

		// An operator acknowledges with one click and answers.
		reporter := signInBrowser(t, ts.URL, demoReporter)
		reporter.open(path, "advisory-page")
		reporter.expect("#advisory-title", "VPN装置の脆弱性に関する注意喚起")
		reporter.submit("#ack", "acked")
		reporter.expect(".flash", "受領を確認しました")
		reporter.choose("answer", "seen_here")
		reporter.typeInto("feedback-comment", "当社でも同様の通信を確認")
		reporter.submit("#feedback-submit", "advisory-page")
		if n := browserGet(reporter, "flash", chromedp.Evaluate[int](`document.querySelectorAll(".flash").length`)); n != 1 {
			t.Errorf("no confirmation after the feedback\n%s", reporter.where())
		}
		if !strings.Contains(reporter.body(), "VPN装置") {
			t.Errorf("operator's page lost the advisory\n%s", reporter.where())
		}

		// The ministry asks; NISC replies; the ministry reads the reply.
		liaison.open(path, "advisory-page")
		liaison.typeInto("ask-body", "対象機種を教えてください。")
		liaison.submit("#ask", "advisory-page")
		liaison.expect(".flash", "問合せを送信しました")
		analyst.open(path, "advisory-page")
		analyst.expect(fmt.Sprintf("#thread-%d", meti.ID), "対象機種を教えてください。")
		analyst.typeInto(fmt.Sprintf("reply-%d", meti.ID), "型番は別途連絡します。")
		analyst.submit(fmt.Sprintf("#reply-form-%d button", meti.ID), "advisory-page")
		analyst.expect(".flash", "回答を送信しました")
		liaison.open(path, "advisory-page")
		liaison.expect("#inquiries", "対象機種を教えてください。", "型番は別途連絡します。")

		// The acknowledgement link of an e-mail, as the outbox would send it
		// (read from the jobs it queued): one person opens it without
		// signing in; a second copy of the page, opened before, is a replay.
		link, linkOrg := ackLinkOutside(t, db, path, reporterOrg.ID)
		first := startBrowser(t, ts.URL, "e-mail reader")
		first.open(link, "ack-link-confirm")
		if b := first.body(); strings.Contains(b, "VPN") || strings.Contains(b, "注意喚起") {
			t.Errorf("the link page shows the advisory's content:\n%s", b)
		}
		replay := startBrowser(t, ts.URL, "replayed e-mail link")
		replay.open(link, "ack-link-form")
		first.submit("#ack-link-submit", "ack-link-done")
		replay.submit("#ack-link-submit", "ack-link-used")
		first.open(link, "ack-link-used")
		d, err := db.DeliveryTo(ctx, advisoryID(t, path), linkOrg)
		if err != nil || d.AcknowledgedAt == nil || d.AckVia != "email" {
			t.Fatalf("delivery acknowledged by the link: %+v %v", d, err)
		}

		// NISC reads the confirmation rate per stage and who is silent.
		analyst.open(path, "advisory-page")
		analyst.submit("#delivery-link", "stages")
		ds, err := db.Deliveries(ctx, advisoryID(t, path))
		if err != nil {
			t.Fatal(err)
		}
		silent := map[string][]string{}
		for _, stage := range []string{"ministry", "ceptoar", "operator"} {
			delivered, acked := 0, 0
			for _, d := range ds {
				if d.Stage != stage {
					continue
				}
				delivered++
				if d.AcknowledgedAt != nil {
					acked++
				} else {
					silent[stage] = append(silent[stage], d.OrgName)
				}
			}
			if delivered == 0 {
				t.Fatalf("no %s delivery", stage)
			}
			analyst.expect(fmt.Sprintf("#stage-%s-delivered", stage), strconv.Itoa(delivered))
			analyst.expect(fmt.Sprintf("#stage-%s-acknowledged", stage), strconv.Itoa(acked))
			analyst.expect(fmt.Sprintf("#stage-%s-rate", stage), fmt.Sprintf("%d%%", acked*100/delivered))
			if len(silent[stage]) > 0 {
				analyst.expect("#silent-"+stage, silent[stage]...)
			}
		}
		analyst.expect("#silent-ministry", meti.NameJA)
		analyst.expect("#feedback-answers", "当社でも同様の通信を確認")
		analyst.screenshot("delivery-dashboard")
	})
}

// advisorySourceCase is an operator's AMBER report, released by METI and
// numbered at NISC, whose text names the operator.
func advisorySourceCase(t *testing.T, db *store.DB) (int64, string) {
	t.Helper()
	ctx := context.Background()
	cfg := kyoyu.Config{}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	svc := report.New(db, cfg)
	reporter, liaison := principalFor(t, db, demoReporter), principalFor(t, db, demoLiaison)
	f := kyoyu.ReportForm{TLP: "amber", Importance: "advisory", EventClass: "intrusion", Causes: []string{"vulnerability"}, Sector: "electricity",
		Description: "東和電力株式会社のVPN装置の脆弱性を突いた侵入を確認した。", SystemStatus: "partial", Outlook: "investigating",
		Reporter: kyoyu.Contact{Organisation: "東和電力株式会社", Name: "東和 報告者", Phone: "03-0000-0001"}}
	c, draft, err := svc.Start(ctx, reporter, "192.0.2.1", report.StartInput{Route: kyoyu.RouteMinistry, Form: f})
	if err != nil {
		t.Fatal(err)
	}
	ver, _, err := svc.Submit(ctx, reporter, "192.0.2.1", draft.ID)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := svc.TakeUp(ctx, liaison, "192.0.2.2", ver.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, number, err := svc.Submit(ctx, liaison, "192.0.2.2", mine.ID)
	if err != nil || number == "" {
		t.Fatalf("release: %q %v", number, err)
	}
	return c.ID, number
}

func principalFor(t *testing.T, db *store.DB, email string) *account.Principal {
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

// advisoryPath is the address of the advisory the browser shows.
func (p *browserPerson) advisoryPath() string {
	p.t.Helper()
	m := regexp.MustCompile(`/advisories/\d+`).FindString(p.location())
	if m == "" {
		p.t.Fatalf("%s: not on an advisory page\n%s", p.who, p.where())
	}
	return m
}

func advisoryID(t *testing.T, path string) int64 {
	id, err := strconv.ParseInt(strings.TrimPrefix(path, "/advisories/"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// ackLinkOutside finds, among the e-mail jobs the outbox has queued, the
// acknowledgement link sent to someone of an organisation other than
// skipOrg that has not acknowledged the advisory: an operator if there is
// one, else any. It returns the link's path and the organisation.
func ackLinkOutside(t *testing.T, db *store.DB, path string, skipOrg int64) (string, int64) {
	t.Helper()
	ctx := context.Background()
	jobs, err := db.Jobs(ctx, store.JobFilter{Kind: store.JobEmail, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var link string
	var org int64
	for _, j := range jobs {
		var p store.EmailJob
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			t.Fatal(err)
		}
		n, err := db.Notification(ctx, p.NotificationID)
		if err != nil {
			t.Fatal(err)
		}
		if n.Kind != "notify.advisory_received" || !strings.HasPrefix(n.Link, "/ack/") {
			continue
		}
		person, err := db.Person(ctx, n.PersonID)
		if err != nil {
			t.Fatal(err)
		}
		if person.OrganisationID == skipOrg {
			continue
		}
		d, err := db.DeliveryTo(ctx, advisoryID(t, path), person.OrganisationID)
		if err != nil || d.AcknowledgedAt != nil {
			continue
		}
		if link == "" || d.Stage == "operator" {
			link, org = n.Link, person.OrganisationID
		}
		if d.Stage == "operator" {
			break
		}
	}
	if link == "" {
		t.Fatal("no acknowledgement link was queued for e-mail")
	}
	return link, org
}

func viewerFor(t *testing.T, db *store.DB, email string) policy.Viewer {
	t.Helper()
	pr := principalFor(t, db, email)
	return policy.ViewerOf(pr.Person, pr.Organisation)
}

// submit clicks what sel (CSS) names and waits for the page it leads to
// to show the element with id waitID — the next page, even when the one
// before showed such an element too (a form posted back to its own page).
func (p *browserPerson) submit(sel, waitID string) {
	p.t.Helper()
	p.do("mark the page", chromedp.Evaluate[chromedp.Void](`document.body.dataset.left = "1"`))
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
	// Polled from here: while the browser goes from one page to the
	// next, a script may find no page to run in; that is not an answer.
	check := jsCall(`function (id) {
		return document.readyState === "complete" && !!document.body && !document.body.dataset.left && document.getElementById(id) !== null;
	}`, waitID)
	deadline := time.Now().Add(browserStepTimeout)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](check))
		cancel()
		if err == nil && ok {
			break
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: no #%s after %s (%v)\n%s", p.who, waitID, sel, err, p.where())
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.do("#"+waitID+" shown", chromedp.WaitVisible(chromedp.ID(waitID)))
}
