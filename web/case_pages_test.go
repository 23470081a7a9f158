package web_test

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/demo"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

func TestCaseInboxFiltersAndSearch(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		w := newCaseWorld(t, db)
		// A was sent 100 hours ago and promised a follow-up that never came.
		clock := db.Now
		db.Now = func() time.Time { return clock().Add(-100 * time.Hour) }
		a, numA := w.operatorCase(kyoyu.RouteMinistry, caseSpec{tlp: "green", importance: "warning", event: "intrusion", sector: "electricity",
			description: "監視サーバに外部から侵入された形跡を確認した。", outlook: "investigating", causes: []string{"suspicious_email", "vulnerability"}})
		dayA := db.Now().In(kyoyu.JST).Format("2006-01-02")
		db.Now = clock
		b, numB := w.ministryCase(caseSpec{tlp: "amber", importance: "advisory", event: "confidentiality", sector: "gas",
			description: "顧客情報の漏洩を確認した。", outlook: "completed", causes: []string{"insider"}})
		c, numC := w.ministryCase(caseSpec{tlp: "red", importance: "info", event: "availability", sector: "electricity",
			description: "個人データが漏えいした可能性がある。", outlook: "completed", causes: []string{"dos"}})
		today := db.Now().In(kyoyu.JST).Format("2006-01-02")

		nisc := w.signIn(analyst, demo.Password)
		all := nisc.get("/reports")
		mustHave(t, all, 200, `id="reports-page"`, `id="inbox-title"`, "全 3 件", numA, numB, numC, "続報期限超過", "第1報")
		if got := listed(all); len(got) != 3 || got[0] != c || got[1] != b || got[2] != a {
			t.Errorf("inbox order %v, want newest activity first %v", got, []int64{c, b, a})
		}
		mustHave(t, nisc.get("/cases"), 200, "全 3 件")
		for _, tc := range []struct {
			query url.Values
			want  []int64
		}{
			{url.Values{"sector": {"gas"}}, []int64{b}},
			{url.Values{"event_class": {"intrusion"}}, []int64{a}},
			{url.Values{"cause": {"insider"}}, []int64{b}},
			{url.Values{"importance": {"info"}}, []int64{c}},
			{url.Values{"tlp": {"red"}}, []int64{c}},
			{url.Values{"overdue": {"1"}}, []int64{a}},
			{url.Values{"status": {"at_nisc"}}, []int64{a, b, c}},
			{url.Values{"q": {"侵入"}}, []int64{a}},
			{url.Values{"q": {"漏洩"}}, []int64{b, c}},
			{url.Values{"q": {"漏えい"}}, []int64{b, c}},
			{url.Values{"q": {"漏えい"}, "tlp": {"amber"}}, []int64{b}},
			{url.Values{"from": {today}}, []int64{b, c}},
			{url.Values{"from": {dayA}, "to": {dayA}}, []int64{a}},
			{url.Values{"mine": {"1"}}, nil},
		} {
			tc.query.Set("f", "1")
			page := nisc.get("/reports?" + tc.query.Encode())
			mustHave(t, page, 200, fmt.Sprintf("全 %d 件", len(tc.want)))
			sameCases(t, tc.query.Encode(), listed(page), tc.want...)
		}
		// Search results show the text around the match, as written: the
		// title when it holds the match, else a snippet of the report.
		hits := nisc.get("/reports?q=" + url.QueryEscape("漏えい"))
		mustHave(t, hits, 200, "顧客情報の漏洩を確認した", "個人データが漏えいした可能性がある")
		if strings.Contains(hits.body, `class="snippet`) {
			t.Error("a snippet repeats the title")
		}
		mustHave(t, nisc.get("/reports?q="+url.QueryEscape("遮断")), 200, `class="snippet small">通信を遮断`)
		// Bad filter values are told on the form.
		for q, msg := range map[string]string{
			"sector=moon":                     "分野の指定が正しくありません",
			"event_class=meteor":              "事象の分類の指定が正しくありません",
			"cause=boredom":                   "原因の指定が正しくありません",
			"tlp=purple":                      "情報共有範囲の指定が正しくありません",
			"status=lost":                     "状況の指定が正しくありません",
			"from=2026-13-45":                 "日付は",
			"from=2026-11-20&to=2026-11-01":   "期間の開始が終了より後",
			"before_at=yesterday&before_id=1": "ページの指定が正しくありません",
			"n=0":                             "ページの指定が正しくありません",
			"q=" + url.QueryEscape("!!! ？？"):  "キーワードには文字または数字",
		} {
			mustHave(t, nisc.get("/reports?"+q), 422, `id="filter-problem"`, msg, `id="case-filter"`)
		}

		// Each organisation lands on its own cases.
		op := w.signIn(reporter, demo.Password)
		mine := op.get("/reports")
		mustHave(t, mine, 200, `href="/reports/new"`, `href="/reports/drafts"`, "全 1 件", numA)
		sameCases(t, "reporter's cases", listed(mine), a)
		meti := w.signIn(liaison, demo.Password)
		landing := meti.get("/reports")
		mustHave(t, landing, 200, `href="/reports/incoming"`, "全 3 件")
		sameCases(t, "ministry's cases", listed(landing), a, b, c)
		sameCases(t, "ministry's own reports", listed(meti.get("/reports?f=1&mine=1")), b, c)
		sameCases(t, "reporter's visible cases", listed(op.get("/reports?f=1")), a)

		// The case page: header, the form, the overdue follow-up.
		detail := nisc.get(caseURL(a))
		mustHave(t, detail, 200, `id="case-page"`, numA, "事業者 → 所管省庁 → NISC", "重要インフラ関係主体限り", "東和電力株式会社",
			"電力", "続報期限超過", `id="case-due"`, "情報連絡様式", `id="cf-event-intrusion">☑`, `id="cf-cause-vulnerability">☑`,
			"システム等への侵入", "事象が発生したシステム・委託先業者等")
		if strings.Contains(detail.body, "/follow-up") {
			t.Error("NISC is offered to write the operator's follow-up")
		}
		mustHave(t, op.get(caseURL(a)), 200, fmt.Sprintf(`action="/cases/%d/follow-up"`, a), `name="csrf_token"`, "第2報")
		mustHave(t, meti.get(caseURL(c)), 200, "電話", "経産 連絡官", "宛先限り")

		// The print page is the paper form, in 令和, boxes ticked, no navigation.
		vers := w.versions(w.analyst, a)
		printed := nisc.get(caseURL(a, "/versions/", itoa(vers[len(vers)-1]), "/print"))
		mustHave(t, printed, 200, "令和", numA, "（第1報*）", "（重要インフラ所管省庁→内閣官房）", `id="cf-importance-warning">☑警報`,
			`id="cf-importance-info">☐参考情報`, `id="cf-tlp-green" class="cf-on">☑`, `id="cf-tlp-red">☐`, `id="cf-event-intrusion">☑`,
			`id="cf-event-precursor">☐`, `id="cf-cause-suspicious_email">☑`, `id="cf-cause-insider">☐`, "別紙有無",
			"事後調査実施中（続報あり）", `/static/case.css`)
		if strings.Contains(printed.body, `id="nav-reports"`) || strings.Contains(printed.body, "<nav") {
			t.Error("the print page carries the site's navigation")
		}
		css := nisc.get("/static/case.css")
		mustHave(t, css, 200, "@page { size:A4", "@media print")
		mustHave(t, nisc.get(caseURL(a, "/versions/", itoa(vers[0]))), 200, `id="version-page"`, `id="print-link"`)

		// Notifications name the report and link to the case.
		mustHave(t, op.get("/notifications"), 200, `id="notifications-page"`, "第1報が NISC に届き", fmt.Sprintf(`href="/cases/%d"`, a))
		mustHave(t, meti.get("/notifications"), 200, "第1報の情報連絡が届いています")

		// English pages are English; the printed form stays the handbook's Japanese.
		op.get("/lang/en?next=/")
		en := op.get("/reports")
		mustHave(t, en, 200, "Reports", "Case number", "Write a new report", "1 in all", numA, "Intrusion into systems")
		enCase := op.get(caseURL(a))
		mustHave(t, enCase, 200, "Sharing range", "Report form", "Operator → ministry → NISC", "Write a follow-up", "Follow-up overdue")
		for _, ja := range []string{"識別番号", "情報共有範囲", "発生した事象の分類"} {
			if strings.Contains(enCase.body, ja) {
				t.Errorf("English case page shows %q", ja)
			}
		}
		mustHave(t, op.get("/reports?sector=moon"), 422, "Unknown sector.")
		mustHave(t, op.get(caseURL(a, "/versions/", itoa(w.versions(w.reporter, a)[0]), "/print")), 200, "令和", "情報連絡様式")

		// With a follow-up being written, the case page leads to the draft;
		// nobody else sees the draft.
		draft, err := w.svc.FollowUp(context.Background(), w.reporter, "192.0.2.1", a)
		if err != nil {
			t.Fatal(err)
		}
		withDraft := op.get(caseURL(a))
		mustHave(t, withDraft, 200, `id="open-draft"`, fmt.Sprintf(`href="/reports/drafts/%d"`, draft.ID), fmt.Sprintf(`id="version-%d"`, draft.ID))
		if strings.Contains(withDraft.body, "/follow-up") {
			t.Error("a second follow-up is offered while one is open")
		}
		if strings.Contains(nisc.get(caseURL(a)).body, fmt.Sprintf(`id="version-%d"`, draft.ID)) {
			t.Error("NISC sees the operator's draft")
		}
		sameAsMissing(t, nisc, caseURL(a, "/versions/", itoa(draft.ID)), caseURL(a, "/versions/999999"))
	})
}

var nextLink = regexp.MustCompile(`<a href="([^"]+)" id="cases-next"`)

func TestCaseListPaging(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		w := newCaseWorld(t, db)
		var made []int64
		for i := range 23 {
			id, _ := w.ministryCase(caseSpec{tlp: "green", importance: "info", event: "precursor", sector: "electricity",
				description: fmt.Sprintf("予兆 %d 件目を確認した。", i+1), outlook: "completed", causes: []string{"unknown"}})
			made = append(made, id)
		}
		b := w.signIn(analyst, demo.Password)
		seen := map[int64]bool{}
		var order []int64
		pages := 0
		for path := "/reports?f=1&n=10"; path != ""; pages++ {
			a := b.get(path)
			mustHave(t, a, 200, "全 23 件")
			for _, id := range listed(a) {
				if seen[id] {
					t.Fatalf("case %d listed twice (page %d)", id, pages+1)
				}
				seen[id] = true
				order = append(order, id)
			}
			if pages > 0 {
				mustHave(t, a, 200, `id="cases-first"`)
			}
			path = ""
			if m := nextLink.FindStringSubmatch(a.body); m != nil {
				path = html.UnescapeString(m[1])
			}
			if pages > 5 {
				t.Fatal("paging does not end")
			}
		}
		if pages != 3 || len(order) != len(made) {
			t.Fatalf("%d pages, %d cases; want 3 pages and %d cases", pages, len(order), len(made))
		}
		for i, id := range order {
			if want := made[len(made)-1-i]; id != want {
				t.Fatalf("position %d holds case %d, want %d (newest first)", i, id, want)
			}
		}
		// The default page is 50: everything on one page, no next link.
		one := b.get("/reports")
		if len(listed(one)) != 23 || strings.Contains(one.body, `id="cases-next"`) {
			t.Errorf("default page lists %d cases", len(listed(one)))
		}
	})
}
