package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/api"
	"kyoyu/demo"
	"kyoyu/internal/testkit"
	"kyoyu/misp"
	"kyoyu/policy"
	"kyoyu/stix/stixtest"
	"kyoyu/store"
)

// isMISPRoute: the MISP routes are reached by the test in this file.
func isMISPRoute(route string) bool {
	return strings.HasSuffix(route, "/misp") || strings.Contains(route, "/misp/")
}

const (
	rMISPImport = "POST /api/v1/misp/events"
	rMISPCase   = "GET /api/v1/cases/{id}/misp"
	rMISPItem   = "GET /api/v1/stix/bundles/{id}/misp"
)

func TestMISPThroughAPI(t *testing.T) {
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

		// Every case NISC sees, as MISP: its range as distribution and tag.
		page, err := db.ListCases(ctx, policyViewer(t, db, "analyst@nisc.demo.kyoyu.jp"), store.CaseFilter{Limit: 200})
		if err != nil || len(page.Cases) < 3 {
			t.Fatalf("cases: %v %v", page, err)
		}
		for _, cs := range page.Cases {
			var f misp.Wrapped
			c.must(http.StatusOK, nisc, rMISPCase, fmt.Sprintf("/api/v1/cases/%d/misp", cs.ID), "", nil).decode(t, &f)
			dist, tag := misp.Distribution(policy.TLP(cs.TLP))
			if f.Event == nil || *f.Event.Distribution != dist || f.Event.Tags[0].Name != tag {
				t.Errorf("case %d (%s) as MISP: %+v", cs.ID, cs.TLP, f.Event)
			}
			if _, _, err := db.Case(ctx, policyViewer(t, db, "staff@gas.example.jp"), cs.ID); err != nil {
				c.must(http.StatusNotFound, gas, rMISPCase, fmt.Sprintf("/api/v1/cases/%d/misp", cs.ID), "", nil)
			}
		}
		c.must(http.StatusNotFound, nisc, rMISPCase, "/api/v1/cases/999999/misp", "", nil)
		c.must(http.StatusUnprocessableEntity, nisc, rMISPCase, fmt.Sprintf("/api/v1/cases/%d/misp?version=x", page.Cases[0].ID), "", nil)

		// Import: an AMBER event from the operator, read back as MISP.
		data, err := os.ReadFile(filepath.Join("..", "misp", "testdata", "objects-tlp-amber.json"))
		if err != nil {
			t.Fatal(err)
		}
		var acc misp.Account
		c.must(http.StatusCreated, op, rMISPImport, "/api/v1/misp/events", "application/json", data).decode(t, &acc)
		if acc.Stored != 1 || acc.Events[0].ItemID == 0 || acc.Events[0].TLP != "amber" {
			t.Fatalf("account %+v", acc)
		}
		item := acc.Events[0].ItemID
		var again misp.Account
		c.must(http.StatusOK, op, rMISPImport, "/api/v1/misp/events", "application/json; charset=utf-8", data).decode(t, &again)
		if again.Stored != 0 || again.Unchanged != 1 {
			t.Errorf("second import %+v", again)
		}
		var back misp.Wrapped
		c.must(http.StatusOK, nisc, rMISPItem, fmt.Sprintf("/api/v1/stix/bundles/%d/misp", item), "", nil).decode(t, &back)
		if back.Event.UUID != "3f1c2e8a-7b4d-4c2a-9e61-2b8d7f0a1c55" || back.Event.Tags[0].Name != "tlp:amber" || len(back.Event.Attributes) == 0 {
			t.Errorf("imported event back: %+v", back.Event)
		}
		// The gas operator is of another sector: not found, as a missing id.
		missing := c.must(http.StatusNotFound, gas, rMISPItem, "/api/v1/stix/bundles/999999/misp", "", nil)
		hidden := c.must(http.StatusNotFound, gas, rMISPItem, fmt.Sprintf("/api/v1/stix/bundles/%d/misp", item), "", nil)
		if !bytes.Equal(bytes.ReplaceAll(missing.body, []byte("999999"), []byte(fmt.Sprint(item))), hidden.body) {
			t.Errorf("a hidden item answers unlike a missing one:\n%s\n%s", missing.body, hidden.body)
		}

		// Bad files are refused whole, saying why.
		for name, tc := range map[string]struct {
			ct     string
			body   string
			status int
			field  string
		}{
			"malformed":    {"application/json", `{"Event":`, 422, "input"},
			"no event":     {"application/json", `{"foo":1}`, 422, "input"},
			"stix bundle":  {"application/json", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[]}`, 422, "input"},
			"unknown type": {"application/json", `{"uuid":"5a0e2c1f-1111-4c2a-9e61-2b8d7f0a1c55","info":"x","distribution":1,"Attribute":[{"type":"nope","value":"x"}]}`, 422, "events/0/Attribute/0/type"},
			"no range":     {"application/json", `{"uuid":"5a0e2c1f-1111-4c2a-9e61-2b8d7f0a1c55","info":"x"}`, 422, "tlp"},
			"bad tlp":      {"application/json", `{}`, 422, "tlp"},
			"not json":     {"text/plain", `{}`, 415, ""},
		} {
			target := "/api/v1/misp/events"
			if name == "bad tlp" {
				target += "?tlp=black"
			}
			a := c.must(tc.status, op, rMISPImport, target, tc.ct, []byte(tc.body))
			if tc.field != "" {
				if _, ok := a.err(t).Fields[tc.field]; !ok {
					t.Errorf("%s: fields %v, want %s", name, a.err(t).Fields, tc.field)
				}
			}
		}
		big := append([]byte(`{"Event":{"info":"`), bytes.Repeat([]byte("x"), 17<<20)...)
		c.must(http.StatusRequestEntityTooLarge, op, rMISPImport, "/api/v1/misp/events", "application/json", append(big, `"}}`...))
		// Only people who handle incident information import.
		clerk := e.tokenFor(t, &kyoyu.Person{OrganisationID: gasOrg.ID, Email: "clerk@gas.example.jp", Name: "ガス 事務",
			Role: kyoyu.RoleOperatorReporter, HandlesIncidents: false, PasswordHash: "x"})
		c.must(http.StatusNotFound, clerk, rMISPImport, "/api/v1/misp/events", "application/json", data)

		for _, route := range api.Routes {
			if isMISPRoute(route) && !c.reached[route] {
				t.Errorf("%s was never answered with success", route)
			}
		}
	})
}
