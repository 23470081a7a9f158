package e2e

// An advisory's STIX export in the adversarial world, over HTTP: the API's
// GET /api/v1/advisories/{id}/stix (asked for TLP 2.0 ids) and the page's
// download GET /advisories/{id}/stix (TLP 1.0) are held to the oracle like
// the advisory's page — one the viewer may not see answers as a missing id;
// one never published has nothing to export and answers so too, to its
// issuer as well — and every bundle is read: one report, of that advisory,
// no TLP marking in it (on an object or defined) wider than the advisory's
// range, and its issuer named only to whoever the rule lets know the
// source (an anonymised advisory item of the generated world names its
// issuer to nobody else).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"kyoyu/policy"
	"kyoyu/stix"
	"kyoyu/store"
)

// advisorySTIXSurfaces are an advisory's STIX exports.
func (hw *httpWorld) advisorySTIXSurfaces() []surface {
	return []surface{
		{name: "GET /api/v1/advisories/{id}/stix", kind: policy.Advisory, showsSource: true, perViewer: 40, show: hw.advisorySTIX(true)},
		{name: "GET /advisories/{id}/stix", kind: policy.Advisory, showsSource: true, perViewer: 40, show: hw.advisorySTIX(false)},
	}
}

// seededPublished reports whether seedAdvisory published the item's
// advisory (see there).
func seededPublished(it policy.Item) bool {
	return it.Shared || slices.ContainsFunc(it.Holders, func(id int64) bool { return id != it.Originator })
}

// advisorySTIX asks an advisory's export about each item: 404 exactly as
// for a missing id, or a bundle read by readAdvisoryBundle.
func (hw *httpWorld) advisorySTIX(api bool) func(context.Context, *store.DB, policy.Viewer, []int64) (map[int64]policy.Decision, error) {
	pattern, same := "/advisories/%d/stix", samePage
	if api {
		pattern, same = "/api/v1/advisories/%d/stix?tlp=2", func(a, _, b, _ string) bool { return a == b }
	}
	return func(_ context.Context, db *store.DB, v policy.Viewer, ids []int64) (map[int64]policy.Decision, error) {
		p, err := hw.person(v)
		if err != nil {
			return nil, err
		}
		get := func(path string) (response, error) {
			if api {
				return hw.api(p, path)
			}
			return hw.page(p, path)
		}
		missingPath := fmt.Sprintf(pattern, missingAdvisory(db))
		miss, err := get(missingPath)
		if err != nil {
			return nil, err
		}
		if miss.status != http.StatusNotFound {
			return nil, fmt.Errorf("%s answered %d, not 404", missingPath, miss.status)
		}
		shown := map[int64]policy.Decision{}
		for _, id := range ids {
			a, ok := advisoryOfItem[db][id]
			if !ok {
				continue
			}
			path := fmt.Sprintf(pattern, a)
			r, err := get(path)
			if err != nil {
				return nil, err
			}
			hw.scan(v, v, path, r.body)
			it := hw.w.items[id]
			published := seededPublished(it)
			switch {
			case r.status == http.StatusNotFound:
				if !same(r.body, path, miss.body, missingPath) {
					hw.problem(v, path, id, "its 404 differs from a missing id's: %.300q, not %.300q", r.body, miss.body)
				}
				if !published {
					// A draft has nothing to export, even for its issuer:
					// not found, as it must be; nothing more to compare.
					shown[id] = oracle(v, it)
				}
			case r.status == http.StatusOK && !published:
				hw.problem(v, path, id, "LEAK: exports an advisory never published")
				shown[id] = policy.Decision{See: true}
			case r.status == http.StatusOK:
				if src, ok := hw.readAdvisoryBundle(v, path, id, r.body); ok {
					shown[id] = policy.Decision{See: true, SeeSource: src}
				}
			default:
				return nil, fmt.Errorf("%s answered %d: %.300s", path, r.status, r.body)
			}
		}
		return shown, nil
	}
}

// readAdvisoryBundle reads an advisory's bundle: one report carrying the
// advisory's extension, every TLP marking the advisory's range exactly
// (never wider: a LEAK; never other), and whether an identity names the
// issuing organisation. ok is false when the bundle cannot be read.
func (hw *httpWorld) readAdvisoryBundle(v policy.Viewer, path string, id int64, body string) (issuerNamed, ok bool) {
	it := hw.w.items[id]
	var b struct {
		Type    string            `json:"type"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil || b.Type != "bundle" {
		hw.problem(v, path, id, "not a bundle (%v): %.300s", err, body)
		return false, false
	}
	issuer := hw.w.orgs[it.Originator]
	reports := 0
	for _, raw := range b.Objects {
		var o stixHead
		if err := json.Unmarshal(raw, &o); err != nil {
			hw.problem(v, path, id, "an object that is not JSON: %v", err)
			return false, false
		}
		refs := o.Markings
		if o.Type == "marking-definition" {
			refs = append(refs, o.ID)
		}
		for _, ref := range refs {
			lvl, known := stix.KnownMarking(ref)
			switch {
			case !known:
				hw.problem(v, path, id, "%s %s is marked %s, no TLP marking", o.Type, o.ID, ref)
			case policy.Widens(it.TLP, lvl.Range()):
				hw.problem(v, path, id, "LEAK: %s %s is marked TLP:%s, wider than the advisory's range %s", o.Type, o.ID, lvl, it.TLP)
			case lvl.Range() != it.TLP:
				hw.problem(v, path, id, "%s %s is marked TLP:%s, not the advisory's range %s", o.Type, o.ID, lvl, it.TLP)
			}
		}
		switch o.Type {
		case "identity":
			if issuer != nil && o.Name == issuer.NameJA {
				issuerNamed = true
			}
		case "report":
			reports++
			ext, ok := stix.DecodeAdvisory(raw)
			if !ok || ext.AdvisoryNumber == "" || ext.TLP != string(it.TLP) || len(o.Markings) != 1 {
				hw.problem(v, path, id, "the report is not the advisory's (extension %+v, markings %v)", ext, o.Markings)
			}
		}
	}
	if reports != 1 {
		hw.problem(v, path, id, "%d reports: the bundle is not the advisory's", reports)
		return false, false
	}
	return issuerNamed, true
}

// checkAdvisorySTIXRefusals: the visitor is refused an advisory's export,
// whatever the advisory — a shared WHITE one too (the export is for people
// signed in, like the advisory's page).
func (hw *httpWorld) checkAdvisorySTIXRefusals() {
	var ids []int64
	for item, a := range advisoryOfItem[hw.db] {
		if it := hw.w.items[item]; it.TLP == policy.White && it.Shared || it.TLP == policy.Red {
			ids = append(ids, a)
		}
	}
	slices.Sort(ids)
	for _, a := range ids[:min(4, len(ids))] {
		for _, path := range []string{fmt.Sprintf("/api/v1/advisories/%d/stix", a), fmt.Sprintf("/advisories/%d/stix", a)} {
			r, err := hw.page(nil, path)
			if err != nil {
				hw.leaks.mismatch("anonymous visitor: %v", err)
				continue
			}
			hw.scan(policy.Anonymous, policy.Anonymous, path, r.body)
			api := strings.HasPrefix(path, "/api/")
			if api && r.status != http.StatusUnauthorized ||
				!api && (r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/signin")) {
				hw.leaks.mismatch("anonymous visitor: %s answered %d (location %q), not a refusal", path, r.status, r.location)
			}
		}
	}
}
