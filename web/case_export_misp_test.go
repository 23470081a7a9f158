package web_test

import (
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/demo"
	"kyoyu/internal/testkit"
	"kyoyu/misp"
	"kyoyu/store"
)

// The case page links its MISP export, which downloads the case as the
// person may see it (an anonymised operator by its label), with the
// distribution and tag of its range; to others it is not found.
func TestCaseMISPDownload(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		w := newCaseWorld(t, db)
		id, number := w.operatorCase(kyoyu.RouteCEPTOAR, caseSpec{tlp: "amber", importance: "warning", event: "intrusion", sector: "electricity",
			description: "監視サーバから hxxp://evil[.]example[.]net/x への通信を確認した。", outlook: "investigating", causes: []string{"suspicious_email"}})
		b := w.signIn(analyst, demo.Password)
		mustHave(t, b.get(caseURL(id, "")), 200, `id="misp-link"`, `id="stix-link"`)
		a := b.get(caseURL(id, "/misp"))
		if a.status != 200 || !strings.Contains(a.header.Get("Content-Disposition"), number+".misp.json") {
			t.Fatalf("download: %d %v", a.status, a.header)
		}
		evs, err := misp.Parse([]byte(a.body), misp.Limits{})
		if err != nil || len(evs) != 1 {
			t.Fatalf("not a MISP event: %v\n%s", err, a.body)
		}
		ev := evs[0]
		if *ev.Distribution != 0 || ev.Tags[0].Name != "tlp:amber" || ev.ThreatLevelID != 1 || strings.Contains(a.body, "東和") {
			t.Errorf("download:\n%s", a.body)
		}
		found := false
		for _, at := range ev.Attributes {
			found = found || at.Type == "url" && at.Value == "http://evil.example.net/x" && bool(at.ToIDs)
		}
		if !found {
			t.Errorf("no url attribute:\n%s", a.body)
		}
		other := w.signIn(gasStaff, demo.Password)
		sameAsMissing(t, other, caseURL(id, "/misp"), caseURL(id+100000, "/misp"))
		// The visitor is sent to sign in.
		if a := w.browser().get(caseURL(id, "/misp")); a.status != 303 || !strings.HasPrefix(a.header.Get("Location"), "/signin") {
			t.Errorf("anonymous download: %d %q", a.status, a.header.Get("Location"))
		}
	})
}
