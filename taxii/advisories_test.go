package taxii_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/advisory"
	"kyoyu/internal/testkit"
	"kyoyu/outbox"
	"kyoyu/store"
	"kyoyu/taxii"
)

// TestTAXIIAdvisories: an AMBER advisory and its follow-up are served in
// the advisories collection from their publication, as two versions of
// one report, to those the range admits; the backfill gives the
// publications' jobs.
func TestTAXIIAdvisories(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := start(t, db)
		ctx := context.Background()
		cs := e.collections(towa)
		advs := advisory.New(db, e.cfg)
		analyst := e.people[nisc]
		adv, err := advs.Draft(ctx, analyst, "test", kyoyu.AdvisoryForm{})
		if err != nil {
			t.Fatal(err)
		}
		af := adv.Form
		af.Reason, af.Importance, af.TLP = kyoyu.ReasonVulnerability, "advisory", "amber"
		af.Recipients = []kyoyu.RecipientPair{{MinistryID: e.people[meti].Organisation.ID, Sector: "electricity"}}
		af.Title, af.Summary, af.Actions = "VPN装置の脆弱性に関する注意喚起", "VPN装置の脆弱性を突いた侵入が相次いでいる。", "最新の修正を適用すること。"
		publish := func(versionID int64, f kyoyu.AdvisoryForm) {
			t.Helper()
			hs, err := advs.Highlights(ctx, analyst, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hs {
				f.Resolved = append(f.Resolved, h.Text)
			}
			if err := advs.SaveDraft(ctx, analyst, "test", versionID, f); err != nil {
				t.Fatal(err)
			}
			if _, err := advs.Publish(ctx, analyst, "test", versionID); err != nil {
				t.Fatal(err)
			}
			w := &outbox.Worker{DB: db, Cfg: e.cfg, Poll: 10 * time.Millisecond}
			if err := w.RunUntilIdle(ctx); err != nil {
				t.Fatal(err)
			}
		}
		publish(adv.VersionID, af)
		second, _, err := advs.FollowUp(ctx, analyst, "test", adv.ID)
		if err != nil {
			t.Fatal(err)
		}
		af.Summary += " 第2報：修正版が公開された。"
		publish(second, af)
		advCol := collectionByAlias(t, cs, taxii.AliasAdvisories).ID
		reports := e.pageAll(nisc, advCol, 1, url.Values{"match[type]": {"report"}})
		coas := e.pageAll(nisc, advCol, 1, url.Values{"match[type]": {"course-of-action"}})
		if len(reports) != 1 || len(coas) != 1 {
			t.Fatalf("advisories: %d reports, %d courses of action", len(reports), len(coas))
		}
		var avs taxii.Versions
		e.must(http.StatusOK, "GET", "/taxii2/api/collections/"+advCol+"/objects/"+reports[0].ID+"/versions/", nisc, nil).decode(t, &avs)
		if len(avs.Versions) != 2 || avs.Versions[1] != reports[0].Modified {
			t.Errorf("the advisory's versions %v, newest %s", avs.Versions, reports[0].Modified)
		}
		// AMBER for electricity: not for the gas operator.
		if got := e.pageAll(gasOp, advCol, 10, nil); len(got) != 0 {
			t.Errorf("the gas operator gets %d objects of an AMBER advisory for electricity", len(got))
		}
		e.must(http.StatusNotFound, "GET", "/taxii2/api/collections/"+advCol+"/objects/"+reports[0].ID+"/", gasOp, nil)
		// The backfill gives the publications' jobs too.
		all, err := db.Jobs(ctx, store.JobFilter{Kind: store.JobSTIX, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var ajobs []*store.Job
		for _, j := range all {
			if strings.HasPrefix(j.DedupeKey, "stix:advisory-version:") {
				ajobs = append(ajobs, j)
			}
		}
		if len(ajobs) != 2 {
			t.Errorf("advisory jobs %d, want 2", len(ajobs))
		}
		for _, j := range ajobs {
			if j.Status != store.JobDone {
				t.Errorf("advisory job %+v", j)
			}
		}
		if got := backfilled(t, db, ajobs); !slices.Equal(got, jobKeys(ajobs)) {
			t.Errorf("the backfill's advisory jobs %q, the publications' %q", got, jobKeys(ajobs))
		}
		e.checkViews(t)
	})
}
