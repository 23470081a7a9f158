package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kyoyu/internal/testkit"
	"kyoyu/store"
)

// Follow-ups (続報) walked in a real browser on the routes the first
// report did not already cover: through a CEPTOAR, where the label must
// outlive the first report, and on a report a ministry took by phone.

// checked is the text of the ticked choice in a paper-form row (sel, CSS).
func (p *browserPerson) checked(sel string) string {
	p.t.Helper()
	return browserGet(p, "ticked in "+sel, chromedp.Evaluate[string](jsCall(`function (sel) {
		return Array.from(document.querySelectorAll(sel + " .cf-on")).map(e => e.innerText.trim()).join(" ");
	}`, sel)))
}

// fieldsHolding lists the form fields of the open page whose value holds s.
func (p *browserPerson) fieldsHolding(s string) []string {
	p.t.Helper()
	return browserGet(p, "fields holding "+s, chromedp.Evaluate[[]string](jsCall(`function (s) {
		return Array.from(document.querySelectorAll("#draft-form input, #draft-form textarea"))
			.filter(el => el.type !== "hidden" && el.value.includes(s)).map(el => el.id || el.name);
	}`, s)))
}

// TestBrowserCEPTOARFollowUp: 第2報 of a report through a CEPTOAR goes the
// same way as 第1報; the secretariat's draft carries the label 第1報 was
// sent under, and the operator's name reaches neither ministry nor NISC.
func TestBrowserCEPTOARFollowUp(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ts := demoServer(t, db)
		now := time.Now()
		number := nthCaseNumber(1)

		reporter := signInBrowser(t, ts.URL, demoReporter)
		reporter.startReport("ceptoar")
		reporter.fill(figure4{TLP: "green", Outlook: "investigating", Discovered: now.Add(-90 * time.Minute), Occurred: now.Add(-2 * time.Hour),
			Describe: "東和電力の制御系サーバへの侵入を確認した。連絡先は reporter@operator.demo.kyoyu.jp。"})
		reporter.expect("#draft-submit", "セプター事務局へ送信")
		reporter.submitDraft()
		caseID := reporter.caseID()
		casePath := fmt.Sprintf("/cases/%d", caseID)

		secretariat := signInBrowser(t, ts.URL, demoSecretariat)
		secretariat.takeUp("第1報")
		label := secretariat.value("f-operator_name")
		if !regexp.MustCompile(`^電力事業者[A-Z]+$`).MatchString(label) {
			t.Fatalf("label of 第1報 = %q, want one like 電力事業者A", label)
		}
		secretariat.submitDraft()

		liaison := signInBrowser(t, ts.URL, demoLiaison)
		liaison.takeUp("第1報")
		liaison.submitDraft()
		liaison.expect("#case-number", number)

		// 第2報: the operator has finished handling it.
		reporter.open(casePath, "case-page")
		reporter.expect("#case-number", number)
		reporter.click("#follow-up", "draft-form")
		reporter.expect("#report-number", "第2報")
		reporter.expect("#route", "セプター事務局経由")
		if got := reporter.chosen("outlook"); got != "investigating" {
			t.Errorf("the follow-up starts from outlook %q, want 第1報's investigating", got)
		}
		reporter.choose("outlook", "completed")
		reporter.expect("#draft-submit", "セプター事務局へ送信")
		reporter.submitDraft()
		if got := reporter.caseID(); got != caseID {
			t.Errorf("第2報 landed on case %d, want %d", got, caseID)
		}

		// The secretariat's draft of 第2報 is anonymised again, under the same label.
		secretariat.takeUp("第2報")
		secretariat.expect("#report-number", "第2報")
		if got := secretariat.value("f-operator_name"); got != label {
			t.Errorf("label of 第2報 = %q, want 第1報's %q", got, label)
		}
		if leaks := secretariat.fieldsHolding("東和"); len(leaks) > 0 {
			t.Errorf("the secretariat's draft of 第2報 names the operator in %q", leaks)
		}
		if d := secretariat.value("f-description"); !strings.Contains(d, label) {
			t.Errorf("anonymised description of 第2報 = %q, want the label %q in it", d, label)
		}
		if got := secretariat.chosen("outlook"); got != "completed" {
			t.Errorf("the secretariat's 第2報 outlook = %q", got)
		}
		if a := secretariat.text("#anonymise"); strings.Contains(a, "東和") {
			t.Errorf("the anonymisation review of 第2報 names the operator:\n%s", a)
		}
		secretariat.expect("#draft-submit", "所管省庁へ送信")
		secretariat.submitDraft()

		liaison.takeUp("第2報")
		liaison.noTowa("draft of 第2報")
		liaison.expect("#draft-submit", "NISC へ送信")
		liaison.submitDraft()
		liaison.expect("#case-number", number, "第2報")
		liaison.noTowa("case page after 第2報")

		analyst := signInBrowser(t, ts.URL, demoAnalyst)
		analyst.open(casePath, "case-page")
		analyst.expect("#case-number", number, "第2報")
		analyst.expect("#case-operator", label)
		if got := analyst.checked("#cf-outlook"); !strings.Contains(got, "対応完了") {
			t.Errorf("NISC's latest version ticks outlook %q, want 対応完了", got)
		}
		analyst.noTowa("case page after 第2報")
		analyst.screenshot("ceptoar-follow-up")
	})
}

// TestBrowserPhoneFollowUp: a ministry that took a report by phone writes
// its 第2報 itself, and it goes straight to NISC under the same number.
func TestBrowserPhoneFollowUp(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ts := demoServer(t, db)
		now := time.Now()
		number := nthCaseNumber(1)

		liaison := signInBrowser(t, ts.URL, demoLiaison)
		liaison.open("/reports/new", "start-form")
		liaison.choose("channel", "phone")
		liaison.typeInto("f-taken_by", "経産 受付担当")
		liaison.selectByText("f-operator_org_id", "東和電力")
		liaison.click("#start", "draft-form")
		liaison.fill(figure4{TLP: "green", Outlook: "ongoing", Discovered: now.Add(-30 * time.Minute), Occurred: now.Add(-40 * time.Minute),
			Describe: "電話で受けた連絡: 監視サーバへの侵入の疑い。"})
		liaison.submitDraft()
		caseID := liaison.caseID()
		casePath := fmt.Sprintf("/cases/%d", caseID)
		liaison.expect("#case-number", number)

		// 第2報, phoned in later: the system has recovered.
		liaison.open(casePath, "case-page")
		liaison.click("#follow-up", "draft-form")
		liaison.expect("#report-number", "第2報")
		liaison.expect("#case-number", number)
		liaison.expect("#route", "所管省庁が起票")
		if got := liaison.value("f-system_status"); got != "partial" {
			t.Errorf("the follow-up starts from system status %q, want 第1報's partial", got)
		}
		liaison.set("f-system_status", "recovered")
		liaison.expect("#draft-submit", "NISC へ送信")
		liaison.submitDraft()
		if got := liaison.caseID(); got != caseID {
			t.Errorf("第2報 landed on case %d, want %d", got, caseID)
		}
		liaison.expect("#case-number", number, "第2報")

		analyst := signInBrowser(t, ts.URL, demoAnalyst)
		analyst.open(casePath, "case-page")
		analyst.expect("#case-number", number, "第2報")
		analyst.expect("#case-route", "所管省庁", "電話", "経産 受付担当")
		if got := analyst.checked("#cf-system-status"); !strings.Contains(got, "復旧済") {
			t.Errorf("NISC's latest version ticks system status %q, want 復旧済", got)
		}
	})
}
