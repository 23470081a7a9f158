package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"kyoyu"
	"kyoyu/api"
	"kyoyu/internal/testkit"
	"kyoyu/report"
	"kyoyu/store"
)

// sharingRoutes are reached by TestSharingThroughAPI rather than by the
// reporting walk.
var sharingRoutes = map[string]bool{
	"GET /api/v1/cases/{id}/consent-requests":               true,
	"POST /api/v1/cases/{id}/consent-requests":              true,
	"POST /api/v1/cases/{id}/consent-requests/{rid}/answer": true,
	"GET /api/v1/cases/{id}/partners":                       true,
	"PUT /api/v1/cases/{id}/partners":                       true,
}

type consentList struct {
	Requests []store.ConsentRequest `json:"consent_requests"`
}

type partnerList struct {
	Partners []kyoyu.Organisation `json:"partners"`
}

// TestSharingThroughAPI: the ministry narrows a report to AMBER, asks the
// operator to widen it to GREEN, the operator consents; NISC engages IPA
// and lets it go again.
func TestSharingThroughAPI(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := startAPI(t, db)
		c := newClient(t, e)
		ctx := context.Background()
		op, ministry, nisc := e.tokens[kyoyu.RoleOperatorReporter], e.tokens[kyoyu.RoleMinistryLiaison], e.tokens[kyoyu.RoleNISCAnalyst]
		gasOrg, err := db.OrganisationByCode(ctx, "demo_gas_1")
		if err != nil {
			t.Fatal(err)
		}
		gas := e.tokenFor(t, &kyoyu.Person{OrganisationID: gasOrg.ID, Email: "staff@gas.example.jp", Name: "ガス 職員",
			Role: kyoyu.RoleOperatorReporter, HandlesIncidents: true, PasswordHash: "x"})
		ipa, err := db.OrganisationByCode(ctx, "ipa")
		if err != nil {
			t.Fatal(err)
		}

		s := c.start(op, map[string]any{"route": "ministry", "form": form("green")})
		c.submit(op, s.Draft.ID)
		mine := c.takeWaiting(ministry, s.Case.ID)
		mine.Form.TLP = "amber"
		c.save(ministry, mine.ID, mine.Form)
		c.submit(ministry, mine.ID)
		id := s.Case.ID
		requests := fmt.Sprintf("/api/v1/cases/%d/consent-requests", id)
		partners := fmt.Sprintf("/api/v1/cases/%d/partners", id)
		const (
			list    = "GET /api/v1/cases/{id}/consent-requests"
			ask     = "POST /api/v1/cases/{id}/consent-requests"
			answer  = "POST /api/v1/cases/{id}/consent-requests/{rid}/answer"
			getP    = "GET /api/v1/cases/{id}/partners"
			putP    = "PUT /api/v1/cases/{id}/partners"
			getCase = "GET /api/v1/cases/{id}"
		)
		missing := c.call(gas, getCase, "/api/v1/cases/999999", nil)
		hidden := func(token, route, target string, body any) {
			t.Helper()
			if a := c.call(token, route, target, body); a.status != http.StatusNotFound || !bytes.Equal(a.body, missing.body) {
				t.Errorf("%s %s: %d %s, want the missing case's answer", route, target, a.status, a.body)
			}
		}
		widen := report.WideningRequest{ToTLP: "green", Reason: "他分野にも共有したい"}
		hidden(gas, getCase, fmt.Sprintf("/api/v1/cases/%d", id), nil)
		hidden(gas, list, requests, nil)
		hidden(gas, ask, requests, widen)
		hidden(gas, getP, partners, nil)
		// The originator does not ask itself; a body the document refuses, or nothing wider, is told.
		hidden(op, ask, requests, widen)
		for body, field := range map[string]string{
			`{"to_tlp": "amber", "reason": "x"}`:         "to_tlp",
			`{"to_tlp": "red", "reason": "x"}`:           "to_tlp",
			`{"to_tlp": "green"}`:                        "reason",
			`{"to_tlp": "green", "reason": "x", "a": 1}`: "a",
			`{"add_sectors": ["moon"], "reason": "x"}`:   "add_sectors",
		} {
			if a := c.raw(ministry, ask, requests, "application/json", []byte(body)); a.status != http.StatusUnprocessableEntity || a.err(t).Fields[field] == "" {
				t.Errorf("%s: %d %s", body, a.status, a.body)
			}
		}

		var req store.ConsentRequest
		c.must(http.StatusCreated, ministry, ask, requests, widen).decode(t, &req)
		if req.Status != store.ConsentPending || req.FromTLP != "amber" || req.ToTLP != "green" {
			t.Fatalf("request %+v", req)
		}
		c.must(http.StatusConflict, ministry, ask, requests, widen)
		var l consentList
		c.must(http.StatusOK, op, list, requests, nil).decode(t, &l)
		if len(l.Requests) != 1 || l.Requests[0].ID != req.ID {
			t.Errorf("the operator lists %+v", l)
		}
		c.must(http.StatusOK, nisc, list, requests, nil).decode(t, &l)
		if len(l.Requests) != 0 {
			t.Errorf("NISC, not a party, lists %+v", l)
		}
		hidden(gas, getCase, fmt.Sprintf("/api/v1/cases/%d", id), nil)

		target := fmt.Sprintf("%s/%d/answer", requests, req.ID)
		yes := map[string]any{"grant": true, "note": "了承します"}
		for _, tok := range []string{ministry, nisc, gas} {
			hidden(tok, answer, target, yes)
		}
		hidden(op, answer, fmt.Sprintf("/api/v1/cases/999999/consent-requests/%d/answer", req.ID), yes)
		if a := c.raw(op, answer, target, "application/json", []byte(`{"note": "x"}`)); a.status != http.StatusUnprocessableEntity || a.err(t).Fields["grant"] != "required" {
			t.Errorf("answer without grant: %d %s", a.status, a.body)
		}
		var got store.ConsentRequest
		c.must(http.StatusOK, op, answer, target, yes).decode(t, &got)
		if got.Status != store.ConsentGranted || got.AnswerNote != "了承します" || got.AnsweredAt == nil {
			t.Errorf("answered %+v", got)
		}
		c.must(http.StatusConflict, op, answer, target, map[string]any{"grant": false})
		if d := c.caseOf(gas, id); d.Case.TLP != "green" {
			t.Errorf("gas operator sees %+v", d.Case)
		}

		// Analysis partners: NISC's choice, seen by everyone who sees the case.
		hidden(ministry, putP, partners, api.PartnersUpdate{Partners: []int64{ipa.ID}})
		if a := c.call(nisc, putP, partners, api.PartnersUpdate{Partners: []int64{gasOrg.ID}}); a.status != http.StatusUnprocessableEntity || a.err(t).Fields["partners"] != "invalid_choice" {
			t.Errorf("an operator as partner: %d %s", a.status, a.body)
		}
		var pl partnerList
		c.must(http.StatusOK, nisc, putP, partners, api.PartnersUpdate{Partners: []int64{ipa.ID}}).decode(t, &pl)
		if len(pl.Partners) != 1 || pl.Partners[0].ID != ipa.ID {
			t.Errorf("engaged %+v", pl)
		}
		for _, tok := range []string{op, ministry, gas} {
			c.must(http.StatusOK, tok, getP, partners, nil).decode(t, &pl)
			if len(pl.Partners) != 1 || pl.Partners[0].Code != "ipa" {
				t.Errorf("partners %+v", pl)
			}
		}
		c.must(http.StatusOK, nisc, putP, partners, api.PartnersUpdate{Partners: []int64{}}).decode(t, &pl)
		if len(pl.Partners) != 0 {
			t.Errorf("after opting out %+v", pl)
		}

		for route := range sharingRoutes {
			if !c.reached[route] {
				t.Errorf("%s was never answered with success", route)
			}
		}
	})
}

// The sharing schemas match the Go types, as TestOpenAPISchemasMatchGo
// does for the others.
func TestOpenAPISharingSchemasMatchGo(t *testing.T) {
	_, doc := readDoc(t)
	schemas := obj(t, doc, "components", "schemas")
	for name, v := range map[string]any{
		"ConsentRequest": store.ConsentRequest{}, "ConsentRequestList": api.ConsentRequestList{}, "WideningRequest": report.WideningRequest{},
		"ConsentAnswer": api.ConsentAnswerRequest{}, "PartnersUpdate": api.PartnersUpdate{}, "PartnerList": api.PartnerList{},
	} {
		s := obj(t, schemas, name)
		all, always := jsonFields(reflect.TypeOf(v))
		if got := strs(s["properties"]); !slices.Equal(got, all) {
			t.Errorf("%s: documented properties %v, Go fields %v", name, got, all)
		}
		if s["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties must be false", name)
		}
		// Request bodies require less than Go encodes; answers exactly it.
		if req, ok := s["required"]; ok && (name == "ConsentRequest" || name == "ConsentRequestList" || name == "PartnerList") {
			if got := strs(req); !slices.Equal(got, always) {
				t.Errorf("%s: required %v, always encoded %v", name, got, always)
			}
		}
	}
	var statuses []string
	for _, v := range obj(t, schemas, "ConsentStatus")["enum"].([]any) {
		statuses = append(statuses, v.(string))
	}
	want := []string{string(store.ConsentPending), string(store.ConsentGranted), string(store.ConsentRefused), string(store.ConsentWithdrawn)}
	if !slices.Equal(statuses, want) {
		t.Errorf("ConsentStatus enum %v, want %v", statuses, want)
	}
}
