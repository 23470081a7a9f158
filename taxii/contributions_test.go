package taxii_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"kyoyu/internal/testkit"
	"kyoyu/stix"
	"kyoyu/store"
	"kyoyu/taxii"
)

// TestTAXIIContributions: who may POST to the contributions collection,
// media types, the 202 and its status resource (its poster's alone), an
// unmarked envelope's failures, a repeated envelope stored once.
func TestTAXIIContributions(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := start(t, db)
		cs := e.collections(towa)
		elec := collectionByAlias(t, cs, "sector-electricity").ID
		contrib := collectionByAlias(t, cs, taxii.AliasContributions).ID
		ind := func(id, addr string, marking string) map[string]any {
			return map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "created": "2026-01-01T00:00:00.000Z",
				"modified": "2026-01-01T00:00:00.000Z", "pattern": "[ipv4-addr:value = '" + addr + "']", "pattern_type": "stix",
				"valid_from": "2026-01-01T00:00:00Z", "object_marking_refs": []string{marking}}
		}
		greenEnv, _ := json.Marshal(map[string]any{"objects": []any{
			ind("indicator--11111111-1111-4111-8111-111111111111", "198.51.100.1", stix.TLP1Green),
			ind("indicator--22222222-2222-4222-8222-222222222222", "198.51.100.2", stix.TLP1Green)}})
		amberEnv, _ := json.Marshal(map[string]any{"objects": []any{
			ind("indicator--33333333-3333-4333-8333-333333333333", "198.51.100.3", stix.TLP2Amber)}})
		unmarked, _ := json.Marshal(map[string]any{"objects": []any{map[string]any{"type": "indicator", "spec_version": "2.1",
			"id": "indicator--44444444-4444-4444-8444-444444444444", "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
			"pattern": "[ipv4-addr:value = '198.51.100.4']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}}})
		objectsPath := "/taxii2/api/collections/" + contrib + "/objects/"
		e.must(http.StatusUnsupportedMediaType, "POST", objectsPath, jpcert, greenEnv, "Content-Type", "application/json")
		e.must(http.StatusUnsupportedMediaType, "POST", objectsPath, jpcert, greenEnv, "Content-Type", "application/taxii+json;version=2.0")
		e.must(http.StatusForbidden, "POST", objectsPath, towa, greenEnv)
		e.must(http.StatusForbidden, "POST", "/taxii2/api/collections/"+elec+"/objects/", jpcert, greenEnv)
		e.must(http.StatusBadRequest, "POST", objectsPath, jpcert, []byte(`{"objects": []}`))
		e.must(http.StatusUnauthorized, "POST", objectsPath, "", greenEnv)

		var st taxii.Status
		e.must(http.StatusAccepted, "POST", objectsPath, jpcert, greenEnv).decode(t, &st)
		if st.Status != "complete" || st.TotalCount != 2 || st.SuccessCount != 2 || st.FailureCount != 0 || st.PendingCount != 0 || len(st.Successes) != 2 {
			t.Errorf("status %+v", st)
		}
		var again taxii.Status
		e.must(http.StatusOK, "GET", "/taxii2/api/status/"+st.ID+"/", jpcert, nil).decode(t, &again)
		if again.ID != st.ID || again.SuccessCount != 2 {
			t.Errorf("status read back %+v", again)
		}
		// Only its poster reads a status.
		e.must(http.StatusNotFound, "GET", "/taxii2/api/status/"+st.ID+"/", nisc, nil)
		e.must(http.StatusNotFound, "GET", "/taxii2/api/status/no-such-status/", jpcert, nil)
		e.must(http.StatusAccepted, "POST", objectsPath, jpcert, amberEnv)
		var failed taxii.Status
		e.must(http.StatusAccepted, "POST", objectsPath, jpcert, unmarked).decode(t, &failed)
		if failed.FailureCount != 1 || failed.SuccessCount != 0 || len(failed.Failures) != 1 || !strings.Contains(failed.Failures[0].Message, "TLP") {
			t.Errorf("an unmarked envelope: %+v", failed)
		}
		// Posting the same objects again stores nothing twice.
		var dup taxii.Status
		e.must(http.StatusAccepted, "POST", objectsPath, jpcert, greenEnv).decode(t, &dup)
		if dup.SuccessCount != 2 || dup.Successes[0].Message == "" {
			t.Errorf("a repeated envelope: %+v", dup)
		}
		if got := e.pageAll(jpcert, contrib, 1, nil); len(got) != 3 {
			t.Errorf("the contributor sees %d contributed objects, want 3: %+v", len(got), got)
		}
		e.checkViews(t)
	})
}
