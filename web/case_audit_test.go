package web_test

import (
	"context"
	"net/http"
	"testing"

	"kyoyu/internal/testkit"
	"kyoyu/store"
)

// Opening an AMBER case page is recorded in the audit log with who and
// from where; a GREEN one is not.
func TestCaseReadsAreAudited(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		w := newCaseWorld(t, db)
		amber, _ := w.ministryCase(caseSpec{tlp: "amber", sector: "electricity", description: "監査対象の事案"})
		green, _ := w.ministryCase(caseSpec{tlp: "green", sector: "electricity", description: "公開範囲の広い事案"})
		b := w.signIn(analyst, "kyoyu-demo-2026")
		for _, id := range []int64{amber, green} {
			if a := b.get(caseURL(id)); a.status != http.StatusOK {
				t.Fatalf("case %d: %d", id, a.status)
			}
		}
		entries, err := db.AuditEntries(context.Background(), store.AuditFilter{Action: "case.read", PersonID: w.analyst.Person.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].ObjectID != itoa(amber) || entries[0].IP == "" {
			t.Fatalf("audited reads: %+v", entries)
		}
		_ = green
	})
}
