package web_test

import (
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/demo"
	"kyoyu/internal/testkit"
	"kyoyu/stix"
	"kyoyu/stix/stixtest"
	"kyoyu/store"
)

// The export link downloads the case as a STIX bundle that passes the
// OASIS schemas, as the person may see it; to others it is not found.
func TestCaseSTIXDownload(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		w := newCaseWorld(t, db)
		v := stixtest.New(t)
		id, number := w.operatorCase(kyoyu.RouteCEPTOAR, caseSpec{tlp: "amber", importance: "warning", event: "intrusion", sector: "electricity",
			description: "監視サーバから hxxp://evil[.]example[.]net/x への通信を確認した。", outlook: "investigating", causes: []string{"suspicious_email"}})
		b := w.signIn(analyst, demo.Password)
		for q, marking := range map[string]string{"": stix.TLP1Amber, "?tlp=2": stix.TLP2Amber} {
			a := b.get(caseURL(id, "/stix", q))
			if a.status != 200 || a.header.Get("Content-Type") != stix.MediaType ||
				!strings.Contains(a.header.Get("Content-Disposition"), number+".stix.json") {
				t.Fatalf("download%s: %d %v", q, a.status, a.header)
			}
			if err := v.Bundle([]byte(a.body)); err != nil {
				t.Fatalf("download%s does not validate: %v", q, err)
			}
			if !strings.Contains(a.body, marking) || !strings.Contains(a.body, "http://evil.example.net/x") || strings.Contains(a.body, "東和") {
				t.Errorf("download%s:\n%s", q, a.body)
			}
		}
		other := w.signIn(gasStaff, demo.Password)
		sameAsMissing(t, other, caseURL(id, "/stix"), caseURL(id+100000, "/stix"))
	})
}
