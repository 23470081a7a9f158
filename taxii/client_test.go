package taxii_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"testing"

	"kyoyu/internal/testkit"
	"kyoyu/stix"
	"kyoyu/store"
	"kyoyu/taxii"
)

// python finds the interpreter the outside client runs on. Without one the
// test is skipped, unless KYOYU_REQUIRE_TAXII_CLIENT=1 (as in CI) makes
// its absence a failure.
func python(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("KYOYU_REQUIRE_TAXII_CLIENT") == "1" {
		t.Fatal("python3 is required for the outside TAXII client (KYOYU_REQUIRE_TAXII_CLIENT=1) but is not installed")
	}
	t.Skip("no python3: the outside TAXII client is not run (set KYOYU_REQUIRE_TAXII_CLIENT=1 to require it)")
	return ""
}

// TestOutsideClient has a TAXII 2.1 client written apart from the server
// (testdata/taxii_client.py, Python's standard library, from the
// specification) walk discovery, the API root and the collections, and
// page through collections in small pages with HTTP Basic credentials;
// what it saw must be exactly what the person sees, which TestTAXII holds
// to the sharing-range rule.
func TestOutsideClient(t *testing.T) {
	py := python(t)
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := start(t, db)
		cs := e.collections(nisc)
		// Contributions under two ranges, so the people see different parts.
		contrib := "/taxii2/api/collections/" + collectionByAlias(t, cs, taxii.AliasContributions).ID + "/objects/"
		for i, who := range []struct{ email, marking string }{{jpcert, stix.TLP1Green}, {nisc, stix.TLP1Amber}} {
			var objs []any
			for j := range 5 {
				objs = append(objs, map[string]any{"type": "indicator", "spec_version": "2.1",
					"id": fmt.Sprintf("indicator--%08d-0000-4000-8000-%012d", i, j), "created": "2026-01-01T00:00:00.000Z",
					"modified": "2026-01-01T00:00:00.000Z", "pattern": fmt.Sprintf("[ipv4-addr:value = '192.0.2.%d']", 10*i+j),
					"pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z", "object_marking_refs": []string{who.marking}})
			}
			body, _ := json.Marshal(map[string]any{"objects": objs})
			e.must(http.StatusAccepted, "POST", contrib, who.email, body)
		}
		nonEmpty := 0
		for _, email := range []string{nisc, towa, mizuho, gasOp} {
			for _, alias := range []string{"sector-electricity", "sector-gas", taxii.AliasContributions} {
				c := collectionByAlias(t, cs, alias)
				want := e.pageAll(email, c.ID, 1000, nil)
				cmd := exec.Command(py, "testdata/taxii_client.py", e.ts.URL+taxii.Prefix, email, e.tokens[email], c.ID, "2")
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("client as %s on %s: %v\n%s", email, alias, err, stderr.String())
				}
				var saw struct {
					Title   string `json:"title"`
					Pages   int    `json:"pages"`
					Objects []struct {
						ID, Type, Modified string
					} `json:"objects"`
				}
				if err := json.Unmarshal(out, &saw); err != nil {
					t.Fatalf("client output %s: %v", out, err)
				}
				var got, exp []string
				for _, o := range saw.Objects {
					got = append(got, o.ID+" "+o.Modified)
				}
				for _, o := range want {
					exp = append(exp, o.ID+" "+o.Modified)
				}
				if len(exp) > 0 {
					nonEmpty++
				}
				if !slices.Equal(got, exp) || saw.Title != c.Title {
					t.Errorf("client as %s on %s saw %q (%d pages), want %q", email, alias, got, saw.Pages, exp)
				}
				if wantPages := max(1, (len(exp)+1)/2); len(exp) > 2 && saw.Pages < wantPages {
					t.Errorf("client as %s on %s: %d objects in %d pages of 2", email, alias, len(exp), saw.Pages)
				}
			}
		}
		if nonEmpty < 6 {
			t.Errorf("the client saw objects in only %d (person, collection) pairs: the test tests little", nonEmpty)
		}
	})
}
