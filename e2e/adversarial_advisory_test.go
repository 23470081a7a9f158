package e2e

// Advisories in the adversarial world: its advisory items are real
// advisories (store.SeedAdvisory), and the ways people reach them — the
// store's list and detail reads, the API and the pages — are held to the
// oracle like the case surfaces. An advisory never shows its sources, so
// these surfaces decide only whether an item is seen.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/store"
)

// advisoryOfItem maps the items of seeded advisories to their advisories,
// per database.
var advisoryOfItem = map[*store.DB]map[int64]int64{}

// seedAdvisory stores an advisory item as an advisory. It is published
// unless nobody but its issuer may see it yet: in the real flow an
// unpublished advisory is an unshared draft that reached nobody, and only
// the issuer reads a draft.
func seedAdvisory(ctx context.Context, db *store.DB, it policy.Item) (int64, error) {
	published := it.Shared || slices.ContainsFunc(it.Holders, func(id int64) bool { return id != it.Originator })
	f := kyoyu.AdvisoryForm{Reason: kyoyu.ReasonVulnerability, Importance: "info", TLP: string(it.TLP),
		Title: "検証用の情報提供", Summary: "検証用の注意喚起：VPN装置の脆弱性"}
	advisoryID, itemID, err := db.SeedAdvisory(ctx, it, f, published)
	if err != nil {
		return 0, err
	}
	if advisoryOfItem[db] == nil {
		advisoryOfItem[db] = map[int64]int64{}
	}
	advisoryOfItem[db][itemID] = advisoryID
	return itemID, nil
}

// itemOfAdvisory is the item of a seeded advisory.
func itemOfAdvisory(db *store.DB, advisoryID int64) (int64, error) {
	for item, a := range advisoryOfItem[db] {
		if a == advisoryID {
			return item, nil
		}
	}
	return 0, fmt.Errorf("advisory %d is not one the test created", advisoryID)
}

// missingAdvisory is an advisory id that does not exist.
func missingAdvisory(db *store.DB) int64 {
	var top int64
	for _, a := range advisoryOfItem[db] {
		top = max(top, a)
	}
	return top + 1_000_000
}

// advisorySurfaces are the store's reads of advisories.
func advisorySurfaces() []surface {
	return []surface{
		{name: "ListAdvisories", kind: policy.Advisory, show: listAdvisories},
		{name: "ListAdvisoriesPage", kind: policy.Advisory, show: pageAdvisories},
		{name: "Advisory", kind: policy.Advisory, perViewer: 60, show: advisoryRead},
	}
}

// advisoryShown records an advisory listed for a viewer: once only, and one
// the test made.
func advisoryShown(db *store.DB, shown map[int64]policy.Decision, a *kyoyu.Advisory) error {
	id, err := itemOfAdvisory(db, a.ID)
	if err != nil {
		return err
	}
	if a.ItemID != id {
		return fmt.Errorf("advisory %d answered with item %d, not %d", a.ID, a.ItemID, id)
	}
	if _, dup := shown[id]; dup {
		return fmt.Errorf("advisory %d listed twice", a.ID)
	}
	shown[id] = policy.Decision{See: true}
	return nil
}

// listAdvisories is the list without paging, at its largest (200): the
// world is built so that no viewer sees more, and a full answer says so.
func listAdvisories(ctx context.Context, db *store.DB, v policy.Viewer, _ []int64) (map[int64]policy.Decision, error) {
	const limit = 200
	as, err := db.ListAdvisories(ctx, v, limit)
	if err != nil {
		return nil, err
	}
	if len(as) == limit {
		return nil, fmt.Errorf("ListAdvisories answered its limit of %d: the check cannot tell whether it showed them all", limit)
	}
	shown := map[int64]policy.Decision{}
	for _, a := range as {
		if err := advisoryShown(db, shown, a); err != nil {
			return nil, err
		}
	}
	return shown, nil
}

// pageAdvisories pages through the whole list (keyset paging), in small
// pages so that paging itself is exercised.
func pageAdvisories(ctx context.Context, db *store.DB, v policy.Viewer, _ []int64) (map[int64]policy.Decision, error) {
	shown := map[int64]policy.Decision{}
	f := store.AdvisoryFilter{Limit: 37}
	total := -1
	for pages := 0; ; pages++ {
		page, err := db.ListAdvisoriesPage(ctx, v, f)
		if err != nil {
			return nil, err
		}
		if total >= 0 && page.Total != total || pages > 1000 {
			return nil, fmt.Errorf("the total changed between pages: %d, then %d", total, page.Total)
		}
		total = page.Total
		for _, a := range page.Advisories {
			if err := advisoryShown(db, shown, a); err != nil {
				return nil, err
			}
		}
		if page.NextAt == nil {
			break
		}
		f.BeforeAt, f.BeforeID = page.NextAt, page.NextID
	}
	if total != len(shown) {
		return nil, fmt.Errorf("total %d but %d advisories listed", total, len(shown))
	}
	return shown, nil
}

// advisoryRead opens each advisory as its page does; one the viewer may
// not see must be ErrNotFound, like a missing id. Only the issuer reads a
// version that is not published.
func advisoryRead(ctx context.Context, db *store.DB, v policy.Viewer, ids []int64) (map[int64]policy.Decision, error) {
	if _, err := db.Advisory(ctx, v, missingAdvisory(db)); !errors.Is(err, kyoyu.ErrNotFound) {
		return nil, fmt.Errorf("a missing advisory answered %v, not ErrNotFound", err)
	}
	shown := map[int64]policy.Decision{}
	for _, id := range ids {
		advisoryID, ok := advisoryOfItem[db][id]
		if !ok {
			continue
		}
		a, err := db.Advisory(ctx, v, advisoryID)
		switch {
		case errors.Is(err, kyoyu.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("advisory %d: %w", advisoryID, err)
		case a.ItemID != id:
			return nil, fmt.Errorf("advisory %d answered with item %d, not %d", advisoryID, a.ItemID, id)
		case a.Status != "published" && (v.Anonymous || v.OrgID != a.IssuerOrgID):
			return nil, fmt.Errorf("advisory %d: a %s advisory shown to someone not its issuer", advisoryID, a.Status)
		default:
			shown[id] = policy.Decision{See: true}
		}
	}
	return shown, nil
}

// ---- over HTTP -----------------------------------------------------------------

// advisorySurfaces are the API's and the pages' advisories.
func (hw *httpWorld) advisorySurfaces() []surface {
	return []surface{
		{name: "GET /api/v1/advisories", kind: policy.Advisory, show: hw.apiAdvisories},
		{name: "GET /api/v1/advisories/{id}", kind: policy.Advisory, perViewer: 60, show: hw.apiAdvisory},
		{name: "GET /advisories", kind: policy.Advisory, show: hw.webAdvisories},
		{name: "GET /advisories/{id}", kind: policy.Advisory, perViewer: 40, show: hw.webAdvisory},
	}
}

// apiAdvisories pages through GET /api/v1/advisories (by next_cursor) as v.
func (hw *httpWorld) apiAdvisories(_ context.Context, db *store.DB, v policy.Viewer, _ []int64) (map[int64]policy.Decision, error) {
	p, err := hw.person(v)
	if err != nil {
		return nil, err
	}
	shown := map[int64]policy.Decision{}
	query := url.Values{"limit": {"50"}}
	total := -1
	for pages := 0; ; pages++ {
		path := "/api/v1/advisories?" + query.Encode()
		r, err := hw.api(p, path)
		if err != nil {
			return nil, err
		}
		if r.status != http.StatusOK || pages > 100 {
			return nil, fmt.Errorf("%s: status %d (page %d): %s", path, r.status, pages, r.body)
		}
		hw.scan(v, v, path, r.body)
		var page struct {
			Advisories []*kyoyu.Advisory `json:"advisories"`
			Total      int               `json:"total"`
			NextCursor string            `json:"next_cursor"`
		}
		if err := json.Unmarshal([]byte(r.body), &page); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if total >= 0 && page.Total != total {
			return nil, fmt.Errorf("%s: the total changed between pages: %d, then %d", path, total, page.Total)
		}
		total = page.Total
		for _, a := range page.Advisories {
			id, err := itemOfAdvisory(db, a.ID)
			if err != nil {
				return nil, err
			}
			a.ItemID = id // not in the JSON
			if err := advisoryShown(db, shown, a); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
		if page.NextCursor == "" {
			break
		}
		query.Set("cursor", page.NextCursor)
	}
	if total != len(shown) {
		return nil, fmt.Errorf("total %d but %d advisories listed", total, len(shown))
	}
	return shown, nil
}

// apiAdvisory asks GET /api/v1/advisories/{id} about each item: an
// advisory the viewer may not see answers exactly as one that does not exist.
func (hw *httpWorld) apiAdvisory(_ context.Context, db *store.DB, v policy.Viewer, ids []int64) (map[int64]policy.Decision, error) {
	p, err := hw.person(v)
	if err != nil {
		return nil, err
	}
	missingPath := fmt.Sprintf("/api/v1/advisories/%d", missingAdvisory(db))
	miss, err := hw.api(p, missingPath)
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
		path := fmt.Sprintf("/api/v1/advisories/%d", a)
		r, err := hw.api(p, path)
		if err != nil {
			return nil, err
		}
		hw.scan(v, v, path, r.body)
		switch r.status {
		case http.StatusNotFound:
			if r.body != miss.body {
				hw.problem(v, path, id, "404 body %q differs from a missing id's %q", r.body, miss.body)
			}
		case http.StatusOK:
			var out struct {
				Advisory kyoyu.Advisory `json:"advisory"`
			}
			if err := json.Unmarshal([]byte(r.body), &out); err != nil || out.Advisory.ID != a {
				return nil, fmt.Errorf("%s: advisory %d, %v: %s", path, out.Advisory.ID, err, r.body)
			}
			shown[id] = policy.Decision{See: true}
		default:
			return nil, fmt.Errorf("%s answered %d: %s", path, r.status, r.body)
		}
	}
	return shown, nil
}

var (
	advisoryRowRe = regexp.MustCompile(`<tr id="advisory-(\d+)"`)
	advDraftRowRe = regexp.MustCompile(`<tr id="draft-(\d+)"`)
	advListNextRe = regexp.MustCompile(`<a href="([^"]*)" id="advisories-next"`)
	// advListLimit is how many advisories one page of GET /advisories
	// lists; a page that full without a link further is reported.
	advListLimit = 100
)

// webAdvisories reads the advisory list page, following its 次へ links
// (a#advisories-next) if it has any: published advisories by their id,
// the issuer's drafts by their version.
func (hw *httpWorld) webAdvisories(ctx context.Context, db *store.DB, v policy.Viewer, _ []int64) (map[int64]policy.Decision, error) {
	p, err := hw.person(v)
	if err != nil {
		return nil, err
	}
	shown := map[int64]policy.Decision{}
	add := func(path string, id int64) error {
		if _, dup := shown[id]; dup {
			return fmt.Errorf("%s: item %d listed twice", path, id)
		}
		shown[id] = policy.Decision{See: true}
		return nil
	}
	for path, pages := "/advisories", 0; path != ""; pages++ {
		r, err := hw.page(p, path)
		if err != nil {
			return nil, err
		}
		if r.status != http.StatusOK || pages > 100 {
			return nil, fmt.Errorf("%s: status %d (page %d)", path, r.status, pages)
		}
		hw.scan(v, v, path, r.body)
		rows := advisoryRowRe.FindAllStringSubmatch(r.body, -1)
		for _, m := range rows {
			a, _ := strconv.ParseInt(m[1], 10, 64)
			id, err := itemOfAdvisory(db, a)
			if err != nil {
				return nil, err
			}
			if err := add(path, id); err != nil {
				return nil, err
			}
		}
		// A draft row names its version; only the issuer has drafts, and
		// the seeded ones were never published, so they are in no other row.
		drafts := advDraftRowRe.FindAllStringSubmatch(r.body, -1)
		for _, m := range drafts {
			vid, _ := strconv.ParseInt(m[1], 10, 64)
			id, err := hw.itemOfDraft(ctx, db, v, vid)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if err := add(path, id); err != nil {
				return nil, err
			}
		}
		next := nextLink(advListNextRe, r.body)
		if next == "" && len(rows)+len(drafts) >= advListLimit {
			return nil, fmt.Errorf("%s lists %d advisories, its limit, and offers no further page: the rest cannot be reached", path, len(rows)+len(drafts))
		}
		path = next
	}
	return shown, nil
}

// itemOfDraft finds the item whose open draft version vid is, as the
// issuing organisation reads it.
func (hw *httpWorld) itemOfDraft(ctx context.Context, db *store.DB, v policy.Viewer, vid int64) (int64, error) {
	a, err := db.AdvisoryDraft(ctx, vid, v.OrgID)
	if err != nil {
		return 0, fmt.Errorf("draft version %d of organisation %d: %w", vid, v.OrgID, err)
	}
	return itemOfAdvisory(db, a.ID)
}

// webAdvisory opens GET /advisories/{id} for each item; one the viewer may
// not see is the page of a missing id.
func (hw *httpWorld) webAdvisory(_ context.Context, db *store.DB, v policy.Viewer, ids []int64) (map[int64]policy.Decision, error) {
	p, err := hw.person(v)
	if err != nil {
		return nil, err
	}
	missingPath := fmt.Sprintf("/advisories/%d", missingAdvisory(db))
	miss, err := hw.page(p, missingPath)
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
		path := fmt.Sprintf("/advisories/%d", a)
		r, err := hw.page(p, path)
		if err != nil {
			return nil, err
		}
		hw.scan(v, v, path, r.body)
		switch r.status {
		case http.StatusNotFound:
			if !samePage(r.body, path, miss.body, missingPath) {
				hw.problem(v, path, id, "its 404 page differs from a missing id's")
			}
		case http.StatusOK:
			shown[id] = policy.Decision{See: true}
		default:
			return nil, fmt.Errorf("%s answered %d", path, r.status)
		}
	}
	return shown, nil
}
