package web_test

import (
	"fmt"
	"strings"
	"testing"

	"kyoyu/internal/testkit"
	"kyoyu/stix"
	"kyoyu/stix/stixtest"
	"kyoyu/store"
)

// The advisory page's STIX link downloads the published advisory as a
// bundle that passes the OASIS schemas, as the person may see it, named
// by its number; to others it is the page of a missing advisory.
func TestAdvisorySTIXDownload(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		w := newAdvWorld(t, db)
		v := stixtest.New(t)
		nisc := w.signInAs(analyst)
		id := w.publish(nisc)
		for _, who := range []string{analyst, liaison} {
			b := w.signInAs(who)
			path := fmt.Sprintf("/advisories/%d/stix", id)
			mustHave(t, b.get(fmt.Sprintf("/advisories/%d", id)), 200, `href="`+path+`" id="stix-link"`, `href="`+path+`?tlp=2" id="stix2-link"`)
			for q, marking := range map[string]string{"": stix.TLP1Amber, "?tlp=2": stix.TLP2Amber} {
				a := b.get(path + q)
				if a.status != 200 || a.header.Get("Content-Type") != stix.MediaType ||
					!strings.Contains(a.header.Get("Content-Disposition"), "-1.stix.json") {
					t.Fatalf("%s: download%s: %d %v", who, q, a.status, a.header)
				}
				if err := v.Bundle([]byte(a.body)); err != nil {
					t.Fatalf("download%s does not validate: %v", q, err)
				}
				if !strings.Contains(a.body, marking) || !strings.Contains(a.body, "最新の修正を適用し") ||
					strings.Contains(a.body, "東和") || strings.Contains(a.body, w.caseNumber) {
					t.Errorf("%s: download%s:\n%s", who, q, a.body)
				}
			}
		}
		gas := w.signInAs(gasStaff)
		sameAsMissing(t, gas, fmt.Sprintf("/advisories/%d/stix", id), fmt.Sprintf("/advisories/%d/stix", id+1000))
		sameAsMissing(t, nisc, fmt.Sprintf("/advisories/%d/stix?tlp=9", id), fmt.Sprintf("/advisories/%d/stix", id+1000))
	})
}
