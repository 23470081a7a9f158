package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"kyoyu/advisory"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

var reResolve = regexp.MustCompile(`<input type="checkbox" name="resolved" value="([^"]+)" id="resolve-\d+">`)

// NISC drafts from a case through the pages: what names the source blocks
// publication, an address must be ticked as checked, and nothing typed is
// lost along the way.
func TestAdvisoryDraftingAndPublishing(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		w := newAdvWorld(t, db)
		nisc := w.signInAs(analyst)
		mustHave(t, nisc.get("/advisories"), 200, `id="advisories-page"`, "情報提供を作成", `id="no-advisory-drafts"`)
		for _, other := range []string{liaison, reporter} {
			b := w.signInAs(other)
			a := b.get("/advisories")
			mustHave(t, a, 200, `id="advisories-page"`, "まだありません")
			if strings.Contains(a.body, "情報提供を作成") {
				t.Fatalf("%s is offered to write an advisory", other)
			}
			mustHave(t, b.get(fmt.Sprintf("/advisories/new?from=%d", w.caseID)), http.StatusNotFound)
		}

		loc := w.draftFromCase(nisc)
		page := nisc.get(loc)
		mustHave(t, page, 200, `id="advisory-draft-page"`, w.caseNumber, "情報提供先", "Amber＝特定分野・関係者限り",
			"（情報提供先の重要インフラ所管省庁限り）", "①セキュリティホールやプログラム・バグ等", "経済産業省（電力）")
		form := scrapeDraft(t, page.body)
		if form.Get("tlp") != "amber" {
			t.Fatalf("a draft from an AMBER case starts at %q", form.Get("tlp"))
		}
		mustHave(t, nisc.get("/advisories"), 200, `id="advisory-drafts"`, "VPN装置の脆弱性に関する注意喚起")

		// The source's name in the summary: shown marked, publication refused at the field.
		typed := "東和電力株式会社でVPN装置の脆弱性を突いた侵入があった。連絡先 soc@example.jp"
		form = w.fill(form, typed)
		form.Set("action", "publish")
		a := nisc.post(loc, form)
		mustHave(t, a, http.StatusUnprocessableEntity, `id="summary-error"`, "情報源の提供元を特定できる記載があります",
			`<mark class="source">東和電力株式会社</mark>`, "提供元を特定できます。削除してください。", typed, "リモート保守用のVPN装置")
		if as, _ := w.db.ListAdvisories(t.Context(), w.viewer(liaison), 10); len(as) != 0 {
			t.Fatal("a refused advisory reached the ministry")
		}

		// Without the name, the address must still be ticked as checked.
		form = scrapeDraft(t, a.body)
		form.Set("summary", "電力分野の事業者でVPN装置の脆弱性を突いた侵入があった。連絡先 soc@example.jp")
		form.Set("action", "publish")
		a = nisc.post(loc, form)
		mustHave(t, a, http.StatusUnprocessableEntity, `id="summary-error"`, "確認していない記載", "確認済み（そのまま掲載）",
			`<mark>soc@example.jp</mark>`)
		boxes := reResolve.FindAllStringSubmatch(a.body, -1)
		if len(boxes) == 0 || boxes[0][1] != "soc@example.jp" {
			t.Fatalf("no checkbox for the address: %v", boxes)
		}
		form = scrapeDraft(t, a.body)
		form.Add("resolved", "soc@example.jp")
		form.Set("action", "save")
		a = nisc.post(loc, form)
		mustHave(t, a, 200, "下書きを保存しました", `id="resolve-1" checked`)

		form = scrapeDraft(t, a.body)
		form.Set("action", "publish")
		a = nisc.post(loc, form)
		m := reAdvLoc.FindStringSubmatch(a.header.Get("Location"))
		if a.status != http.StatusSeeOther || m == nil {
			t.Fatalf("publish: %d %q\n%s", a.status, a.header.Get("Location"), a.body)
		}
		year := db.Now().Year()
		page = nisc.get(a.header.Get("Location"))
		mustHave(t, page, 200, "情報提供を発出しました", fmt.Sprintf("T%d-0001", year), "情報提供様式", "（第1報<sup>*</sup>）",
			"☑ Amber＝特定分野・関係者限り", "☑注意喚起", "経済産業省（電力）", "令和", `id="delivery-link"`, "続報を作成")
		if strings.Contains(page.body, "東和電力") {
			t.Fatal("the published advisory names its source")
		}
		// The draft page of a published version is gone.
		mustHave(t, nisc.get(loc), http.StatusNotFound)

		// Print: the sheet alone.
		pr := nisc.get("/advisories/" + m[1] + "/print")
		mustHave(t, pr, 200, `id="print-sheet"`, "情報提供様式", fmt.Sprintf("T%d-0001", year))
		if strings.Contains(pr.body, `nav class="main"`) {
			t.Fatal("the print page has the site's navigation")
		}

		// A follow-up opens 第2報 on its draft page.
		a = nisc.post("/advisories/"+m[1]+"/follow-up", nil)
		if a.status != http.StatusSeeOther || !reAdvDraftLoc.MatchString(a.header.Get("Location")) {
			t.Fatalf("follow-up: %d %q", a.status, a.header.Get("Location"))
		}
		mustHave(t, nisc.get(a.header.Get("Location")), 200, "第2報", fmt.Sprintf("T%d-0001", year))
		mustHave(t, nisc.get("/advisories/"+m[1]), 200, `id="open-draft"`)
	})
}

// The cascade through the pages: the ministry to all CEPTOARs, the
// secretariat to its members, acknowledgements by button and by e-mail
// link, the issuer's dashboard, inquiries and feedback.
func TestAdvisoryCascadeThroughPages(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		w := newAdvWorld(t, db)
		nisc := w.signInAs(analyst)
		id := w.publish(nisc)
		path := fmt.Sprintf("/advisories/%d", id)

		meti := w.signInAs(liaison)
		mustHave(t, meti.get("/advisories"), 200, fmt.Sprintf(`id="advisory-%d"`, id))
		mustHave(t, meti.get(path), 200, `id="ack"`, "所管分野の全セプターへ展開", `id="forward-operators-select"`, "東和電力株式会社", `id="ask-form"`)
		mustHave(t, meti.post(path+"/forward", url.Values{"to": {"ceptoars"}, "tlp": {"green"}}), http.StatusUnprocessableEntity, `id="forward-tlp-error"`)
		if a := meti.post(path+"/forward", url.Values{"to": {"ceptoars"}}); a.status != http.StatusSeeOther {
			t.Fatalf("forward to CEPTOARs: %d\n%s", a.status, a.body)
		}
		if n := w.stageCount(id, "ceptoar"); n != 1 {
			t.Fatalf("%d CEPTOAR deliveries, want 1", n)
		}

		sec := w.signInAs(secretariat)
		mustHave(t, sec.get(path), 200, "構成員へ展開", `id="ack"`)
		if strings.Contains(sec.get(path).body, "所管分野の全セプターへ展開") {
			t.Fatal("a secretariat is offered the ministry's forward")
		}
		if a := sec.post(path+"/forward", url.Values{"to": {"members"}}); a.status != http.StatusSeeOther {
			t.Fatalf("forward to members: %d\n%s", a.status, a.body)
		}
		if n := w.stageCount(id, "operator"); n < 2 {
			t.Fatalf("%d operator deliveries", n)
		}

		// An operator acknowledges with the button; it cannot forward.
		rep := w.signInAs(reporter)
		mustHave(t, rep.get(path), 200, `id="ack"`, "VPN装置の脆弱性")
		mustHave(t, rep.post(path+"/forward", url.Values{"to": {"members"}}), http.StatusNotFound)
		if a := rep.post(path+"/ack", nil); a.status != http.StatusSeeOther {
			t.Fatalf("ack: %d", a.status)
		}
		mustHave(t, rep.get(path+"?flash=advisories.acknowledged"), 200, "受領を確認しました", `id="acked-at"`)
		if d := w.delivery(id, w.reporter.Organisation.ID); d.AcknowledgedAt == nil || d.AckVia != "ui" {
			t.Fatalf("operator delivery %+v", d)
		}

		// The e-mail link: GET shows a button and acknowledges nothing.
		link := w.ackLink(secretariat)
		anon := w.browser()
		a := anon.get(link)
		mustHave(t, a, 200, "情報提供の受領を確認します", `id="ack-link-form"`)
		if strings.Contains(a.body, "VPN") || strings.Contains(a.body, "注意喚起") {
			t.Fatal("the link page shows the advisory's content")
		}
		if d := w.delivery(id, w.secretariat.Organisation.ID); d.AcknowledgedAt != nil {
			t.Fatal("a GET of the link acknowledged")
		}
		a = anon.post(link, nil)
		mustHave(t, a, 200, "受領を確認しました", path)
		if d := w.delivery(id, w.secretariat.Organisation.ID); d.AcknowledgedAt == nil || d.AckVia != "email" {
			t.Fatalf("secretariat delivery %+v", d)
		}
		mustHave(t, anon.post(link, nil), http.StatusGone, "このリンクは使用済みです")
		mustHave(t, anon.get(link), http.StatusGone, "このリンクは使用済みです")
		mustHave(t, anon.get("/ack/forged-link-value-0123456789abcdef"), http.StatusNotFound)
		mustHave(t, anon.post("/ack/forged-link-value-0123456789abcdef", nil), http.StatusNotFound)
		mustHave(t, anon.post(w.ackLink(liaison), url.Values{"csrf_token": {""}}), http.StatusForbidden)
		// A link past its validity acknowledges nothing either.
		clock := db.Now
		db.Now = func() time.Time { return clock().Add(advisory.AckLinkTTL + time.Hour) }
		mustHave(t, anon.get(w.ackLink(liaison)), http.StatusGone, "有効期限が切れています")
		mustHave(t, anon.post(w.ackLink(liaison), nil), http.StatusGone, "有効期限が切れています")
		db.Now = clock

		// The dashboard: per stage the rate and the silent; the issuer's only.
		dash := nisc.get(path + "/delivery")
		mustHave(t, dash, 200, `id="stage-ministry-rate">0%<`, `id="stage-ceptoar-rate">100%<`, `id="silent-ministry"`, "経済産業省",
			`id="silent-operator"`, "疎通確認率")
		if strings.Contains(dash.body, `id="silent-ceptoar"`) {
			t.Fatal("an acknowledged secretariat is listed as silent")
		}
		mustHave(t, meti.get(path+"/delivery"), http.StatusNotFound)

		// Inquiries: the ministry asks, NISC answers; nobody else reads them.
		mustHave(t, meti.post(path+"/inquiries", url.Values{"body": {"  "}}), http.StatusUnprocessableEntity, `id="ask-body-error"`, "入力してください")
		if a := meti.post(path+"/inquiries", url.Values{"body": {"対象機種を教えてください。"}}); a.status != http.StatusSeeOther {
			t.Fatalf("ask: %d\n%s", a.status, a.body)
		}
		mustHave(t, nisc.get(path), 200, "対象機種を教えてください。", fmt.Sprintf(`id="reply-form-%d"`, w.meti))
		if a := nisc.post(fmt.Sprintf("%s/inquiries/%d/reply", path, w.meti), url.Values{"body": {"型番は別途連絡します。"}}); a.status != http.StatusSeeOther {
			t.Fatalf("reply: %d\n%s", a.status, a.body)
		}
		mustHave(t, meti.get(path), 200, "対象機種を教えてください。", "型番は別途連絡します。")
		for _, b := range []*browser{rep, sec} {
			if a := b.get(path); strings.Contains(a.body, "対象機種") || strings.Contains(a.body, "型番は別途") {
				t.Fatal("an inquiry is visible outside NISC and the ministry")
			}
		}
		mustHave(t, rep.post(path+"/inquiries", url.Values{"body": {"質問"}}), http.StatusNotFound)

		// Feedback: the operator answers; the issuer sees every answer.
		mustHave(t, rep.post(path+"/feedback", url.Values{"answer": {"bogus"}}), http.StatusUnprocessableEntity, `id="feedback-answer-error"`)
		if a := rep.post(path+"/feedback", url.Values{"answer": {"seen_here"}, "comment": {"当社でも同様の通信を確認"}}); a.status != http.StatusSeeOther {
			t.Fatalf("feedback: %d\n%s", a.status, a.body)
		}
		mustHave(t, nisc.get(path+"/delivery"), 200, "当社でも同様の通信を確認", "同様の事象を自組織でも確認した")
		mustHave(t, nisc.get(path), 200, `id="feedback-counts"`)

		// English pages are English.
		meti.get("/lang/en?next=" + path)
		mustHave(t, meti.get(path), 200, "Advisory form", "Send to every CEPTOAR of my sectors", "AMBER: the sectors concerned, need to know", "Inquiries")
		mustHave(t, meti.get("/advisories"), 200, "Advisories", "Sharing range")
	})
}

// An AMBER electricity advisory does not exist for a gas operator: every
// page about it answers exactly like a missing one, and nothing is done.
func TestAdvisoryHiddenLikeMissing(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		w := newAdvWorld(t, db)
		nisc := w.signInAs(analyst)
		id := w.publish(nisc)
		missing := id + 1000
		gas := w.signInAs(gasStaff)
		if a := gas.get("/advisories"); strings.Contains(a.body, fmt.Sprintf(`id="advisory-%d"`, id)) {
			t.Fatal("a gas operator lists the advisory")
		}
		for _, sub := range []string{"", "/print", "/delivery"} {
			sameAsMissing(t, gas, fmt.Sprintf("/advisories/%d%s", id, sub), fmt.Sprintf("/advisories/%d%s", missing, sub))
		}
		for _, action := range []string{"/ack", "/feedback", "/inquiries", "/follow-up"} {
			h := gas.post(fmt.Sprintf("/advisories/%d%s", id, action), url.Values{"answer": {"useful"}, "body": {"x"}})
			m := gas.post(fmt.Sprintf("/advisories/%d%s", missing, action), url.Values{"answer": {"useful"}, "body": {"x"}})
			if h.status != http.StatusNotFound || m.status != http.StatusNotFound {
				t.Fatalf("POST %s: %d (missing: %d)", action, h.status, m.status)
			}
		}
		mustHave(t, gas.post(fmt.Sprintf("/advisories/%d/forward", id), url.Values{"to": {"members"}}), http.StatusNotFound)
		if n := w.stageCount(id, "operator"); n != 0 {
			t.Fatalf("%d operator deliveries after a hidden forward", n)
		}
		// NISC's own tools stay with NISC.
		mustHave(t, gas.get("/advisories/new"), http.StatusNotFound)
		mustHave(t, w.signInAs(liaison).post(fmt.Sprintf("/advisories/%d/follow-up", id), nil), http.StatusNotFound)
	})
}
