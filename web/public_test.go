package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/internal/testkit"
	"kyoyu/report"
	"kyoyu/store"
)

// WHITE material is readable without signing in, on a page and a feed;
// nothing of a narrower range appears there.
func TestPublicPageAndFeed(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		ctx := context.Background()
		cfg := kyoyu.Config{}
		_ = cfg.Validate()
		svc := report.New(db, cfg)
		p := s.person(liaison)
		org, _ := db.Organisation(ctx, p.OrganisationID)
		pr := &account.Principal{Person: p, Organisation: org}
		ids := map[string]int64{}
		for _, tlp := range []string{"white", "green"} {
			f := kyoyu.ReportForm{TLP: tlp, Description: "公開試験 " + tlp + " の概要", Reporter: kyoyu.Contact{Organisation: "経済産業省", Name: "経産 連絡官", Phone: "03-0000-0002"}}
			c, d, err := svc.Start(ctx, pr, "192.0.2.1", report.StartInput{Route: kyoyu.RouteMinistryOrigin, OperatorName: "事業者", Form: f})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := svc.Submit(ctx, pr, "192.0.2.1", d.ID); err != nil {
				t.Fatal(err)
			}
			ids[tlp] = c.ID
		}
		anon := s.browser()
		mustHave(t, anon.get("/public"), http.StatusOK, "公開試験 white")
		if a := anon.get("/public"); strings.Contains(a.body, "公開試験 green") {
			t.Error("a GREEN case is on the public page")
		}
		mustHave(t, anon.get("/public/cases/"+itoa(ids["white"])), http.StatusOK, "公開試験 white の概要")
		if a := anon.get("/public/cases/" + itoa(ids["green"])); a.status != http.StatusNotFound {
			t.Errorf("GREEN case publicly: %d", a.status)
		}
		feed := anon.get("/public/feed.atom")
		if feed.status != http.StatusOK || !strings.Contains(feed.header.Get("Content-Type"), "atom") ||
			!strings.Contains(feed.body, "公開試験 white") || strings.Contains(feed.body, "公開試験 green") {
			t.Errorf("feed: %d %s\n%s", feed.status, feed.header.Get("Content-Type"), feed.body)
		}
	})
}
