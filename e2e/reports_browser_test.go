package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kyoyu"
	"kyoyu/demo"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

// The reporting flow (情報連絡) walked in a real browser: each person signs
// in to a browser of their own, so no cookie or session is shared, and
// works only through the pages, as a person would.

const (
	demoReporter    = "reporter@operator.demo.kyoyu.jp"
	demoSecretariat = "secretariat@ceptoar.demo.kyoyu.jp"
	demoLiaison     = "liaison@meti.demo.kyoyu.jp"
	demoAnalyst     = "analyst@nisc.demo.kyoyu.jp"

	// personTimeout bounds everything one person does in a test.
	personTimeout = 90 * time.Second
	// browserStepTimeout bounds one step, so a missing element fails in seconds
	// with the page it was missing from, not at the end of personTimeout.
	browserStepTimeout = 20 * time.Second
)

// browserPerson is one signed-in person in their own browser.
type browserPerson struct {
	t    *testing.T
	who  string
	base string
	ctx  context.Context
}

// signInBrowser starts a fresh browser (own profile, own cookies), signs the
// demo account in and waits for the home page.
func signInBrowser(t *testing.T, base, email string) *browserPerson {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), // the network is closed
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", "ja"),
		chromedp.WindowSize(1280, 900), // a desk's screen, for the screenshots
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, personTimeout)
	t.Cleanup(cancel3)
	p := &browserPerson{t: t, who: email, base: base, ctx: ctx}
	signIn(t, ctx, base, email, demo.Password)
	p.do("home after sign-in", chromedp.WaitVisible(chromedp.ID("welcome")))
	return p
}

// where says which page the browser is on and what it shows, for failures.
func (p *browserPerson) where() string {
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if r := []rune(body); len(r) > 1500 {
		body = string(r[:1500]) + "…"
	}
	return "page " + loc + ":\n" + body
}

// staleNode is the browser's answer to a query that met a node it had just
// replaced, while a page that was navigated to settles. The step failed
// before it acted, so it is safe to try again.
const staleNode = "Could not find node with given id"

// runStep runs one action, again if it met a replaced node.
func runStep[T any](ctx context.Context, a chromedp.Action[T]) (T, error) {
	for try := 1; ; try++ {
		v, err := chromedp.Run(ctx, a)
		if err == nil || try == 3 || !strings.Contains(err.Error(), staleNode) {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// do runs steps in turn, each within browserStepTimeout, and stops the
// test if one fails.
func (p *browserPerson) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	for _, step := range steps {
		browserGet(p, what, step)
	}
}

// browserGet runs one action that returns a value.
func browserGet[T any](p *browserPerson, what string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	v, err := runStep(ctx, a)
	if err != nil {
		p.t.Fatalf("%s: %s: %v\n%s", p.who, what, err, p.where())
	}
	return v
}

// jsCall calls a function literal with Go values as its arguments.
func jsCall(fn string, args ...any) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		b, _ := json.Marshal(a)
		quoted[i] = string(b)
	}
	return "(" + fn + ")(" + strings.Join(quoted, ", ") + ")"
}

// open goes to a path and waits for an element of the page expected there.
func (p *browserPerson) open(path, id string) {
	p.t.Helper()
	p.do("open "+path, chromedp.Navigate(p.base+path), chromedp.WaitVisible(chromedp.ID(id)))
	p.loaded()
}

// loaded waits until the page has finished loading, so the next step
// does not meet nodes the browser is still replacing.
func (p *browserPerson) loaded() {
	p.t.Helper()
	browserGet(p, "page load", chromedp.Poll[bool](`document.readyState === "complete"`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(browserStepTimeout)))
}

// click clicks what sel (CSS) names and waits for the element with id
// waitID: on the same page, or on the one the click leads to.
func (p *browserPerson) click(sel, waitID string) {
	p.t.Helper()
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel)), chromedp.WaitVisible(chromedp.ID(waitID)))
	p.loaded()
}

// choose ticks a radio button or checkbox of the form by name and value.
func (p *browserPerson) choose(name, value string) {
	p.t.Helper()
	sel := fmt.Sprintf(`input[name=%q][value=%q]`, name, value)
	p.do("choose "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// chosen is the value of the checked radio button of a name.
func (p *browserPerson) chosen(name string) string {
	p.t.Helper()
	return browserGet(p, "checked "+name, chromedp.Evaluate[string](jsCall(`function (n) {
		const el = document.querySelector('input[name="' + n + '"]:checked');
		return el ? el.value : "";
	}`, name)))
}

// typeInto types text into a field with the keyboard.
func (p *browserPerson) typeInto(id, text string) {
	p.t.Helper()
	p.do("type into #"+id, chromedp.SendKeys(chromedp.ID(id), text))
}

// set gives a field a value as its picker would (a <select>, or a
// datetime-local, whose keyboard layout depends on the browser's locale),
// with the events a person's change fires, and checks the browser took it.
func (p *browserPerson) set(id, value string) {
	p.t.Helper()
	got := browserGet(p, "set #"+id, chromedp.Evaluate[string](jsCall(`function (id, v) {
		const el = document.getElementById(id);
		el.value = v;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return el.value;
	}`, id, value)))
	if got != value {
		p.t.Fatalf("%s: #%s took %q, not %q", p.who, id, got, value)
	}
}

// selectByText picks the option of a <select> whose text holds s.
func (p *browserPerson) selectByText(id, s string) {
	p.t.Helper()
	got := browserGet(p, "select in #"+id, chromedp.Evaluate[string](jsCall(`function (id, s) {
		const el = document.getElementById(id);
		const o = Array.from(el.options).find(o => o.text.includes(s));
		if (!o) return "";
		el.value = o.value;
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return o.text;
	}`, id, s)))
	if got == "" {
		p.t.Fatalf("%s: #%s has no option %q\n%s", p.who, id, s, p.where())
	}
}

// text is the visible text of the first element sel (CSS) names.
func (p *browserPerson) text(sel string) string {
	p.t.Helper()
	return browserGet(p, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// value is the value of a form field.
func (p *browserPerson) value(id string) string {
	p.t.Helper()
	return browserGet(p, "value of #"+id, chromedp.Value(chromedp.ID(id)))
}

// body is everything the page shows.
func (p *browserPerson) body() string {
	p.t.Helper()
	return browserGet(p, "page text", chromedp.Evaluate[string](`document.body.innerText`))
}

func (p *browserPerson) location() string {
	p.t.Helper()
	return browserGet(p, "location", chromedp.Location())
}

// caseID is the case the browser shows, from its address.
func (p *browserPerson) caseID() int64 {
	p.t.Helper()
	m := regexp.MustCompile(`/cases/(\d+)`).FindStringSubmatch(p.location())
	if m == nil {
		p.t.Fatalf("%s: not on a case page\n%s", p.who, p.where())
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// expect fails the test unless the text of sel holds every want.
func (p *browserPerson) expect(sel string, want ...string) {
	p.t.Helper()
	got := p.text(sel)
	for _, w := range want {
		if !strings.Contains(got, w) {
			p.t.Errorf("%s: %s shows %q, want %q in it", p.who, sel, got, w)
		}
	}
}

// screenshot saves the whole page as a PNG in the folder KYOYU_SCREENSHOTS
// names, for a person to look at. Without it, or if it fails, nothing is
// lost: the pictures are for people, not a check.
func (p *browserPerson) screenshot(name string) {
	dir := os.Getenv("KYOYU_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, browserStepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	file := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(p.t.Name())+"_"+name+".png")
	if err == nil {
		err = os.WriteFile(file, png, 0o644)
	}
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p.t.Logf("screenshot: %s", file)
}

// startReport opens a new report by a route (ministry or ceptoar) and
// returns the draft's path.
func (p *browserPerson) startReport(route string) string {
	p.t.Helper()
	p.open("/reports/new", "start-form")
	p.choose("route", route)
	p.click("#start", "draft-form")
	u, err := url.Parse(p.location())
	if err != nil || !strings.HasPrefix(u.Path, "/reports/drafts/") {
		p.t.Fatalf("%s: after starting a report: %v\n%s", p.who, err, p.where())
	}
	return u.Path
}

// figure4 is what the figure-4 form is filled with.
type figure4 struct {
	TLP, Outlook             string
	Discovered, Occurred     time.Time
	AffectedSystem, Describe string
}

// datetimeLocal is a time as a datetime-local input holds it: JST, to the minute.
func datetimeLocal(t time.Time) string { return t.In(kyoyu.JST).Format("2006-01-02T15:04") }

// fill fills the figure-4 form; the description is typed last, so the
// autosave that follows it holds everything.
func (p *browserPerson) fill(r figure4) {
	p.t.Helper()
	p.choose("tlp", r.TLP)
	p.choose("importance", "warning")
	p.choose("event_class", "intrusion") // システム等への侵入
	p.choose("causes", "suspicious_email")
	p.set("f-sector", "electricity")
	p.set("f-discovered_at", datetimeLocal(r.Discovered))
	p.set("f-occurred_at", datetimeLocal(r.Occurred))
	p.set("f-system_status", "partial")
	p.choose("outlook", r.Outlook)
	if r.AffectedSystem != "" {
		p.typeInto("f-affected_system", r.AffectedSystem)
	}
	p.typeInto("f-description", r.Describe)
}

// waitAutosaved waits until the form's script says the draft is saved on
// the server. The status line is cleared first, so only a save after the
// last keystroke counts.
func (p *browserPerson) waitAutosaved() {
	p.t.Helper()
	p.do("clear the autosave status", chromedp.Evaluate[chromedp.Void](`document.getElementById("autosave-status").textContent = ""`))
	ok := browserGet(p, "autosave", chromedp.Poll[bool](
		`document.getElementById("autosave-status").textContent.includes("下書きを保存しました")`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(browserStepTimeout)))
	if !ok {
		p.t.Fatalf("%s: autosave: %q", p.who, p.text("#autosave-status"))
	}
}

// takeUp takes up the incoming report whose row shows rowText and opens
// the organisation's own draft of it.
func (p *browserPerson) takeUp(rowText string) {
	p.t.Helper()
	p.open("/reports/incoming", "incoming")
	id := browserGet(p, "find incoming "+rowText, chromedp.Evaluate[string](jsCall(`function (s) {
		const row = Array.from(document.querySelectorAll("#incoming tbody tr")).find(tr => tr.innerText.includes(s));
		const b = row && row.querySelector("button");
		return b ? b.id : "";
	}`, rowText)))
	if id == "" {
		p.t.Fatalf("%s: no incoming report shows %q\n%s", p.who, rowText, p.where())
	}
	p.click("#"+id, "draft-form")
}

// submitDraft sends the open draft on and waits for the case page.
func (p *browserPerson) submitDraft() {
	p.t.Helper()
	p.click("#draft-submit", "case-page")
}

func nthCaseNumber(n int) string {
	return fmt.Sprintf("JP-%d-%05d", time.Now().In(kyoyu.JST).Year(), n)
}

// TestBrowserReportThroughMinistry: an operator reports to its ministry,
// which narrows the range and forwards to NISC; a follow-up goes the same
// way and NISC compares the two.
func TestBrowserReportThroughMinistry(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ts := demoServer(t, db)
		number := nthCaseNumber(1)
		now := time.Now()

		reporter := signInBrowser(t, ts.URL, demoReporter)
		draft := reporter.startReport("ministry")
		reporter.expect("#route", "直接所管省庁へ")
		description := "東和電力の監視サーバに外部から侵入された形跡を確認した。"
		r := figure4{TLP: "green", Outlook: "investigating", Discovered: now.Add(-2 * time.Hour), Occurred: now.Add(-3 * time.Hour),
			AffectedSystem: "制御系ネットワークの監視サーバ", Describe: description}
		reporter.fill(r)
		reporter.waitAutosaved()

		// A fresh load shows what the server holds, not what the browser kept.
		reporter.open(draft, "draft-form")
		if got := reporter.value("f-description"); got != description {
			t.Errorf("description after reload = %q, want %q", got, description)
		}
		if got := reporter.value("f-discovered_at"); got != datetimeLocal(r.Discovered) {
			t.Errorf("判明日時 after reload = %q, want %q", got, datetimeLocal(r.Discovered))
		}
		if got := reporter.chosen("outlook"); got != "investigating" {
			t.Errorf("outlook after reload = %q", got)
		}
		reporter.expect("#draft-submit", "所管省庁へ送信")
		reporter.submitDraft()
		caseID := reporter.caseID()
		reporter.expect(".flash", "送信しました")

		// The ministry narrows GREEN to AMBER and sends to NISC, which numbers the case.
		liaison := signInBrowser(t, ts.URL, demoLiaison)
		liaison.takeUp("第1報")
		liaison.do("the forwarder may only narrow", chromedp.WaitVisible(chromedp.ID("narrow-only")))
		if got := liaison.value("f-description"); got != description {
			t.Errorf("ministry's draft description = %q", got)
		}
		liaison.choose("tlp", "amber")
		liaison.expect("#draft-submit", "NISC へ送信")
		liaison.submitDraft()
		liaison.expect("#case-number", number)

		analyst := signInBrowser(t, ts.URL, demoAnalyst)
		analyst.open("/reports", "inbox-title")
		row := fmt.Sprintf("#case-%d", caseID)
		analyst.expect(row+" td:first-child", number)
		analyst.screenshot("nisc-inbox")
		analyst.click(row+" a", "case-page")
		analyst.expect("#case-number", number)
		analyst.expect("#case-tlp", "AMBER")
		analyst.expect("#case-status", "NISC")

		// 第2報: the operator completes the handling and recovers.
		reporter.open(fmt.Sprintf("/cases/%d", caseID), "case-page")
		reporter.expect("#follow-up", "続報を作成")
		reporter.click("#follow-up", "draft-form")
		reporter.expect("#report-number", "第2報")
		reporter.expect("#case-number", number)
		reporter.choose("outlook", "completed")
		reporter.set("f-system_status", "recovered")
		reporter.submitDraft()

		// The ministry's draft of 第2報 is a copy of the operator's, GREEN
		// again: the ministry narrows it as it did 第1報.
		liaison.takeUp("第2報")
		if got := liaison.chosen("outlook"); got != "completed" {
			t.Errorf("ministry's 第2報 outlook = %q", got)
		}
		liaison.choose("tlp", "amber")
		liaison.submitDraft()

		analyst.open(fmt.Sprintf("/cases/%d", caseID), "case-page")
		analyst.expect("#case-number", number, "第2報")
		// A follow-up never widens the case's range, whatever the form says.
		analyst.expect("#case-tlp", "AMBER")
		// The compare form proposes the two versions NISC has: the ministry's 第1報 and 第2報.
		analyst.click("#compare-submit", "diff-page")
		analyst.expect("#diff-from", "第1報", "所管省庁")
		analyst.expect("#diff-to", "第2報", "所管省庁")
		diff := analyst.text("#diff")
		for _, want := range []string{"今後の予定", "事後調査実施中", "対応完了", "システムの稼働状況", "一部稼働中", "復旧済"} {
			if !strings.Contains(diff, want) {
				t.Errorf("diff lacks %q:\n%s", want, diff)
			}
		}
		outlook := browserGet(analyst, "outlook row", chromedp.Evaluate[[]string](`(() => {
			const row = Array.from(document.querySelectorAll("#diff tbody tr")).find(tr => tr.querySelector("th").innerText.includes("今後の予定"));
			return row ? Array.from(row.querySelectorAll("td")).map(td => td.innerText.trim()) : [];
		})()`))
		if len(outlook) != 2 || outlook[0] != "事後調査実施中" || outlook[1] != "対応完了" {
			t.Errorf("outlook row of the diff = %q, want old 事後調査実施中, new 対応完了", outlook)
		}

		// The print page of NISC's latest version lays out the paper form.
		href := browserGet(analyst, "latest version", chromedp.Evaluate[string](`document.querySelector("#diff-to a").getAttribute("href")`))
		analyst.open(href+"/print", "print-sheet")
		analyst.expect("#cf-case-number", number)
		analyst.expect("#cf-report-number", "第2報")
		analyst.expect("#cf-tlp-amber", "☑")
		analyst.expect("#cf-event-intrusion", "☑")
		analyst.screenshot("print")
	})
}

// noTowa fails the test if the page names the anonymised operator.
func (p *browserPerson) noTowa(page string) {
	p.t.Helper()
	body := []rune(p.body())
	for i := 0; i+1 < len(body); i++ {
		if string(body[i:i+2]) == "東和" {
			p.t.Errorf("%s: %s names the anonymised operator: …%s…", p.who, page, string(body[max(0, i-60):min(len(body), i+60)]))
			return
		}
	}
}

// searchFor runs the case list's search and reports whether the case is listed.
func (p *browserPerson) searchFor(q string, caseID int64) bool {
	p.t.Helper()
	p.open("/reports?f=1&q="+url.QueryEscape(q), "case-total")
	p.noTowa("search " + q)
	return browserGet(p, "search result", chromedp.Evaluate[bool](fmt.Sprintf(`document.getElementById("case-%d") !== null`, caseID)))
}

// TestBrowserReportThroughCEPTOAR: an operator reports through its CEPTOAR;
// the secretariat anonymises; neither the ministry nor NISC ever sees who
// reported, while the operator still sees its own name.
func TestBrowserReportThroughCEPTOAR(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ts := demoServer(t, db)
		now := time.Now()

		reporter := signInBrowser(t, ts.URL, demoReporter)
		reporter.startReport("ceptoar")
		reporter.expect("#route", "セプター事務局経由")
		reporter.fill(figure4{TLP: "green", Outlook: "investigating", Discovered: now.Add(-90 * time.Minute), Occurred: now.Add(-2 * time.Hour),
			Describe: "東和電力の制御系サーバへの侵入を確認した。不審メールの送信元は attacker@phish-example.com。" +
				"連絡先は reporter@operator.demo.kyoyu.jp。"})
		reporter.expect("#draft-submit", "セプター事務局へ送信")
		reporter.submitDraft()
		caseID := reporter.caseID()

		// The secretariat's draft arrives anonymised, with what is left to check marked.
		secretariat := signInBrowser(t, ts.URL, demoSecretariat)
		secretariat.takeUp("第1報")
		label := secretariat.value("f-operator_name")
		if !regexp.MustCompile(`^電力事業者[A-Z]+$`).MatchString(label) {
			t.Errorf("label = %q, want one like 電力事業者A", label)
		}
		if d := secretariat.value("f-description"); strings.Contains(d, "東和") || strings.Contains(d, "reporter@operator") || !strings.Contains(d, label) {
			t.Errorf("anonymised description = %q", d)
		}
		secretariat.expect("#anon-clear", "見つかりません")
		marks := browserGet(secretariat, "marks", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#anonymise mark")).map(m => m.innerText)`))
		if !strings.Contains(strings.Join(marks, " "), "attacker@phish-example.com") {
			t.Errorf("the anonymisation review marks %q, want the e-mail address among them", marks)
		}
		secretariat.expect("#draft-submit", "所管省庁へ送信")
		secretariat.submitDraft()

		liaison := signInBrowser(t, ts.URL, demoLiaison)
		liaison.open("/reports/incoming", "incoming")
		liaison.noTowa("incoming list")
		liaison.takeUp("第1報")
		liaison.noTowa("draft")
		liaison.submitDraft()
		number := liaison.text("#case-number")
		if !strings.Contains(number, nthCaseNumber(1)) {
			t.Errorf("case number = %q", number)
		}
		liaison.noTowa("case page")
		liaison.open("/reports", "reports-page")
		liaison.noTowa("case list")
		liaison.expect(fmt.Sprintf("#case-%d", caseID), label)
		if liaison.searchFor("東和", caseID) {
			t.Errorf("the ministry finds the anonymised case by the operator's name")
		}
		if !liaison.searchFor("侵入", caseID) {
			t.Errorf("the ministry does not find the case by 侵入")
		}

		analyst := signInBrowser(t, ts.URL, demoAnalyst)
		analyst.open("/reports", "inbox-title")
		analyst.noTowa("inbox")
		analyst.expect(fmt.Sprintf("#case-%d", caseID), label)
		analyst.click(fmt.Sprintf("#case-%d a", caseID), "case-page")
		analyst.noTowa("case page")
		analyst.expect("#case-operator", label)
		if analyst.searchFor("東和", caseID) {
			t.Errorf("NISC finds the anonymised case by the operator's name")
		}
		if !analyst.searchFor("侵入", caseID) {
			t.Errorf("NISC does not find the case by 侵入")
		}

		reporter.open(fmt.Sprintf("/cases/%d", caseID), "case-page")
		if !strings.Contains(reporter.body(), "東和電力") {
			t.Errorf("the operator's own case page does not name it:\n%s", reporter.where())
		}
	})
}

// TestBrowserReportTakenByPhone: a ministry writes up a report an operator
// phoned in; NISC sees how it came in.
func TestBrowserReportTakenByPhone(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ts := demoServer(t, db)
		now := time.Now()

		liaison := signInBrowser(t, ts.URL, demoLiaison)
		liaison.open("/reports/new", "start-form")
		liaison.choose("channel", "phone")
		liaison.typeInto("f-taken_by", "経産 受付担当")
		liaison.selectByText("f-operator_org_id", "東和電力")
		liaison.click("#start", "draft-form")
		liaison.expect("#route", "所管省庁が起票")
		liaison.expect("#channel", "電話", "経産 受付担当")
		liaison.fill(figure4{TLP: "green", Outlook: "ongoing", Discovered: now.Add(-30 * time.Minute), Occurred: now.Add(-40 * time.Minute),
			Describe: "電話で受けた連絡: 監視サーバへの侵入の疑い。"})
		liaison.expect("#draft-submit", "NISC へ送信")
		liaison.submitDraft()
		caseID := liaison.caseID()
		liaison.expect("#case-number", nthCaseNumber(1))

		analyst := signInBrowser(t, ts.URL, demoAnalyst)
		analyst.open("/reports", "inbox-title")
		analyst.click(fmt.Sprintf("#case-%d a", caseID), "case-page")
		analyst.expect("#case-route", "所管省庁", "電話", "経産 受付担当")
	})
}

// TestBrowserReportRefusedKeepsTyping: a report whose event occurred after
// it was discovered is refused at 発生日時, and nothing typed is lost.
func TestBrowserReportRefusedKeepsTyping(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ts := demoServer(t, db)
		now := time.Now()

		reporter := signInBrowser(t, ts.URL, demoReporter)
		draft := reporter.startReport("ministry")
		r := figure4{TLP: "green", Outlook: "investigating", Discovered: now.Add(-3 * time.Hour), Occurred: now.Add(-1 * time.Hour),
			AffectedSystem: "業務系ファイルサーバ", Describe: "ファイルサーバで不審なログインを検知した。"}
		reporter.fill(r)
		reporter.click("#draft-submit", "occurred_at-error")

		reporter.expect("#occurred_at-error", "発生日時が判明日時より後になっています。")
		reporter.expect("#error", "送信できませんでした")
		reporter.expect("#problems", "発生日時")
		if loc := reporter.location(); !strings.Contains(loc, draft) {
			t.Errorf("after the refusal at %s, want the draft %s", loc, draft)
		}
		kept := map[string]string{
			"f-description": r.Describe, "f-affected_system": r.AffectedSystem,
			"f-discovered_at": datetimeLocal(r.Discovered), "f-occurred_at": datetimeLocal(r.Occurred),
		}
		for id, want := range kept {
			if got := reporter.value(id); got != want {
				t.Errorf("#%s after the refusal = %q, want %q", id, got, want)
			}
		}
		if got := reporter.chosen("tlp"); got != "green" {
			t.Errorf("TLP after the refusal = %q", got)
		}
		// The refusal says the draft is saved; it is.
		reporter.open(draft, "draft-form")
		if got := reporter.value("f-description"); got != r.Describe {
			t.Errorf("saved description = %q", got)
		}
	})
}
