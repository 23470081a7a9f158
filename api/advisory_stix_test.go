package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/advisory"
	"kyoyu/api"
	"kyoyu/internal/testkit"
	"kyoyu/stix"
	"kyoyu/stix/stixtest"
	"kyoyu/store"
)

// rSTIXAdvisory is reached by TestAdvisorySTIXThroughAPI, not by the
// advisory walk or the case STIX test.
const rSTIXAdvisory = "GET /api/v1/advisories/{id}/stix"

func isAdvisorySTIXRoute(route string) bool { return route == rSTIXAdvisory }

// TestAdvisorySTIXThroughAPI: a published AMBER advisory exports to NISC
// and its recipient ministry in both TLP versions, passing the OASIS
// schemas and the document; another sector's operator, a draft and a
// missing id all get the same 404.
func TestAdvisorySTIXThroughAPI(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := startAPI(t, db)
		c := &stixClient{t: t, e: e, v: newValidator(t), oasis: stixtest.New(t), reached: map[string]bool{}}
		nisc, ministry := e.tokens[kyoyu.RoleNISCAnalyst], e.tokens[kyoyu.RoleMinistryLiaison]
		gasOrg, err := db.OrganisationByCode(ctx, "demo_gas_1")
		if err != nil {
			t.Fatal(err)
		}
		gas := e.tokenFor(t, &kyoyu.Person{OrganisationID: gasOrg.ID, Email: "staff@gas.example.jp", Name: "ガス 職員",
			Role: kyoyu.RoleOperatorReporter, HandlesIncidents: true, PasswordHash: "x"})
		pr := func(email string) *account.Principal {
			p, err := db.PersonByEmail(ctx, email)
			if err != nil {
				t.Fatal(err)
			}
			o, err := db.Organisation(ctx, p.OrganisationID)
			if err != nil {
				t.Fatal(err)
			}
			return &account.Principal{Person: p, Organisation: o}
		}
		analyst, liaison := pr("analyst@nisc.demo.kyoyu.jp"), pr("liaison@meti.demo.kyoyu.jp")
		cfg := kyoyu.Config{DB: "sqlite:unused"}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		svc := advisory.New(db, cfg)
		f := kyoyu.AdvisoryForm{Reason: kyoyu.ReasonVulnerability, Importance: "advisory", TLP: "amber",
			Recipients: []kyoyu.RecipientPair{{MinistryID: liaison.Organisation.ID, Sector: "electricity"}},
			Title:      "制御系機器の脆弱性", Summary: "制御系機器に脆弱性が公表された。", Actions: "修正版を適用すること。"}
		a, err := svc.Draft(ctx, analyst, "192.0.2.9", f)
		if err != nil {
			t.Fatal(err)
		}
		draft, err := svc.Draft(ctx, analyst, "192.0.2.9", f)
		if err != nil {
			t.Fatal(err)
		}
		number, err := svc.Publish(ctx, analyst, "192.0.2.9", a.VersionID)
		if err != nil {
			t.Fatal(err)
		}

		path := fmt.Sprintf("/api/v1/advisories/%d/stix", a.ID)
		for _, tok := range []string{nisc, ministry} {
			for q, marking := range map[string]string{"": stix.TLP1Amber, "?tlp=1": stix.TLP1Amber, "?tlp=2": stix.TLP2Amber} {
				r := c.must(http.StatusOK, tok, rSTIXAdvisory, path+q, "", nil)
				if !bytes.Contains(r.body, []byte(marking)) || !bytes.Contains(r.body, []byte(number)) || !bytes.Contains(r.body, []byte(`"course-of-action"`)) {
					t.Errorf("%s%s: not the AMBER advisory %s with its course-of-action:\n%s", path, q, number, r.body)
				}
				if r.header.Get("Cache-Control") != "private, no-store" {
					t.Errorf("%s%s: Cache-Control %q", path, q, r.header.Get("Cache-Control"))
				}
			}
		}
		missing := c.must(http.StatusNotFound, gas, rSTIXAdvisory, "/api/v1/advisories/999999/stix", "", nil)
		for who, target := range map[string]string{
			"another sector's operator": path,
			"a draft, to its issuer":    fmt.Sprintf("/api/v1/advisories/%d/stix", draft.ID),
			"a missing id, to NISC":     "/api/v1/advisories/999999/stix",
		} {
			tok := gas
			if strings.Contains(who, "NISC") || strings.Contains(who, "issuer") {
				tok = nisc
			}
			if r := c.must(http.StatusNotFound, tok, rSTIXAdvisory, target, "", nil); !bytes.Equal(r.body, missing.body) {
				t.Errorf("%s: %s, not the missing id's %s", who, r.body, missing.body)
			}
		}
		if r := c.must(http.StatusUnprocessableEntity, nisc, rSTIXAdvisory, path+"?tlp=3", "", nil); r.err(t).Fields["tlp"] == "" {
			t.Errorf("tlp=3: %s", r.body)
		}
		for _, route := range api.Routes {
			if isAdvisorySTIXRoute(route) && !c.reached[route] {
				t.Errorf("%s was never answered with success", route)
			}
		}
	})
}
