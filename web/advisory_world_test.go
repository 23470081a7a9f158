package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/demo"
	"kyoyu/store"
)

// advWorld is the case world with an AMBER electricity case at NISC, the
// source of the advisories the tests write through the pages.
type advWorld struct {
	*caseWorld
	caseID     int64
	caseNumber string
	meti       int64
}

func newAdvWorld(t *testing.T, db *store.DB) *advWorld {
	t.Helper()
	w := &advWorld{caseWorld: newCaseWorld(t, db)}
	w.caseID, w.caseNumber = w.operatorCase(kyoyu.RouteMinistry, caseSpec{tlp: "amber", importance: "advisory", event: "intrusion",
		sector: "electricity", description: "VPN装置の脆弱性を突いた侵入を確認した。", outlook: "investigating", causes: []string{"vulnerability"}})
	w.meti = w.liaison.Organisation.ID
	return w
}

var (
	reAdvDraftLoc = regexp.MustCompile(`^/advisories/drafts/(\d+)$`)
	reAdvLoc      = regexp.MustCompile(`^/advisories/(\d+)\?flash=advisories\.published$`)
)

// draftFromCase has NISC open a draft from the source case through the
// pages; it returns the draft page's path.
func (w *advWorld) draftFromCase(nisc *browser) string {
	w.t.Helper()
	a := nisc.get(fmt.Sprintf("/advisories/new?from=%d", w.caseID))
	mustHave(w.t, a, 200, `id="advisory-new-page"`, w.caseNumber)
	a = nisc.post("/advisories/new", url.Values{"from": {itoa(w.caseID)}, "title": {"VPN装置の脆弱性に関する注意喚起"}})
	loc := a.header.Get("Location")
	if a.status != http.StatusSeeOther || !reAdvDraftLoc.MatchString(loc) {
		w.t.Fatalf("create draft: %d → %q\n%s", a.status, loc, a.body)
	}
	return loc
}

// fill completes a scraped draft form with what a publishable advisory
// needs, the summary as given.
func (w *advWorld) fill(form url.Values, summary string) url.Values {
	form.Set("reason", "vulnerability")
	form.Set("importance", "advisory")
	form["recipients"] = []string{fmt.Sprintf("%d:electricity", w.meti)}
	form.Set("summary", summary)
	form.Set("targets", "リモート保守用のVPN装置")
	form.Set("actions", "最新の修正を適用し、認証ログを確認すること。")
	return form
}

// publish drafts from the case and publishes it with a clean summary; it
// returns the advisory's id.
func (w *advWorld) publish(nisc *browser) int64 {
	w.t.Helper()
	loc := w.draftFromCase(nisc)
	form := w.fill(scrapeDraft(w.t, nisc.get(loc).body), "電力分野の事業者でVPN装置の脆弱性を突いた侵入が確認された。")
	form.Set("action", "publish")
	a := nisc.post(loc, form)
	m := reAdvLoc.FindStringSubmatch(a.header.Get("Location"))
	if a.status != http.StatusSeeOther || m == nil {
		w.t.Fatalf("publish: %d → %q\n%s", a.status, a.header.Get("Location"), a.body)
	}
	return atoi(m[1])
}

// delivery is an organisation's delivery of an advisory.
func (w *advWorld) delivery(advisoryID, orgID int64) *kyoyu.Delivery {
	w.t.Helper()
	d, err := w.db.DeliveryTo(context.Background(), advisoryID, orgID)
	if err != nil {
		w.t.Fatalf("delivery to %d: %v", orgID, err)
	}
	return d
}

// stageCount counts the deliveries of a stage.
func (w *advWorld) stageCount(advisoryID int64, stage string) int {
	w.t.Helper()
	ds, err := w.db.Deliveries(context.Background(), advisoryID)
	if err != nil {
		w.t.Fatal(err)
	}
	return len(slices.DeleteFunc(ds, func(d *kyoyu.Delivery) bool { return d.Stage != stage }))
}

// ackLink is the acknowledgement link a person was notified with.
func (w *advWorld) ackLink(email string) string {
	w.t.Helper()
	ns, err := w.db.Notifications(context.Background(), w.viewer(email), 50)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, n := range ns {
		if n.Kind == "notify.advisory_received" && strings.HasPrefix(n.Link, "/ack/") {
			return n.Link
		}
	}
	w.t.Fatalf("%s has no acknowledgement link in %+v", email, ns)
	return ""
}

func (w *advWorld) signInAs(email string) *browser { return w.signIn(email, demo.Password) }
