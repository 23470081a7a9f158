package e2e

// MISP in the adversarial world, over HTTP: a case as a MISP event
// (GET /api/v1/cases/{id}/misp) is held to the oracle like its STIX export
// — a case the viewer may not see answers exactly as a missing id; a
// visible one names its operator (the creator organisation and the
// target-org attribute) by its real name only to whoever may know the
// source, and its distribution and tlp: tag never say a range wider than
// the case's.

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"kyoyu/misp"
	"kyoyu/policy"
	"kyoyu/store"
)

// mispSurfaces are a case's MISP export.
func (hw *httpWorld) mispSurfaces() []surface {
	return []surface{
		{name: "GET /api/v1/cases/{id}/misp", kind: policy.Report, showsSource: true, perViewer: 40, show: hw.caseMISP},
	}
}

// caseMISP asks the MISP export about each item: 404 exactly as for a
// missing id, or an event read by readCaseEvent.
func (hw *httpWorld) caseMISP(_ context.Context, _ *store.DB, v policy.Viewer, ids []int64) (map[int64]policy.Decision, error) {
	const pattern = "/api/v1/cases/%d/misp"
	p, err := hw.person(v)
	if err != nil {
		return nil, err
	}
	missingPath := fmt.Sprintf(pattern, hw.missing)
	miss, err := hw.api(p, missingPath)
	if err != nil {
		return nil, err
	}
	if miss.status != http.StatusNotFound {
		return nil, fmt.Errorf("%s answered %d, not 404", missingPath, miss.status)
	}
	shown := map[int64]policy.Decision{}
	for _, id := range ids {
		c, ok := caseOfItem[hw.db][id]
		if !ok {
			continue
		}
		path := fmt.Sprintf(pattern, c)
		r, err := hw.api(p, path)
		if err != nil {
			return nil, err
		}
		hw.scan(v, v, path, r.body)
		// As for the STIX export: an unreleased case's one version is the
		// ministry's alone.
		it := hw.w.items[id]
		exportable := it.Shared || v.OrgID == hw.ref[c].MinistryOrgID
		switch {
		case r.status == http.StatusNotFound:
			if r.body != miss.body {
				hw.problem(v, path, id, "its 404 differs from a missing id's: %.300q, not %.300q", r.body, miss.body)
			}
			if !exportable {
				shown[id] = oracle(v, it)
			}
		case r.status == http.StatusOK && !exportable:
			hw.problem(v, path, id, "LEAK: exports a version the viewer may not see (unreleased, written by organisation %d)", hw.ref[c].MinistryOrgID)
			shown[id] = policy.Decision{See: true}
		case r.status == http.StatusOK:
			if src, ok := hw.readCaseEvent(v, path, id, r.body); ok {
				shown[id] = policy.Decision{See: true, SeeSource: src}
			}
		default:
			return nil, fmt.Errorf("%s answered %d: %.300s", path, r.status, r.body)
		}
	}
	return shown, nil
}

// readCaseEvent reads a case's event: whether it names the source (the
// creator organisation and the target-org attributes, as the STIX export's
// identities), and that the range its distribution and tags say, read back
// as an import reads them, is not wider than the item's. ok is false when
// the event cannot be read.
func (hw *httpWorld) readCaseEvent(v policy.Viewer, path string, id int64, body string) (seeSource, ok bool) {
	it := hw.w.items[id]
	evs, err := misp.Parse([]byte(body), misp.Limits{})
	if err != nil || len(evs) != 1 {
		hw.problem(v, path, id, "not one MISP event (%v): %.300s", err, body)
		return false, false
	}
	ev := evs[0]
	plan, err := misp.Range(ev, "")
	if err != nil {
		hw.problem(v, path, id, "the event says no range: %v", err)
		return false, false
	}
	if policy.Widens(it.TLP, plan.TLP) {
		hw.problem(v, path, id, "LEAK: distribution and tags say %s, wider than the case's range %s", plan.TLP, it.TLP)
	}
	// Independently of the package's table: the widest distribution and
	// tlp: tag each range may travel with.
	widest := map[policy.TLP]misp.Int{policy.Red: 0, policy.Amber: 0, policy.Green: 1, policy.White: 3}[it.TLP]
	if ev.Distribution == nil {
		hw.problem(v, path, id, "no distribution")
	} else if *ev.Distribution > widest {
		hw.problem(v, path, id, "LEAK: distribution %d, wider than %d for the case's range %s", *ev.Distribution, widest, it.TLP)
	}
	tagRange := map[string]policy.TLP{"tlp:red": policy.Red, "tlp:amber": policy.Amber, "tlp:green": policy.Green, "tlp:white": policy.White, "tlp:clear": policy.White}
	tagged := 0
	for _, tg := range ev.Tags {
		name := strings.ToLower(tg.Name)
		if !strings.HasPrefix(name, "tlp:") {
			continue
		}
		tagged++
		if r, ok := tagRange[name]; !ok || policy.Widens(it.TLP, r) {
			hw.problem(v, path, id, "LEAK: tag %s for the case's range %s", tg.Name, it.TLP)
		}
	}
	if tagged != 1 {
		hw.problem(v, path, id, "%d tlp: tags, not one", tagged)
	}
	var who []string
	if ev.Orgc != nil {
		who = append(who, ev.Orgc.Name)
	}
	for _, a := range ev.Attributes {
		if a.Type == "target-org" {
			who = append(who, a.Value)
		}
	}
	src, problem := operatorShown(strings.Join(who, "\n"), id)
	if problem != "" {
		hw.problem(v, path, id, "creator and targets: %s", problem)
	}
	hw.checkOriginatorName(v, path, id, body)
	return src, true
}
