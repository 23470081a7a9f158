package web_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/demo"
	"kyoyu/internal/testkit"
	"kyoyu/report"
	"kyoyu/store"
)

var consentAnswerForm = regexp.MustCompile(`id="consent-answer-(\d+)"`)

// narrowedCase is 東和電力's GREEN report, which the ministry narrows to
// AMBER as it forwards it to NISC.
func (w *caseWorld) narrowedCase() int64 {
	w.t.Helper()
	ctx := context.Background()
	f := w.form(caseSpec{tlp: "green", importance: "warning", event: "intrusion", sector: "electricity",
		description: "監視サーバへの侵入を確認した。", outlook: "investigating", causes: []string{"vulnerability"}})
	f.Reporter = kyoyu.Contact{Organisation: "東和電力株式会社", Name: "東和 報告者", Phone: "03-1234-5678"}
	c, draft, err := w.svc.Start(ctx, w.reporter, "192.0.2.1", report.StartInput{Route: kyoyu.RouteMinistry, Form: f})
	if err != nil {
		w.t.Fatal(err)
	}
	ver, _, err := w.svc.Submit(ctx, w.reporter, "192.0.2.1", draft.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	mine, err := w.svc.TakeUp(ctx, w.liaison, "192.0.2.2", ver.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	mf := mine.Form
	mf.TLP = "amber"
	if _, err := w.svc.SaveDraft(ctx, w.liaison, "192.0.2.2", mine.ID, mf); err != nil {
		w.t.Fatal(err)
	}
	if _, _, err := w.svc.Submit(ctx, w.liaison, "192.0.2.2", mine.ID); err != nil {
		w.t.Fatal(err)
	}
	return c.ID
}

func TestConsentPages(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		w := newCaseWorld(t, db)
		id := w.narrowedCase()
		ministry, op, nisc, gas := w.signIn(liaison, demo.Password), w.signIn(reporter, demo.Password), w.signIn(analyst, demo.Password), w.signIn(gasStaff, demo.Password)

		// The ministry, a holder, is offered the request form; the
		// originator and NISC's partner choice are not shown to it.
		page := ministry.get(caseURL(id))
		mustHave(t, page, 200, `id="consent"`, "共有範囲の拡大を依頼", fmt.Sprintf(`action="/cases/%d/consent"`, id), `value="green"`, `id="no-partners"`)
		if strings.Contains(page.body, "partners-form") {
			t.Error("the ministry is offered NISC's partner choice")
		}
		mustHave(t, gas.get(caseURL(id)), 404)
		sameAsMissing(t, gas, caseURL(id, "/consent"), caseURL(999999, "/consent"))
		mustHave(t, gas.post(caseURL(id, "/consent"), url.Values{"to_tlp": {"green"}, "reason": {"x"}}), 404)

		// Problems are told on the form, which keeps what was typed.
		mustHave(t, ministry.post(caseURL(id, "/consent"), url.Values{"to_tlp": {"amber"}, "reason": {"理由の下書き"}}), 422,
			"現在の共有範囲より広がる内容を選んでください", "理由の下書き")
		mustHave(t, ministry.post(caseURL(id, "/consent"), url.Values{"to_tlp": {"green"}}), 422, "入力してください")
		mustRedirect(t, ministry.post(caseURL(id, "/consent"), url.Values{"to_tlp": {"green"}, "reason": {"他分野にも共有したい"}}),
			caseURL(id, "?flash=consent.requested#consent"))
		mustHave(t, ministry.post(caseURL(id, "/consent"), url.Values{"to_tlp": {"green"}, "reason": {"もう一度"}}), 409,
			"回答待ちの依頼がすでにあります")
		mustHave(t, ministry.get(caseURL(id, "?flash=consent.requested")), 200, "共有範囲の拡大を依頼しました", "他分野にも共有したい", "回答待ち")
		mustHave(t, gas.get(caseURL(id)), 404)

		// The originator answers.
		page = op.get(caseURL(id))
		mustHave(t, page, 200, `id="consent-pending"`, "他分野にも共有したい", "同意する", "同意しない")
		m := consentAnswerForm.FindStringSubmatch(page.body)
		if m == nil {
			t.Fatalf("no answer form:\n%s", page.body)
		}
		answer := caseURL(id, "/consent/", m[1])
		if strings.Contains(page.body, "consent-request-form") {
			t.Error("the originator is offered to ask itself")
		}
		for _, b := range []*browser{ministry, nisc} {
			mustHave(t, b.post(answer, url.Values{"answer": {"grant"}}), 404)
		}
		mustHave(t, gas.post(answer, url.Values{"answer": {"grant"}}), 404)
		mustHave(t, op.post(caseURL(999999, "/consent/", m[1]), url.Values{"answer": {"grant"}}), 404)
		mustRedirect(t, op.post(answer, url.Values{"answer": {"grant"}, "note": {"了承します"}}), caseURL(id, "?flash=consent.granted#consent"))
		mustHave(t, op.post(answer, url.Values{"answer": {"refuse"}}), 409, "すでに回答があります")
		mustHave(t, op.get(caseURL(id)), 200, "同意済み", "了承します")
		mustHave(t, gas.get(caseURL(id)), 200, `id="consent-tlp">GREEN`)

		// NISC engages IPA; everyone who sees the case sees it named.
		ipa, err := db.OrganisationByCode(context.Background(), "ipa")
		if err != nil {
			t.Fatal(err)
		}
		mustHave(t, nisc.get(caseURL(id)), 200, `id="partners-form"`, fmt.Sprintf(`name="partner" value="%d"`, ipa.ID))
		mustHave(t, ministry.post(caseURL(id, "/partners"), url.Values{"partner": {fmt.Sprint(ipa.ID)}}), 404)
		mustHave(t, nisc.post(caseURL(id, "/partners"), url.Values{"partner": {fmt.Sprint(w.gas.Organisation.ID)}}), 422, "選択が正しくありません")
		mustRedirect(t, nisc.post(caseURL(id, "/partners"), url.Values{"partner": {fmt.Sprint(ipa.ID)}}), caseURL(id, "?flash=consent.partners_saved#consent"))
		for _, b := range []*browser{op, ministry, gas, nisc} {
			mustHave(t, b.get(caseURL(id)), 200, `<ul id="partners"><li>`+ipa.NameJA)
		}
		mustRedirect(t, nisc.post(caseURL(id, "/partners"), nil), caseURL(id, "?flash=consent.partners_saved#consent"))
		mustHave(t, op.get(caseURL(id)), 200, `id="no-partners"`)
		mustHave(t, op.get("/notifications"), 200, "同意の依頼が届きました")
		mustHave(t, ministry.get("/notifications"), 200, "依頼に回答がありました")
		mustHave(t, ministry.get("/lang/en?next="+caseURL(id)), 303)
		mustHave(t, ministry.get(caseURL(id)), 200, "Ask to widen the sharing range", "Consented")
	})
}
