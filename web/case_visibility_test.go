package web_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/demo"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

// An anonymised report (via the CEPTOAR) never names its operator on any
// page the ministry or NISC can open; the operator itself still sees it.
func TestCaseAnonymisedSourceNeverShown(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		w := newCaseWorld(t, db)
		id, number := w.operatorCase(kyoyu.RouteCEPTOAR, caseSpec{tlp: "green", importance: "warning", event: "intrusion", sector: "electricity",
			description: "監視サーバに外部から侵入された形跡を確認した。", outlook: "investigating", causes: []string{"suspicious_email"}})
		w.followUp(w.reporter, id, func(f *kyoyu.ReportForm) {
			f.Outlook, f.SystemStatus = "completed", "recovered"
			f.Supplementary = "東和電力にて復旧を確認した。\n再発防止策を検討中。"
		}, w.secretariat, w.liaison)
		source := w.versions(w.reporter, id)
		for _, who := range []string{liaison, analyst} {
			b := w.signIn(who, demo.Password)
			p := w.principal(who)
			vers := w.versions(p, id)
			if len(vers) < 2 {
				t.Fatalf("%s sees %d versions", who, len(vers))
			}
			pages := []string{"/reports", "/reports?f=1", "/cases", "/reports?q=" + url.QueryEscape("侵入"),
				"/reports?f=1&q=" + url.QueryEscape("復旧"), caseURL(id), "/notifications",
				caseURL(id, "/diff?from=", itoa(vers[0]), "&to=", itoa(vers[len(vers)-1]))}
			for _, v := range vers {
				pages = append(pages, caseURL(id, "/versions/", itoa(v)), caseURL(id, "/versions/", itoa(v), "/print"))
			}
			for _, path := range pages {
				a := b.get(path)
				mustHave(t, a, 200)
				if strings.Contains(a.body, "東和") {
					i := strings.Index(a.body, "東和")
					t.Fatalf("%s sees the source on %s: …%s…", who, path, a.body[max(0, i-200):min(len(a.body), i+100)])
				}
			}
			mustHave(t, b.get(caseURL(id)), 200, number, "電力事業者", "匿名化済み")
			mustHave(t, b.get("/reports?f=1&q="+url.QueryEscape("侵入")), 200, "全 1 件", number)
			mustHave(t, b.get(caseURL(id, "/diff?from=", itoa(vers[0]), "&to=", itoa(vers[len(vers)-1]))), 200,
				`id="diff-page"`, "対応完了", "再発防止策を検討中。")
			// Searching for the name finds nothing (the query itself is shown back, so only the count is checked).
			mustHave(t, b.get("/reports?f=1&q="+url.QueryEscape("東和")), 200, "全 0 件")
			// The operator's own versions are not there at all, alone or in a comparison.
			for _, v := range source {
				if slices.Contains(vers, v) {
					continue
				}
				sameAsMissing(t, b, caseURL(id, "/versions/", itoa(v)), caseURL(id, "/versions/999999"))
				sameAsMissing(t, b, caseURL(id, "/versions/", itoa(v), "/print"), caseURL(id, "/versions/999999/print"))
				sameAsMissing(t, b, caseURL(id, "/diff?from=", itoa(v), "&to=", itoa(vers[0])), caseURL(id, "/diff?from=999999&to=", itoa(vers[0])))
			}
		}
		// The operator sees its own name, and its own versions.
		op := w.signIn(reporter, demo.Password)
		mustHave(t, op.get(caseURL(id)), 200, "東和電力株式会社", number)
		mustHave(t, op.get(caseURL(id, "/versions/", itoa(source[0]))), 200, "東和電力")
	})
}

// A RED report is the sender's and the receiver's only: to an operator of
// another organisation every page about it answers like a missing one.
func TestCaseRedIsNotFoundForOthers(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		w := newCaseWorld(t, db)
		id, number := w.operatorCase(kyoyu.RouteMinistry, caseSpec{tlp: "red", importance: "warning", event: "intrusion", sector: "electricity",
			description: "制御系への侵入を確認した。", outlook: "investigating", causes: []string{"unknown"}})
		w.followUp(w.reporter, id, func(f *kyoyu.ReportForm) { f.Outlook = "completed" }, w.liaison)
		vers := w.versions(w.reporter, id)
		first, last := itoa(vers[0]), itoa(vers[len(vers)-1])
		missing := id + 100000

		other := w.signIn(gasStaff, demo.Password)
		sameAsMissing(t, other, caseURL(id), caseURL(missing))
		sameAsMissing(t, other, caseURL(id, "/versions/", first), caseURL(missing, "/versions/", first))
		sameAsMissing(t, other, caseURL(id, "/versions/", last, "/print"), caseURL(missing, "/versions/", last, "/print"))
		sameAsMissing(t, other, caseURL(id, "/diff?from=", first, "&to=", last), caseURL(missing, "/diff?from=", first, "&to=", last))
		for _, path := range []string{"/reports?f=1", "/cases", "/reports?f=1&q=" + url.QueryEscape("制御系"), "/notifications"} {
			a := other.get(path)
			mustHave(t, a, 200)
			if strings.Contains(a.body, number) || len(listed(a)) != 0 {
				t.Errorf("%s: the RED case shows to another operator", path)
			}
		}
		// The sender and the receivers see it.
		for _, who := range []string{reporter, liaison, analyst} {
			mustHave(t, w.signIn(who, demo.Password).get(caseURL(id)), 200, number, "宛先限り")
		}
		// Malformed identifiers are simply not found.
		for _, path := range []string{"/cases/abc", "/cases/0", "/cases/-1/versions/1", caseURL(id, "/versions/x"), caseURL(id, "/diff?from=a&to=b")} {
			mustHave(t, other.get(path), 404, `id="error"`)
		}
	})
}
