package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/api"
	"kyoyu/demo"
	"kyoyu/internal/testkit"
	"kyoyu/policy"
	"kyoyu/stix"
	"kyoyu/stix/stixtest"
	"kyoyu/store"
)

// isSTIXRoute: the STIX routes are reached by the tests in this file
// rather than by the reporting walk.
func isSTIXRoute(route string) bool {
	return strings.Contains(route, "/stix") && !isAdvisorySTIXRoute(route) && !isMISPRoute(route)
}

const (
	rSTIXCase    = "GET /api/v1/cases/{id}/stix"
	rSTIXImport  = "POST /api/v1/stix/bundles"
	rSTIXBundle  = "GET /api/v1/stix/bundles/{id}"
	rSTIXObjects = "GET /api/v1/stix/objects"
)

// stixClient sends requests and holds every answer to the document: a
// documented status, and a body matching the documented schema of its
// media type (JSON, or STIX JSON, which must also pass the OASIS schemas).
type stixClient struct {
	t       *testing.T
	e       *apiEnv
	v       *validator
	oasis   *stixtest.Validator
	reached map[string]bool
}

func (c *stixClient) do(token, route, target, contentType string, body []byte) answer {
	c.t.Helper()
	method, path, _ := strings.Cut(route, " ")
	b, res := c.e.do(c.t, method, target, token, contentType, body)
	what := fmt.Sprintf("%s %s (%d)", method, target, res.StatusCode)
	ptr, _, ok := c.v.response(c.t, path, strings.ToLower(method), res.StatusCode)
	if !ok {
		c.t.Fatalf("%s: status not documented\n%s", what, b)
	}
	ct := res.Header.Get("Content-Type")
	switch {
	case ct == stix.MediaType && res.StatusCode == http.StatusOK:
		c.v.validate(c.t, ptr+pointer("content", stix.MediaType, "schema"), what, b)
		if err := c.oasis.Bundle(b); err != nil {
			c.t.Errorf("%s: the bundle does not pass the OASIS schemas: %v", what, err)
		}
	case strings.HasPrefix(ct, "application/json"):
		c.v.validate(c.t, ptr+pointer("content", "application/json", "schema"), what, b)
	default:
		c.t.Errorf("%s: Content-Type %q", what, ct)
	}
	if res.StatusCode < 300 {
		c.reached[route] = true
	}
	return answer{status: res.StatusCode, body: b, header: res.Header}
}

func (c *stixClient) must(status int, token, route, target, contentType string, body []byte) answer {
	c.t.Helper()
	a := c.do(token, route, target, contentType, body)
	if a.status != status {
		c.t.Fatalf("%s %s: status %d, want %d\n%s", route, target, a.status, status, a.body)
	}
	return a
}

type importAccount struct {
	ItemID  int64          `json:"item_id"`
	TLP     string         `json:"tlp"`
	Total   int            `json:"total"`
	Stored  int            `json:"stored"`
	Skipped int            `json:"skipped"`
	Opaque  map[string]int `json:"opaque"`
}

func apiIncident(t *testing.T, body []byte) (stix.IncidentExtension, string) {
	t.Helper()
	var b stix.Bundle
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	for _, raw := range b.Objects {
		if ext, desc, ok := stix.DecodeIncident(raw); ok {
			return ext, desc
		}
	}
	t.Fatalf("no Kyoyu incident in %s", body)
	return stix.IncidentExtension{}, ""
}

func TestSTIXThroughAPI(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := startAPI(t, db)
		if err := demo.LoadCases(ctx, db, kyoyu.Config{}, account.Argon2{Memory: 1024, Time: 1, Threads: 1}); err != nil {
			t.Fatal(err)
		}
		c := &stixClient{t: t, e: e, v: newValidator(t), oasis: stixtest.New(t), reached: map[string]bool{}}
		nisc, op := e.tokens[kyoyu.RoleNISCAnalyst], e.tokens[kyoyu.RoleOperatorReporter]
		gasOrg, err := db.OrganisationByCode(ctx, "demo_gas_1")
		if err != nil {
			t.Fatal(err)
		}
		gas := e.tokenFor(t, &kyoyu.Person{OrganisationID: gasOrg.ID, Email: "staff@gas.example.jp", Name: "ガス 職員",
			Role: kyoyu.RoleOperatorReporter, HandlesIncidents: true, PasswordHash: "x"})
		ipaOrg, err := db.OrganisationByCode(ctx, "ipa")
		if err != nil {
			t.Fatal(err)
		}
		ipa := e.tokenFor(t, &kyoyu.Person{OrganisationID: ipaOrg.ID, Email: "analyst@ipa.example.jp", Name: "IPA 分析官",
			Role: kyoyu.RoleOrgAdmin, HandlesIncidents: true, PasswordHash: "x"})

		// Export: every case NISC sees, in both TLP versions.
		page, err := db.ListCases(ctx, policyViewer(t, db, "analyst@nisc.demo.kyoyu.jp"), store.CaseFilter{Limit: 200})
		if err != nil || len(page.Cases) < 3 {
			t.Fatalf("cases: %v %v", page, err)
		}
		for _, cs := range page.Cases {
			for _, q := range []string{"", "?tlp=2"} {
				a := c.must(http.StatusOK, nisc, rSTIXCase, fmt.Sprintf("/api/v1/cases/%d/stix%s", cs.ID, q), "", nil)
				want := stix.MarkingID(policy.TLP(cs.TLP), map[string]int{"": 1, "?tlp=2": 2}[q])
				if !bytes.Contains(a.body, []byte(want)) {
					t.Errorf("case %d (%s) export%s is not marked %s", cs.ID, cs.TLP, q, want)
				}
			}
			// A case the gas operator may not see is not found.
			if _, _, err := db.Case(ctx, policyViewer(t, db, "staff@gas.example.jp"), cs.ID); err != nil {
				c.must(http.StatusNotFound, gas, rSTIXCase, fmt.Sprintf("/api/v1/cases/%d/stix", cs.ID), "", nil)
			}
		}
		if a := c.must(http.StatusUnprocessableEntity, nisc, rSTIXCase, fmt.Sprintf("/api/v1/cases/%d/stix?tlp=3&version=x", page.Cases[0].ID), "", nil); !strings.Contains(string(a.body), `"version"`) {
			t.Errorf("bad parameters: %s", a.body)
		}

		// Import apt1.json: no marking, so a range must be given.
		apt1, err := os.ReadFile(filepath.Join(stixtest.Dir(), "examples", "threat-reports", "apt1.json"))
		if err != nil {
			t.Fatal(err)
		}
		if a := c.must(http.StatusUnprocessableEntity, ipa, rSTIXImport, "/api/v1/stix/bundles", stix.MediaType, apt1); a.err(t).Fields["tlp"] != "required" {
			t.Errorf("apt1 without a range: %s", a.body)
		}
		var acc importAccount
		c.must(http.StatusCreated, ipa, rSTIXImport, "/api/v1/stix/bundles?tlp=green", stix.MediaType, apt1).decode(t, &acc)
		if acc.ItemID == 0 || acc.Total != 76 || acc.Stored != 76 || acc.TLP != "green" || acc.Opaque["intrusion-set"] != 1 {
			t.Fatalf("account %+v", acc)
		}
		var again importAccount
		c.must(http.StatusOK, ipa, rSTIXImport, "/api/v1/stix/bundles?tlp=green", "application/json", apt1).decode(t, &again)
		if again.ItemID != 0 || again.Skipped != 76 {
			t.Errorf("second import %+v", again)
		}
		// Bad bundles are refused whole, saying why.
		for name, tc := range map[string]struct {
			ct     string
			body   []byte
			status int
			field  string
		}{
			"malformed":   {"application/json", []byte(`{"type":"bundle",`), 422, "bundle"},
			"stix 2.0":    {"application/json", bytes.Replace(apt1, []byte(`"spec_version": "2.1"`), []byte(`"spec_version": "2.0"`), 1), 422, "objects/0"},
			"not stix":    {"text/plain", apt1, 415, ""},
			"stix 2.0 mt": {"application/stix+json;version=2.0", apt1, 415, ""},
			"oversized":   {"application/json", bytes.Repeat([]byte(" "), int(stix.DefaultLimits.MaxBytes)+1), 413, ""},
			"bad range":   {"application/json", apt1, 422, "tlp"},
			"unmappable":  {"application/json", []byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","object_marking_refs":["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ec"]}]}`), 422, "objects/0"},
		} {
			target := "/api/v1/stix/bundles?tlp=amber"
			if name == "bad range" {
				target = "/api/v1/stix/bundles?tlp=black"
			}
			a := c.do(ipa, rSTIXImport, target, tc.ct, tc.body)
			if a.status != tc.status || tc.field != "" && a.err(t).Fields[tc.field] == "" {
				t.Errorf("%s: %d %s", name, a.status, a.body)
			}
		}

		// Reading: GREEN reaches the operator; paged one by one.
		var ids []string
		next := ""
		for range 20 {
			var l struct {
				Objects []json.RawMessage `json:"objects"`
				More    bool              `json:"more"`
				Next    string            `json:"next"`
			}
			c.must(http.StatusOK, op, rSTIXObjects, "/api/v1/stix/objects?type=indicator,malware&limit=2"+next, "", nil).decode(t, &l)
			for _, o := range l.Objects {
				var h struct {
					ID   string   `json:"id"`
					Refs []string `json:"object_marking_refs"`
				}
				_ = json.Unmarshal(o, &h)
				if len(h.Refs) != 1 || h.Refs[0] != stix.TLP1Green {
					t.Errorf("%s served marked %v", h.ID, h.Refs)
				}
				ids = append(ids, h.ID)
			}
			if !l.More {
				break
			}
			next = "&next=" + l.Next
		}
		slices.Sort(ids)
		if len(ids) != 18 || len(slices.Compact(slices.Clone(ids))) != 18 {
			t.Errorf("paged through %d objects: %v", len(ids), ids)
		}
		c.must(http.StatusOK, op, rSTIXBundle, fmt.Sprintf("/api/v1/stix/bundles/%d?tlp=2", acc.ItemID), "", nil)
		c.must(http.StatusNotFound, op, rSTIXBundle, "/api/v1/stix/bundles/999999", "", nil)

		// Round trip: NISC's export of an AMBER case, imported by IPA,
		// exported again: the same range, the same report.
		var amber *kyoyu.Case
		for _, cs := range page.Cases {
			if cs.TLP == "amber" {
				amber = cs
			}
		}
		first := c.must(http.StatusOK, nisc, rSTIXCase, fmt.Sprintf("/api/v1/cases/%d/stix?tlp=2", amber.ID), "", nil)
		var trip importAccount
		c.must(http.StatusCreated, ipa, rSTIXImport, "/api/v1/stix/bundles", stix.MediaType, first.body).decode(t, &trip)
		if trip.TLP != "amber" || len(trip.Opaque) != 0 {
			t.Errorf("round trip import %+v", trip)
		}
		second := c.must(http.StatusOK, ipa, rSTIXBundle, fmt.Sprintf("/api/v1/stix/bundles/%d?tlp=2", trip.ItemID), "", nil)
		e1, d1 := apiIncident(t, first.body)
		e2, d2 := apiIncident(t, second.body)
		if !reflect.DeepEqual(e1, e2) || d1 != d2 || !bytes.Contains(second.body, []byte(stix.TLP2Amber)) {
			t.Errorf("round trip changed the report:\n%+v\n%+v", e1, e2)
		}
		// AMBER of IPA's sectors (none): the gas operator does not get it.
		c.must(http.StatusNotFound, gas, rSTIXBundle, fmt.Sprintf("/api/v1/stix/bundles/%d", trip.ItemID), "", nil)

		for _, route := range api.Routes {
			if isSTIXRoute(route) && !c.reached[route] {
				t.Errorf("%s was never answered with success", route)
			}
		}
	})
}

func policyViewer(t *testing.T, db *store.DB, email string) policy.Viewer {
	t.Helper()
	ctx := context.Background()
	p, err := db.PersonByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	o, err := db.Organisation(ctx, p.OrganisationID)
	if err != nil {
		t.Fatal(err)
	}
	return policy.ViewerOf(p, o)
}

// The documented STIX answers are the Go types the API encodes.
func TestOpenAPISTIXSchemasMatchGo(t *testing.T) {
	_, doc := readDoc(t)
	schemas := obj(t, doc, "components", "schemas")
	for name, v := range map[string]any{
		"StixImportAccount": stix.Account{}, "StixObjectOutcome": stix.ObjectOutcome{}, "StixObjectList": api.STIXObjectList{},
	} {
		s := obj(t, schemas, name)
		all, always := jsonFields(reflect.TypeOf(v))
		if got := strs(s["properties"]); !slices.Equal(got, all) {
			t.Errorf("%s: documented properties %v, Go fields %v", name, got, all)
		}
		if got := strs(s["required"]); !slices.Equal(got, always) {
			t.Errorf("%s: required %v, always encoded %v", name, got, always)
		}
		if s["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties must be false", name)
		}
	}
}
