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
)

// Helpers for the reporting flow walked in a real browser: one browser per
// person, and the steps a person takes on the report pages.

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
	p := startBrowser(t, base, email)
	signIn(t, p.ctx, base, email, demo.Password)
	p.do("home after sign-in", chromedp.WaitVisible(chromedp.ID("welcome")))
	return p
}

// startBrowser starts a fresh browser (own profile, own cookies) for
// someone not signed in yet; who names them in failures.
func startBrowser(t *testing.T, base, who string) *browserPerson {
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
	// The browser starts on this context, not on a step's shorter one,
	// whose end would close it.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start a browser for %s: %v", who, err)
	}
	return &browserPerson{t: t, who: who, base: base, ctx: ctx}
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

// goneContext is its answer to a script run in a page that was just
// replaced by the next one; likewise safe to try again.
const goneContext = "Cannot find context with specified id"

// runStep runs one action, again if it met a replaced node.
func runStep[T any](ctx context.Context, a chromedp.Action[T]) (T, error) {
	for try := 1; ; try++ {
		v, err := chromedp.Run(ctx, a)
		if err == nil || try == 3 || !strings.Contains(err.Error(), staleNode) && !strings.Contains(err.Error(), goneContext) {
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
