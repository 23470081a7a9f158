package web_test

import (
	"net/http"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

// The audit view goes through the sharing-range rule: NISC may read the
// whole log, but not who wrote an anonymised report — the operator's own
// entries about that case would name the source.
func TestAuditViewHidesAnonymisedSources(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		w := newCaseWorld(t, db)
		id, _ := w.operatorCase(kyoyu.RouteCEPTOAR, caseSpec{tlp: "green", sector: "electricity", description: "匿名化の監査"})
		b := w.signIn(analyst, "kyoyu-demo-2026")
		a := b.get("/audit?action=case.create")
		if a.status != http.StatusOK {
			t.Fatalf("audit page: %d", a.status)
		}
		if strings.Contains(a.body, "東和") || strings.Contains(a.body, "reporter@operator") {
			t.Errorf("NISC's audit view names the source of anonymised case %d:\n%s", id, a.body)
		}
		// The secretariat, which may know the source, sees its own entries about it.
		s := w.signIn(secretariat, "kyoyu-demo-2026")
		if a := s.get("/audit?action=report.submit"); a.status != http.StatusOK || !strings.Contains(a.body, "report.submit") {
			t.Errorf("secretariat's own entries: %d", a.status)
		}
	})
}
