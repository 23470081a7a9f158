package e2e

// Notifications and the audit log over HTTP: surfaces about items that
// list what happened to them rather than the items themselves.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/audit"
	"kyoyu/policy"
	"kyoyu/store"
)

// ---- notifications -----------------------------------------------------------

// noteKind is the kind of notification each notification surface makes:
// each makes its own, so that it reads back what it made whatever the other
// made; marker is what tells the kind's message on the page.
type noteKind struct{ kind, marker string }

var noteKinds = map[bool]noteKind{
	false: {"notify.case_received", "NISC に届きました"},  // GET /notifications
	true:  {"notify.report_waiting", "情報連絡が届いています"}, // GET /api/v1/notifications
}

// noteChunk is how many notifications a surface makes before reading them
// back: fewer than the page lists (50), so that every one made and visible
// is among the newest listed, however many items the surface is asked about.
const noteChunk = 40

type noteKey struct {
	person int64
	kind   string
}

// note is one listed notification as the test reads it.
type note struct {
	item int64
	link string
}

// notifications tells the person about each asked item, a chunk at a time,
// and reads which of them the page or the API lists. The item is carried
// in the message's report number, which the page prints (第<item>報);
// reports link to their case.
func (hw *httpWorld) notifications(api bool) func(context.Context, *store.DB, policy.Viewer, []int64) (map[int64]policy.Decision, error) {
	k := noteKinds[api]
	return func(ctx context.Context, db *store.DB, v policy.Viewer, ids []int64) (map[int64]policy.Decision, error) {
		p, err := hw.person(v)
		if err != nil {
			return nil, err
		}
		key := noteKey{p.p.ID, k.kind}
		if hw.notified[key] == nil {
			hw.notified[key] = map[int64]bool{}
		}
		made := hw.notified[key]
		shown := map[int64]policy.Decision{}
		for from := 0; from < len(ids); from += noteChunk {
			chunk := ids[from:min(from+noteChunk, len(ids))]
			var ns []store.Notification
			for _, id := range chunk {
				if !made[id] {
					made[id] = true
					ns = append(ns, store.Notification{PersonID: p.p.ID, ItemID: id, Kind: k.kind, Link: hw.noteLink(id),
						Params: map[string]string{"report_number": strconv.FormatInt(id, 10)}})
				}
			}
			if err := db.Notify(ctx, ns...); err != nil {
				return nil, err
			}
			path, notes, err := hw.readNotes(p, api, k)
			if err != nil {
				return nil, err
			}
			listed := map[int64]bool{}
			for _, n := range notes {
				switch {
				case listed[n.item]:
					return nil, fmt.Errorf("%s: item %d listed twice", path, n.item)
				case !made[n.item]:
					return nil, fmt.Errorf("%s: lists item %d, which the person was not told about", path, n.item)
				case n.link != hw.noteLink(n.item):
					hw.problem(v, path, n.item, "links to %q, not %q", n.link, hw.noteLink(n.item))
				}
				listed[n.item] = true
				if slices.Contains(chunk, n.item) {
					shown[n.item] = policy.Decision{See: true}
				}
			}
		}
		return shown, nil
	}
}

// readNotes reads the person's notifications of kind k from the page or
// the API.
func (hw *httpWorld) readNotes(p *httpPerson, api bool, k noteKind) (string, []note, error) {
	path := "/notifications"
	get := hw.page
	if api {
		path, get = "/api/v1/notifications?limit=200", hw.api
	}
	r, err := get(p, path)
	if err != nil {
		return path, nil, err
	}
	if r.status != http.StatusOK {
		return path, nil, fmt.Errorf("%s: status %d", path, r.status)
	}
	hw.scan(p.v, p.v, path, r.body)
	var notes []note
	if api {
		var out struct {
			Notifications []struct {
				Kind   string            `json:"kind"`
				Link   string            `json:"link"`
				Params map[string]string `json:"params"`
			} `json:"notifications"`
		}
		if err := json.Unmarshal([]byte(r.body), &out); err != nil {
			return path, nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, n := range out.Notifications {
			id, err := strconv.ParseInt(n.Params["report_number"], 10, 64)
			if err != nil {
				return path, nil, fmt.Errorf("%s: a notification the test did not make: %+v", path, n)
			}
			if n.Kind == k.kind {
				notes = append(notes, note{id, n.Link})
			}
		}
	} else if m := noteBodyRe.FindStringSubmatch(r.body); m != nil {
		for _, row := range noteRowRe.FindAllStringSubmatch(m[1], -1) {
			ids, links := matchIDs(noteItemRe, row[1]), hrefRe.FindStringSubmatch(row[1])
			if len(ids) != 1 || links == nil {
				return path, nil, fmt.Errorf("%s: a row the test did not make: %s", path, row[1])
			}
			if strings.Contains(row[1], k.marker) {
				notes = append(notes, note{ids[0], html.UnescapeString(links[1])})
			}
		}
	}
	return path, notes, nil
}

func (hw *httpWorld) noteLink(id int64) string {
	if c, ok := caseOfItem[hw.db][id]; ok {
		return fmt.Sprintf("/cases/%d", c)
	}
	return "/advisories"
}

// ---- the audit log -----------------------------------------------------------

// checkAudit reads GET /audit?action=case.read, page by page, as each
// auditor, and holds every entry to the rule the log's reader is under: an
// entry about an item is shown only if the oracle lets the reader see the
// item, and one written by another organisation only if it also lets the
// reader know the item's source (who read an anonymised report may be its
// source). It returns how many (auditor, entry) pairs it checked.
func (hw *httpWorld) checkAudit(ctx context.Context) int {
	rp := &reporter{t: hw.t, seed: hw.seed, check: "GET /audit?action=case.read"}
	began := time.Now()
	// Reads of RED and AMBER cases are audited as case.read. The detail
	// surfaces made some; more here, by every sampled person and the
	// auditors, so that many organisations' reads of many items are logged.
	r := newRand(hw.seed + 2)
	for _, p := range append(slices.Clone(hw.sample), hw.auditors...) {
		pr := &account.Principal{Person: p.p, Organisation: p.org}
		for _, i := range r.Perm(len(hw.caseIDs))[:min(20, len(hw.caseIDs))] {
			if _, _, err := hw.reports.Open(ctx, pr, "test", hw.caseIDs[i]); err != nil && !errors.Is(err, kyoyu.ErrNotFound) {
				hw.t.Fatalf("seed %d: open case %d as %s: %v", hw.seed, hw.caseIDs[i], p.p.Email, err)
			}
		}
	}
	var entries []audit.Entry
	for before := int64(0); ; {
		page, err := hw.db.AuditEntries(ctx, store.AuditFilter{Action: "case.read", BeforeSeq: before, Limit: 500})
		if err != nil {
			hw.t.Fatal(err)
		}
		entries = append(entries, page...)
		if len(page) < 500 {
			break
		}
		before = page[len(page)-1].Seq
	}
	cases := 0
	for _, p := range hw.auditors {
		shown, err := hw.auditPages(p)
		if err != nil {
			rp.mismatch("viewer %s: %v", hw.who(p.v), err)
			continue
		}
		listed := len(shown)
		for _, e := range entries {
			want, d := true, policy.Decision{}
			it, known := hw.w.items[e.ItemID]
			if known {
				d = oracle(p.v, it)
				want = d.See && (d.SeeSource || e.OrganisationID == p.v.OrgID)
			}
			cases++
			got := shown[e.Seq]
			delete(shown, e.Seq)
			if got == want {
				continue
			}
			what := "missing"
			if got {
				what = "LEAK"
			}
			rp.mismatch("%s: viewer %s: entry %d (case.read of case %s, item %d %s, by organisation %d %s): shown %t, expected %t (oracle %s, %s)",
				what, hw.who(p.v), e.Seq, e.ObjectID, e.ItemID, describeItem(it), e.OrganisationID, hw.w.orgName(e.OrganisationID),
				got, want, describeDecision(d), why(p.v, it))
		}
		for seq := range shown {
			rp.mismatch("viewer %s: shows entry %d, which is no case.read entry", hw.who(p.v), seq)
		}
		hw.t.Logf("GET /audit as %s: %d of %d case.read entries shown, as the rule expects", hw.who(p.v), listed, len(entries))
	}
	if len(entries) == 0 {
		rp.mismatch("no case.read entries were logged: the check tested nothing")
	}
	rp.done(cases, time.Since(began))
	return cases
}

// auditPages follows the audit view's older-entries links and returns the
// entries listed; the unfiltered first page is read for names too.
func (hw *httpWorld) auditPages(p *httpPerson) (map[int64]bool, error) {
	shown := map[int64]bool{}
	for path, pages := "/audit?action=case.read", 0; path != ""; pages++ {
		r, err := hw.page(p, path)
		if err != nil {
			return nil, err
		}
		if r.status != http.StatusOK || pages > 1000 {
			return nil, fmt.Errorf("%s: status %d (page %d)", path, r.status, pages)
		}
		hw.scan(p.v, p.v, path, r.body)
		for _, m := range auditRowRe.FindAllStringSubmatch(r.body, -1) {
			seq, _ := strconv.ParseInt(m[1], 10, 64)
			if shown[seq] {
				return nil, fmt.Errorf("%s: entry %d listed twice", path, seq)
			}
			shown[seq] = true
		}
		path = nextLink(auditNextRe, r.body)
	}
	r, err := hw.page(p, "/audit")
	if err != nil {
		return nil, err
	}
	hw.scan(p.v, p.v, "/audit", r.body)
	return shown, nil
}
