package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/demo"
	"kyoyu/internal/testkit"
	"kyoyu/policy"
	"kyoyu/store"
	"kyoyu/web"
)

// The form as a browser would send it: the draft form's inputs, checked
// boxes and radios, textareas and selected options, in document order.
var (
	reDraftForm = regexp.MustCompile(`(?s)<form[^>]*id="draft-form"[^>]*>(.*?)</form>`)
	reInput     = regexp.MustCompile(`<input\b[^>]*>`)
	reTextarea  = regexp.MustCompile(`(?s)<textarea\b([^>]*)>(.*?)</textarea>`)
	reSelect    = regexp.MustCompile(`(?s)<select\b([^>]*)>(.*?)</select>`)
	reOption    = regexp.MustCompile(`<option\b[^>]*>`)
	reAttr      = regexp.MustCompile(`\s([a-zA-Z_\-]+)(?:="([^"]*)")?`)
	reDraftLoc  = regexp.MustCompile(`^/reports/drafts/(\d+)$`)
	reTake      = regexp.MustCompile(`id="take-(\d+)"`)
)

func attrs(tag string) map[string]string {
	out := map[string]string{}
	for _, m := range reAttr.FindAllStringSubmatch(tag, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

func scrapeDraft(t *testing.T, body string) url.Values {
	t.Helper()
	m := reDraftForm.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no draft form in:\n%s", body)
	}
	form := m[1]
	v := url.Values{}
	for _, tag := range reInput.FindAllString(form, -1) {
		a := attrs(tag)
		_, checked := a["checked"]
		_, disabled := a["disabled"]
		if a["name"] == "" || disabled || ((a["type"] == "radio" || a["type"] == "checkbox") && !checked) {
			continue
		}
		v.Add(a["name"], a["value"])
	}
	for _, m := range reTextarea.FindAllStringSubmatch(form, -1) {
		v.Add(attrs(m[1])["name"], html.UnescapeString(m[2]))
	}
	for _, m := range reSelect.FindAllStringSubmatch(form, -1) {
		name := attrs(m[1])["name"]
		for _, tag := range reOption.FindAllString(m[2], -1) {
			if a := attrs(tag); hasKey(a, "selected") {
				v.Add(name, a["value"])
			}
		}
	}
	return v
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

func (s *site) viewer(email string) policy.Viewer {
	s.t.Helper()
	p := s.person(email)
	o, err := s.db.Organisation(context.Background(), p.OrganisationID)
	if err != nil {
		s.t.Fatal(err)
	}
	return policy.ViewerOf(p, o)
}

// draftOf reads a draft as its organisation sees it.
func (s *site) draftOf(email string, id int64) *kyoyu.ReportVersion {
	s.t.Helper()
	v, err := s.db.Version(context.Background(), s.viewer(email), id)
	if err != nil {
		s.t.Fatalf("version %d: %v", id, err)
	}
	return v
}

// startReport goes through /reports/new and returns the new draft's id.
func startReport(t *testing.T, b *browser, form url.Values) int64 {
	t.Helper()
	mustHave(t, b.get("/reports/new"), 200, `id="start-form"`)
	a := b.post("/reports/new", form)
	m := reDraftLoc.FindStringSubmatch(a.header.Get("Location"))
	if a.status != http.StatusSeeOther || m == nil {
		t.Fatalf("start: %d %q\n%s", a.status, a.header.Get("Location"), a.body)
	}
	return atoi(m[1])
}

func draftPath(id int64) string { return fmt.Sprintf("/reports/drafts/%d", id) }

// openDraft shows the draft page and returns what its form would send.
func openDraft(t *testing.T, b *browser, id int64, parts ...string) url.Values {
	t.Helper()
	a := b.get(draftPath(id))
	mustHave(t, a, 200, append([]string{`id="draft-form"`}, parts...)...)
	return scrapeDraft(t, a.body)
}

func postDraft(b *browser, id int64, v url.Values, action string) answer {
	b.t.Helper()
	v = cloneValues(v)
	v.Set("action", action)
	return b.post(draftPath(id), v)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// fillReport types a first report into the form's values.
func fillReport(v url.Values, tlp, description string) {
	v.Set("tlp", tlp)
	v.Set("importance", "warning")
	v.Set("event_class", "intrusion")
	v["causes"] = []string{"suspicious_email", "vulnerability"}
	v.Set("sector", "electricity")
	v.Set("discovered_at", "2025-11-20T09:30")
	v.Set("occurred_at", "2025-11-20T08:00")
	v.Set("affected_system", "制御系ネットワークの監視サーバ")
	v.Set("description", description)
	v.Set("system_status", "partial")
	v.Set("service_level_deviation", "no")
	v.Set("impact.users_affected", "120")
	v.Set("outlook", "investigating")
	v.Set("reporter.phone", "03-1234-5678")
	v["timeline_at"] = []string{"11/20 08:00", "11/20 09:30", ""}
	v["timeline_event"] = []string{"不審な通信を検知", "侵入を確認し遮断", ""}
}

func mustRedirect(t *testing.T, a answer, want string) {
	t.Helper()
	if a.status != http.StatusSeeOther || a.header.Get("Location") != want {
		t.Fatalf("got %d %q, want a redirect to %q\n%s", a.status, a.header.Get("Location"), want, a.body)
	}
}

// takeUp takes the only report waiting for the browser's organisation.
func takeUp(t *testing.T, b *browser, parts ...string) int64 {
	t.Helper()
	a := b.get("/reports/incoming")
	mustHave(t, a, 200, append([]string{`id="incoming"`}, parts...)...)
	ids := reTake.FindAllStringSubmatch(a.body, -1)
	if len(ids) != 1 {
		t.Fatalf("%d reports waiting, want 1", len(ids))
	}
	a = b.post("/reports/incoming/"+ids[0][1]+"/take", nil)
	m := reDraftLoc.FindStringSubmatch(a.header.Get("Location"))
	if a.status != http.StatusSeeOther || m == nil {
		t.Fatalf("take up: %d %q", a.status, a.header.Get("Location"))
	}
	return atoi(m[1])
}

func TestReportThroughMinistryNarrowed(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newSite(t, db)
		rep := s.signIn(reporter, demo.Password)
		id := startReport(t, rep, url.Values{"route": {"ministry"}})
		v := openDraft(t, rep, id, "第1報", "未採番", "直接所管省庁へ", `src="/static/report_form.js"`, "Red = 宛先限り",
			"NISC重要インフラ防護担当（※1）限り", "予兆・ヒヤリハット", "上記につながる事象", "ユーザID等の誤り", "事象継続中（続報あり）")
		if n := len(v["timeline_at"]); n != 3 {
			t.Fatalf("%d timeline rows on a new draft, want 3 spare", n)
		}
		if v.Get("reporter.organisation") != "東和電力株式会社" || v.Get("reporter.name") != "東和 報告者" {
			t.Fatalf("sender block not prefilled: %v", v)
		}
		fillReport(v, "green", "監視サーバに外部から侵入された形跡を確認した。")
		// Saving shows the service-level advice for the figures and keeps the rows typed.
		a := postDraft(rep, id, v, "save")
		mustHave(t, a, 200, "下書きを保存しました", `id="service-level-suggestion"`, "判断に必要な数値が入力されていません")
		if v2 := scrapeDraft(t, a.body); len(v2["timeline_at"]) != 5 || v2["timeline_event"][1] != "侵入を確認し遮断" {
			t.Fatalf("timeline after save: %v", v2["timeline_event"])
		}
		caseID := s.draftOf(reporter, id).CaseID
		mustRedirect(t, postDraft(rep, id, v, "submit"), fmt.Sprintf("/cases/%d?flash=report_form.sent", caseID))
		if got := s.draftOf(reporter, id); got.Status != kyoyu.VersionSubmitted || len(got.Form.Timeline) != 2 {
			t.Fatalf("after submit: %+v", got)
		}
		mustHave(t, rep.get("/reports/drafts"), 200, `id="no-drafts"`)

		// The ministry takes it up, may not widen, narrows to AMBER.
		lia := s.signIn(liaison, demo.Password)
		mid := takeUp(t, lia, "未採番", "第1報", "東和電力株式会社", "受け取って作業する")
		v = openDraft(t, lia, mid, `id="narrow-only"`, "経済産業省", "NISC へ送信")
		if v.Get("description") != "監視サーバに外部から侵入された形跡を確認した。" {
			t.Fatalf("the ministry's draft lost the text: %v", v)
		}
		v.Set("reporter.phone", "03-3501-1511")
		v.Set("tlp", "white")
		a = postDraft(lia, mid, v, "submit")
		mustHave(t, a, http.StatusUnprocessableEntity, `id="tlp-error"`, "広げることはできません", `id="problems"`)
		if s.draftOf(liaison, mid).Status != kyoyu.VersionDraft {
			t.Fatal("a widened report was sent")
		}
		v.Set("tlp", "amber")
		v.Set("supplementary", "所管省庁にて確認済み")
		mustRedirect(t, postDraft(lia, mid, v, "submit"), fmt.Sprintf("/cases/%d?flash=report_form.sent_to_nisc", caseID))
		c, _, err := db.Case(ctx, s.viewer(analyst), caseID)
		if err != nil || c.TLP != "amber" || c.CaseNumber == "" || c.Status != kyoyu.CaseAtNISC {
			t.Fatalf("NISC sees %+v %v", c, err)
		}
		mustHave(t, s.signIn(analyst, demo.Password).get("/reports/incoming"), 200, `id="no-incoming"`)

		// Follow-up from the case page: 第2報, and again leads to the same draft.
		a = rep.post(fmt.Sprintf("/cases/%d/follow-up", caseID), nil)
		m := reDraftLoc.FindStringSubmatch(a.header.Get("Location"))
		if a.status != http.StatusSeeOther || m == nil {
			t.Fatalf("follow-up: %d %q", a.status, a.header.Get("Location"))
		}
		openDraft(t, rep, atoi(m[1]), "第2報", c.CaseNumber)
		mustRedirect(t, rep.post(fmt.Sprintf("/cases/%d/follow-up", caseID), nil), draftPath(atoi(m[1]))+"?flash=report_form.draft_already_open")
		mustHave(t, rep.get("/reports/drafts"), 200, `id="draft-`+m[1]+`"`, c.CaseNumber, "第2報")
		// Someone else's case: not found.
		mustHave(t, lia.post(fmt.Sprintf("/cases/%d/follow-up", caseID), nil), http.StatusNotFound)
	})
}

func TestReportThroughCEPTOARAnonymised(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newSite(t, db)
		rep := s.signIn(reporter, demo.Password)
		id := startReport(t, rep, url.Values{"route": {"ceptoar"}})
		v := openDraft(t, rep, id, "セプター事務局経由", "セプター事務局へ送信")
		fillReport(v, "green", "東和電力の監視サーバに外部から侵入された形跡を確認した。担当 reporter@operator.demo.kyoyu.jp")
		caseID := s.draftOf(reporter, id).CaseID
		mustRedirect(t, postDraft(rep, id, v, "submit"), fmt.Sprintf("/cases/%d?flash=report_form.sent", caseID))

		lia := s.signIn(liaison, demo.Password)
		mustHave(t, lia.get("/reports/incoming"), 200, `id="no-incoming"`)

		// The secretariat's draft is pre-anonymised; putting the name back is flagged and blocks sending.
		sec := s.signIn(secretariat, demo.Password)
		sid := takeUp(t, sec, "東和電力株式会社")
		a := sec.get(draftPath(sid))
		mustHave(t, a, 200, `id="anonymise"`, `id="anon-clear"`, "<mark>")
		v = scrapeDraft(t, a.body)
		label := v.Get("operator_name")
		if !strings.HasPrefix(label, "電力事業者") || strings.Contains(v.Get("description"), "東和") {
			t.Fatalf("label %q, description %q", label, v.Get("description"))
		}
		v.Set("description", "東和電力の監視サーバに外部から侵入された形跡を確認した。")
		a = postDraft(sec, sid, v, "save")
		mustHave(t, a, 200, `id="anon-blocking"`, `<mark class="source">東和電力</mark>`, "事業者を特定（要削除）")
		a = postDraft(sec, sid, v, "submit")
		mustHave(t, a, http.StatusUnprocessableEntity, `id="description-error"`, "事業者を特定できる情報が残っています",
			"東和電力の監視サーバに外部から侵入された形跡を確認した。")
		if s.draftOf(secretariat, sid).Status != kyoyu.VersionDraft {
			t.Fatal("a report naming the operator left the secretariat")
		}
		v.Set("description", label+"の監視サーバに外部から侵入された形跡を確認した。")
		mustRedirect(t, postDraft(sec, sid, v, "submit"), fmt.Sprintf("/cases/%d?flash=report_form.sent", caseID))

		// The ministry sees the label only, everywhere.
		mid := takeUp(t, lia, label, "電気事業連合会")
		v = openDraft(t, lia, mid, label, `id="narrow-only"`)
		mustRedirect(t, postDraft(lia, mid, v, "submit"), fmt.Sprintf("/cases/%d?flash=report_form.sent_to_nisc", caseID))
		nisc := s.signIn(analyst, demo.Password)
		for who, b := range map[string]*browser{liaison: lia, analyst: nisc} {
			pages := []string{"/", "/reports", "/reports/incoming", "/reports/drafts", "/cases", fmt.Sprintf("/cases/%d", caseID), draftPath(mid)}
			for _, p := range pages {
				if a := b.get(p); a.status == 200 && strings.Contains(a.body, "東和電力") {
					t.Fatalf("%s sees the operator's name on %s", who, p)
				}
			}
			c, _, err := db.Case(ctx, s.viewer(who), caseID)
			if err != nil || c.Operator != label {
				t.Fatalf("%s sees operator %q (%v)", who, c.Operator, err)
			}
		}
	})
}

func TestReportOriginatedByMinistryByPhone(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newSite(t, db)
		lia := s.signIn(liaison, demo.Password)
		mustHave(t, lia.get("/reports/new"), 200, `id="channel-phone"`, "東和電力株式会社", "受付者")
		op, err := db.OrganisationByCode(ctx, "demo_electricity_1")
		if err != nil {
			t.Fatal(err)
		}
		// Who took the call is required.
		a := lia.post("/reports/new", url.Values{"route": {"ministry_origin"}, "channel": {"phone"}, "operator_org_id": {itoa(op.ID)}})
		mustHave(t, a, http.StatusUnprocessableEntity, `id="taken_by-error"`)
		id := startReport(t, lia, url.Values{"route": {"ministry_origin"}, "channel": {"phone"}, "taken_by": {"経産 連絡官"},
			"operator_org_id": {itoa(op.ID)}})
		v := openDraft(t, lia, id, "所管省庁が起票", "電話", "経産 連絡官", "NISC へ送信")
		if v.Get("operator_name") != "東和電力株式会社" || v.Get("sector") != "electricity" {
			t.Fatalf("operator %q sector %q", v.Get("operator_name"), v.Get("sector"))
		}
		fillReport(v, "red", "電話にて、監視サーバへの侵入の連絡を受けた。")
		v.Set("reporter.phone", "03-3501-1511")
		caseID := s.draftOf(liaison, id).CaseID
		mustRedirect(t, postDraft(lia, id, v, "submit"), fmt.Sprintf("/cases/%d?flash=report_form.sent_to_nisc", caseID))
		c, _, err := db.Case(ctx, s.viewer(analyst), caseID)
		if err != nil || c.Channel != "phone" || c.TakenBy != "経産 連絡官" || c.TLP != "red" || c.CaseNumber == "" {
			t.Fatalf("NISC sees %+v %v", c, err)
		}
		// Operators cannot originate as a ministry, nor may a NISC analyst start a report.
		rep := s.signIn(reporter, demo.Password)
		mustHave(t, rep.post("/reports/new", url.Values{"route": {"nowhere"}}), http.StatusUnprocessableEntity, `id="route-error"`)
		nisc := s.signIn(analyst, demo.Password)
		mustHave(t, nisc.get("/reports/new"), 200, `id="cannot-report"`)
		mustHave(t, nisc.post("/reports/new", url.Values{"route": {"ministry_origin"}}), http.StatusNotFound)
	})
}

func TestReportFormBadInput(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		rep := s.signIn(reporter, demo.Password)
		id := startReport(t, rep, url.Values{"route": {"ministry"}})
		v := openDraft(t, rep, id)

		// An unknown event class: the error at its field, everything else kept.
		v.Set("event_class", "meteor_strike")
		v.Set("description", "監視サーバの異常を確認した。")
		v.Set("affected_system", "制御系の監視サーバ")
		a := postDraft(rep, id, v, "save")
		mustHave(t, a, 200, `id="event_class-error"`, "選択肢にない値です", "監視サーバの異常を確認した。", "制御系の監視サーバ")
		if f := s.draftOf(reporter, id).Form; f.Description != "監視サーバの異常を確認した。" || f.AffectedSystem != "制御系の監視サーバ" || f.EventClass != "meteor_strike" {
			t.Fatalf("draft after save: %+v", f)
		}

		// Occurred after discovered: the error at 発生日時, also on submit.
		fillReport(v, "green", "監視サーバの異常を確認した。")
		v.Set("occurred_at", "2025-11-20T10:00")
		mustHave(t, postDraft(rep, id, v, "save"), 200, `id="occurred_at-error"`, "発生日時が判明日時より後になっています")
		a = postDraft(rep, id, v, "submit")
		mustHave(t, a, http.StatusUnprocessableEntity, `id="occurred_at-error"`, "発生日時が判明日時より後になっています", `value="2025-11-20T10:00"`)
		if s.draftOf(reporter, id).Status != kyoyu.VersionDraft {
			t.Fatal("an invalid report was sent")
		}
		// A date that cannot be read is named, kept on the page and never sent as blank.
		v.Set("occurred_at", "きのう")
		mustHave(t, postDraft(rep, id, v, "submit"), http.StatusUnprocessableEntity, `id="occurred_at-error"`, "日時の形式が正しくありません", `value="きのう"`)
		v.Set("occurred_at", "2025-11-20T08:00")

		// Too long: refused at the field, the last save kept, the typed text still on the page.
		long := strings.Repeat("長", 20001)
		v.Set("description", long)
		a = postDraft(rep, id, v, "save")
		mustHave(t, a, http.StatusUnprocessableEntity, `id="description-error"`, "長すぎます", long)
		if f := s.draftOf(reporter, id).Form; f.Description != "監視サーバの異常を確認した。" {
			t.Fatalf("the saved draft changed: %d characters", len([]rune(f.Description)))
		}

		// Without the form token nothing happens.
		bad := cloneValues(v)
		bad.Set("description", "書き換え")
		bad.Set("csrf_token", "")
		mustHave(t, postDraft(rep, id, bad, "save"), http.StatusForbidden)
		if s.draftOf(reporter, id).Form.Description == "書き換え" {
			t.Fatal("a POST without its token changed the draft")
		}

		// Autosave answers JSON and stores the text; a refusal keeps the last save.
		v.Set("description", "自動保存された本文")
		status, got := autosave(t, rep, id, v)
		if status != 200 || got.SavedAt == "" || !strings.HasPrefix(got.Message, "下書きを保存しました ") || got.Problems == nil {
			t.Fatalf("autosave: %d %+v", status, got)
		}
		if f := s.draftOf(reporter, id).Form; f.Description != "自動保存された本文" {
			t.Fatalf("autosave did not store: %q", f.Description)
		}
		v.Set("description", long)
		status, got = autosave(t, rep, id, v)
		if status != http.StatusUnprocessableEntity || got.Error == "" || !strings.Contains(got.Problems["description"], "長すぎます") {
			t.Fatalf("oversized autosave: %d %+v", status, got)
		}
		if f := s.draftOf(reporter, id).Form; f.Description != "自動保存された本文" {
			t.Fatal("a refused autosave changed the draft")
		}

		// Another organisation's draft does not exist for it.
		lia := s.signIn(liaison, demo.Password)
		mustHave(t, lia.get(draftPath(id)), http.StatusNotFound)
		if status, _ := autosave(t, lia, id, v); status != http.StatusNotFound {
			t.Fatalf("foreign autosave: %d", status)
		}
		mustHave(t, lia.get("/reports/drafts/x"), http.StatusNotFound)

		// English.
		rep.get("/lang/en?next=/")
		a = rep.get(draftPath(id))
		mustHave(t, a, 200, "Sharing range (TLP)", "Event class", "Save draft", "Send to the ministry", "Not yet numbered", "NISC critical-infrastructure protection staff only.")
		if strings.Contains(a.body, "情報共有範囲（TLP）") {
			t.Fatal("the English page shows Japanese labels")
		}
	})
}

type autosaveJSON struct {
	SavedAt  string            `json:"saved_at"`
	Message  string            `json:"message"`
	Error    string            `json:"error"`
	Problems map[string]string `json:"problems"`
}

func autosave(t *testing.T, b *browser, id int64, v url.Values) (int, autosaveJSON) {
	t.Helper()
	v = cloneValues(v)
	v.Set("csrf_token", b.csrf)
	req, _ := http.NewRequest(http.MethodPost, b.base+draftPath(id)+"/autosave", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Requested-With", "fetch")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("autosave answered %s", ct)
	}
	var out autosaveJSON
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// Every problem the reporting flow can name has words in both languages.
func TestReportProblemsAreTranslated(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		newSite(t, db) // loads the locales
		codes := []string{"required", "invalid_choice", "phone_or_email", "after_discovered", "in_future", "too_old", "too_long",
			"too_many", "widens", "lifts_exclusion", "identifies_source", "none_with_details", "negative", "internal",
			"invalid_datetime", "invalid_number", "unknown_operator", "not_ceptoar_member"}
		for _, lang := range web.Languages {
			for _, c := range codes {
				if k := "field_error." + c; web.T(lang, k) == k {
					t.Errorf("%s: no words for %s", lang, k)
				}
			}
		}
	})
}
