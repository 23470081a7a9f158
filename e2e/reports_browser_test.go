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

// The reporting flow (情報連絡) walked in a real browser: each person signs
// in to a browser of their own, so no cookie or session is shared, and
// works only through the pages, as a person would.

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
