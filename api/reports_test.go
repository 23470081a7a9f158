package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/api"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

// ago is a time relative to now, so the forms stay valid whenever the
// tests run.
func ago(d time.Duration) *time.Time {
	t := time.Now().Add(-d).UTC().Truncate(time.Second)
	return &t
}

func form(tlp string) kyoyu.ReportForm {
	return kyoyu.ReportForm{
		TLP: tlp, Importance: "warning", EventClass: "intrusion", Causes: []string{"suspicious_email", "vulnerability"},
		Sector: "electricity", DiscoveredAt: ago(2 * time.Hour), OccurredAt: ago(3 * time.Hour),
		AffectedSystem: "制御系ネットワークの監視サーバ",
		Description:    "東和電力の監視サーバに外部から侵入された形跡を確認した。担当 reporter@operator.demo.kyoyu.jp、電話 03-1234-5678。",
		SystemStatus:   "partial", Outlook: "investigating",
		Reporter:         kyoyu.Contact{Organisation: "東和電力株式会社", Name: "東和 報告者", Phone: "03-1234-5678"},
		Timeline:         []kyoyu.TimelineRow{{At: "08:00", Event: "不審な通信を検知"}, {At: "09:30", Event: "侵入を確認し遮断"}},
		ConcernedSectors: []string{}, Recipients: []int64{}, Excluded: []int64{},
	}
}

func caseNumber(seq int) string {
	return fmt.Sprintf("JP-%d-%05d", time.Now().In(kyoyu.JST).Year(), seq)
}

// TestReportingRoutesThroughAPI walks the ministry route (with a
// follow-up) and a ministry's own phoned-in report through the API alone,
// and reaches every route that names an object or acts.
func TestReportingRoutesThroughAPI(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := startAPI(t, db)
		c := newClient(t, e)
		op, ministry, nisc := e.tokens[kyoyu.RoleOperatorReporter], e.tokens[kyoyu.RoleMinistryLiaison], e.tokens[kyoyu.RoleNISCAnalyst]

		// Route 1: operator → ministry → NISC.
		s := c.start(op, map[string]any{"route": "ministry", "form": form("green")})
		if s.Case.Status != kyoyu.CaseDraft || s.Draft.Status != kyoyu.VersionDraft || s.Draft.ReportNumber != 1 ||
			s.Case.Operator != "東和電力株式会社" || s.Draft.Form.OperatorName != "東和電力株式会社" {
			t.Fatalf("started %+v", s)
		}
		f := s.Draft.Form
		f.Supplementary = "社内で調査中"
		if sv := c.save(op, s.Draft.ID, f); len(sv.Problems) != 0 || sv.SavedAt.IsZero() {
			t.Errorf("save: %+v", sv)
		}
		var drafts struct {
			Drafts []entry `json:"drafts"`
		}
		c.must(http.StatusOK, op, "GET /api/v1/reports/drafts", "/api/v1/reports/drafts", nil).decode(t, &drafts)
		if len(drafts.Drafts) != 1 || drafts.Drafts[0].Version.Form.Supplementary != "社内で調査中" {
			t.Errorf("drafts %+v", drafts)
		}
		sub := c.submit(op, s.Draft.ID)
		if sub.CaseNumber != "" || sub.Version.Status != kyoyu.VersionSubmitted || sub.Version.ToOrgID != s.Case.MinistryOrgID {
			t.Errorf("operator's submission %+v", sub)
		}
		// Not at NISC yet.
		c.must(http.StatusNotFound, nisc, "GET /api/v1/cases/{id}", fmt.Sprintf("/api/v1/cases/%d", s.Case.ID), nil)

		mine := c.takeWaiting(ministry, s.Case.ID)
		if mine.Stage != kyoyu.StageMinistry || mine.Form.Reporter.Organisation == "東和電力株式会社" {
			t.Errorf("ministry's draft %+v", mine)
		}
		mf := mine.Form
		mf.TLP = "amber"
		mf.Supplementary = "所管省庁にて確認済み"
		c.save(ministry, mine.ID, mf)
		sub = c.submit(ministry, mine.ID)
		if sub.CaseNumber != caseNumber(1) || !sub.Version.Released {
			t.Fatalf("ministry → NISC: %+v", sub)
		}
		number := sub.CaseNumber

		got := c.caseOf(nisc, s.Case.ID)
		if got.Case.CaseNumber != number || got.Case.Status != kyoyu.CaseAtNISC || got.Case.TLP != "amber" ||
			got.Case.ReportCount != 1 || got.Case.EventClass != "intrusion" || !got.SourceVisible {
			t.Errorf("NISC sees %+v", got)
		}
		vers := c.versions(nisc, s.Case.ID)
		if len(vers) != 1 || vers[0].Stage != kyoyu.StageMinistry {
			t.Fatalf("NISC sees versions %+v", vers)
		}
		var one kyoyu.ReportVersion
		c.must(http.StatusOK, nisc, "GET /api/v1/cases/{id}/versions/{vid}", fmt.Sprintf("/api/v1/cases/%d/versions/%d", s.Case.ID, vers[0].ID), nil).decode(t, &one)
		if one.Form.Supplementary != "所管省庁にて確認済み" {
			t.Errorf("version %+v", one)
		}
		var notes struct {
			Notifications []store.Notification `json:"notifications"`
		}
		c.must(http.StatusOK, op, "GET /api/v1/notifications", "/api/v1/notifications?limit=10", nil).decode(t, &notes)
		if !slices.ContainsFunc(notes.Notifications, func(n store.Notification) bool { return n.Kind == "notify.case_received" }) {
			t.Errorf("operator not told of the number: %+v", notes)
		}

		// 第2報 keeps the number.
		var fu draftOnly
		c.must(http.StatusCreated, op, "POST /api/v1/cases/{id}/follow-up", fmt.Sprintf("/api/v1/cases/%d/follow-up", s.Case.ID), nil).decode(t, &fu)
		if fu.Draft.ReportNumber != 2 {
			t.Errorf("follow-up is report %d", fu.Draft.ReportNumber)
		}
		c.must(http.StatusConflict, op, "POST /api/v1/cases/{id}/follow-up", fmt.Sprintf("/api/v1/cases/%d/follow-up", s.Case.ID), nil)
		f2 := fu.Draft.Form
		f2.Outlook, f2.SystemStatus = "completed", "recovered"
		c.save(op, fu.Draft.ID, f2)
		c.submit(op, fu.Draft.ID)
		if n := c.forward(ministry, s.Case.ID).CaseNumber; n != number {
			t.Errorf("第2報 numbered %q, want %q", n, number)
		}
		vers = c.versions(nisc, s.Case.ID)
		if len(vers) != 2 {
			t.Fatalf("NISC sees %d versions", len(vers))
		}
		var diff struct {
			Changes []struct{ Field, Old, New string } `json:"changes"`
		}
		c.must(http.StatusOK, nisc, "GET /api/v1/cases/{id}/diff", fmt.Sprintf("/api/v1/cases/%d/diff?from=%d&to=%d", s.Case.ID, vers[0].ID, vers[1].ID), nil).decode(t, &diff)
		if !slices.ContainsFunc(diff.Changes, func(ch struct{ Field, Old, New string }) bool {
			return ch.Field == "outlook" && ch.Old == "investigating" && ch.New == "completed"
		}) {
			t.Errorf("diff %+v", diff)
		}
		for _, q := range []string{"", "?from=1", "?from=x&to=1"} {
			a := c.call(nisc, "GET /api/v1/cases/{id}/diff", fmt.Sprintf("/api/v1/cases/%d/diff%s", s.Case.ID, q), nil)
			if a.status != http.StatusUnprocessableEntity || len(a.err(t).Fields) == 0 {
				t.Errorf("diff%s: %d %s", q, a.status, a.body)
			}
		}
		// Only the originator follows up.
		c.must(http.StatusNotFound, nisc, "POST /api/v1/cases/{id}/follow-up", fmt.Sprintf("/api/v1/cases/%d/follow-up", s.Case.ID), nil)

		// Route 3: the ministry enters a report phoned in by an operator.
		m := c.start(ministry, map[string]any{"route": "ministry_origin", "operator_name": "電話連絡のあった事業者",
			"channel": "phone", "taken_by": "経産 連絡官", "form": form("red")})
		if m.Case.Channel != "phone" || m.Case.TakenBy != "経産 連絡官" || m.Draft.Stage != kyoyu.StageMinistry {
			t.Errorf("ministry's case %+v", m)
		}
		if n := c.submit(ministry, m.Draft.ID).CaseNumber; n != caseNumber(2) {
			t.Errorf("ministry's report numbered %q, want %q", n, caseNumber(2))
		}
		red := c.caseOf(nisc, m.Case.ID)
		if red.Case.Channel != "phone" || red.Case.TakenBy != "経産 連絡官" || red.Case.TLP != "red" || red.Case.Route != kyoyu.RouteMinistryOrigin {
			t.Errorf("NISC sees %+v", red)
		}
		c.must(http.StatusNotFound, op, "GET /api/v1/cases/{id}", fmt.Sprintf("/api/v1/cases/%d", m.Case.ID), nil)

		// Lists: filters and paging.
		all := c.list(nisc, "")
		if all.Total != 2 || len(all.Cases) != 2 || all.NextCursor != "" {
			t.Fatalf("NISC's list %+v", all)
		}
		p1 := c.list(nisc, "?limit=1")
		if p1.Total != 2 || len(p1.Cases) != 1 || p1.NextCursor == "" {
			t.Fatalf("page 1 %+v", p1)
		}
		p2 := c.list(nisc, "?limit=1&cursor="+p1.NextCursor)
		if len(p2.Cases) != 1 || p2.Cases[0].ID == p1.Cases[0].ID || p2.NextCursor != "" {
			t.Errorf("page 2 %+v after %+v", p2, p1)
		}
		today := time.Now().In(kyoyu.JST).Format(time.DateOnly)
		for q, want := range map[string]int{
			"?tlp=red": 1, "?tlp=amber": 1, "?unknown=x&status=at_nisc": 2, "?event_class=intrusion&cause=vulnerability": 2,
			"?importance=info": 0, "?from=" + today + "&to=" + today: 2, "?to=2020-01-01": 0, "?q=侵入": 2, "?q=東和": 2,
			"?mine=true": 0, "?overdue=true": 0, "?sector=electricity": 2,
		} {
			if l := c.list(nisc, q); l.Total != want {
				t.Errorf("list%s: total %d, want %d", q, l.Total, want)
			}
		}
		if l := c.list(op, "?mine=true"); l.Total != 1 || l.Cases[0].ID != s.Case.ID {
			t.Errorf("operator's own cases %+v", l)
		}
		a := c.call(nisc, "GET /api/v1/cases", "/api/v1/cases?tlp=black&limit=0&from=soon", nil)
		if fields := a.err(t).Fields; a.status != http.StatusUnprocessableEntity || fields["tlp"] != "invalid_choice" || fields["limit"] == "" || fields["from"] == "" {
			t.Errorf("bad parameters: %d %s", a.status, a.body)
		}

		// Every route that names an object or acts was reached (the sharing
		// routes in consent_test.go, the advisory routes in
		// advisories_test.go, the STIX routes in stix_test.go, which check
		// the same).
		for _, route := range api.Routes {
			if (strings.Contains(route, "{") || !strings.HasPrefix(route, "GET ")) && !c.reached[route] && !sharingRoutes[route] && !isAdvisoryRoute(route) && !isSTIXRoute(route) && !isAdvisorySTIXRoute(route) && !isMISPRoute(route) {
				t.Errorf("%s was never answered with success", route)
			}
		}
	})
}

// TestCEPTOARRouteHidesSourceThroughAPI: on the CEPTOAR route the
// secretariat's label replaces the operator's name, and nothing the
// ministry or NISC gets from the API names the operator.
func TestCEPTOARRouteHidesSourceThroughAPI(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := startAPI(t, db)
		c := newClient(t, e)
		op, sec := e.tokens[kyoyu.RoleOperatorReporter], e.tokens[kyoyu.RoleCEPTOARSecretariat]
		ministry, nisc := e.tokens[kyoyu.RoleMinistryLiaison], e.tokens[kyoyu.RoleNISCAnalyst]

		s := c.start(op, map[string]any{"route": "ceptoar", "form": form("green")})
		if !s.Case.Anonymised || s.Case.SecretariatOrgID == 0 {
			t.Fatalf("started %+v", s.Case)
		}
		if sub := c.submit(op, s.Draft.ID); sub.Version.ToOrgID != s.Case.SecretariatOrgID {
			t.Fatalf("operator's submission went to %d", sub.Version.ToOrgID)
		}
		c.must(http.StatusNotFound, ministry, "GET /api/v1/cases/{id}", fmt.Sprintf("/api/v1/cases/%d", s.Case.ID), nil)
		anon := c.takeWaiting(sec, s.Case.ID)
		label := anon.Form.OperatorName
		if !strings.HasPrefix(label, "電力事業者") || strings.Contains(anon.Form.Description, "東和") {
			t.Fatalf("secretariat's draft: %q / %q", label, anon.Form.Description)
		}
		anon.Form.Supplementary = "セプター事務局にて匿名化"
		if sv := c.save(sec, anon.ID, anon.Form); len(sv.Problems) != 0 {
			t.Errorf("anonymised draft has problems %v", sv.Problems)
		}
		c.submit(sec, anon.ID)
		sub := c.forward(ministry, s.Case.ID)
		if sub.CaseNumber != caseNumber(1) {
			t.Fatalf("number %q", sub.CaseNumber)
		}
		// 第2報 along the same route.
		var fu draftOnly
		c.must(http.StatusCreated, op, "POST /api/v1/cases/{id}/follow-up", fmt.Sprintf("/api/v1/cases/%d/follow-up", s.Case.ID), nil).decode(t, &fu)
		f2 := fu.Draft.Form
		f2.Outlook, f2.Lessons = "completed", "東和電力として監視を強化する"
		c.save(op, fu.Draft.ID, f2)
		c.submit(op, fu.Draft.ID)
		anon2 := c.takeWaiting(sec, s.Case.ID)
		if anon2.Form.OperatorName != label || strings.Contains(anon2.Form.Lessons, "東和") {
			t.Fatalf("second anonymisation: %q / %q", anon2.Form.OperatorName, anon2.Form.Lessons)
		}
		c.submit(sec, anon2.ID)
		c.forward(ministry, s.Case.ID)

		// Everything the ministry and NISC may ask.
		for _, tok := range []string{ministry, nisc} {
			d := c.caseOf(tok, s.Case.ID)
			if d.SourceVisible || d.Case.Operator != label || d.Case.OperatorOrgID != 0 || d.Case.OriginatorOrgID != 0 {
				t.Errorf("sees the source: %+v", d)
			}
			l := c.list(tok, "")
			if l.Total != 1 || l.Cases[0].Operator != label || l.Cases[0].OriginatorOrgID != 0 {
				t.Errorf("list %+v", l)
			}
			if l := c.list(tok, "?q=東和"); l.Total != 0 {
				t.Errorf("search 東和 finds %d", l.Total)
			}
			if l := c.list(tok, "?q=侵入"); l.Total != 1 {
				t.Errorf("search 侵入 finds %d", l.Total)
			}
			vers := c.versions(tok, s.Case.ID)
			if len(vers) < 2 {
				t.Fatalf("sees %d versions", len(vers))
			}
			for i, v := range vers {
				c.must(http.StatusOK, tok, "GET /api/v1/cases/{id}/versions/{vid}", fmt.Sprintf("/api/v1/cases/%d/versions/%d", s.Case.ID, v.ID), nil)
				if v.SourceOnly {
					t.Errorf("sees source-only version %d", v.ID)
				}
				if i > 0 {
					c.must(http.StatusOK, tok, "GET /api/v1/cases/{id}/diff", fmt.Sprintf("/api/v1/cases/%d/diff?from=%d&to=%d", s.Case.ID, vers[0].ID, v.ID), nil)
				}
			}
			c.must(http.StatusOK, tok, "GET /api/v1/reports/incoming", "/api/v1/reports/incoming", nil)
			c.must(http.StatusOK, tok, "GET /api/v1/reports/drafts", "/api/v1/reports/drafts", nil)
			c.must(http.StatusOK, tok, "GET /api/v1/notifications", "/api/v1/notifications", nil)
			for _, b := range c.bodies[tok] {
				// The first line is the request, which may hold the word itself.
				if _, answer, _ := strings.Cut(b, "\n"); strings.Contains(answer, "東和") {
					t.Errorf("an answer names the operator:\n%s", b)
				}
			}
		}
		// The operator itself and its secretariat know the source.
		for _, tok := range []string{op, sec} {
			if d := c.caseOf(tok, s.Case.ID); !d.SourceVisible || d.Case.Operator != "東和電力株式会社" {
				t.Errorf("entitled caller sees %+v", d)
			}
		}
	})
}

// TestReportRefusalsThroughAPI: bodies the document does not allow, forms
// a submission refuses (keeping the draft), and cases out of sight.
func TestReportRefusalsThroughAPI(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := startAPI(t, db)
		c := newClient(t, e)
		op, ministry, nisc := e.tokens[kyoyu.RoleOperatorReporter], e.tokens[kyoyu.RoleMinistryLiaison], e.tokens[kyoyu.RoleNISCAnalyst]
		gasOrg, err := db.OrganisationByCode(context.Background(), "demo_gas_1")
		if err != nil {
			t.Fatal(err)
		}
		gas := e.tokenFor(t, &kyoyu.Person{OrganisationID: gasOrg.ID, Email: "staff@gas.example.jp", Name: "ガス 職員",
			Role: kyoyu.RoleOperatorReporter, HandlesIncidents: true, PasswordHash: "x"})

		start := "POST /api/v1/reports"
		good := []byte(`{"route": "ministry", "form": {"tlp": "green"}}`)
		for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=shift_jis"} {
			if a := c.raw(op, start, "/api/v1/reports", ct, good); a.status != http.StatusUnsupportedMediaType {
				t.Errorf("Content-Type %q: %d", ct, a.status)
			}
		}
		for body, field := range map[string]string{
			`{"route": "ministry"`:                  "body",
			``:                                      "body",
			`{"route": "ministry"} {}`:              "body",
			`{"route": "ministry", "urgent": true}`: "urgent",
			`{"route": "ministry", "form": {"colour": "red"}}`:  "colour",
			`{"route": "ministry", "form": {"tlp": 3}}`:         "form.tlp",
			`{"route": "ministry", "form": {"causes": "dos"}}`:  "form.causes",
			`{"route": "ministry", "form": {"tlp": "black"}}`:   "tlp",
			`{"route": "ministry", "form": {"causes": ["x"]}}`:  "causes",
			`{"route": "sideways", "form": {"tlp": "green"}}`:   "route",
			`{"route": "ministry", "form": {"press_at": "今日"}}`: "body",
		} {
			a := c.raw(op, start, "/api/v1/reports", "application/json", []byte(body))
			if a.status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d %s", body, a.status, a.body)
				continue
			}
			if got := a.err(t); got.Fields[field] == "" || got.Message == "" {
				t.Errorf("%s: %+v, want a problem for %s", body, got, field)
			}
		}
		f := form("green")
		f.EventClass = "meteor_strike"
		if a := c.raw(op, start, "/api/v1/reports", "application/json", mustJSON(t, map[string]any{"route": "ministry", "form": f})); a.status != http.StatusUnprocessableEntity || a.err(t).Fields["event_class"] != "invalid_choice" {
			t.Errorf("unknown event class: %d %s", a.status, a.body)
		}
		huge := fmt.Sprintf(`{"route": "ministry", "form": {"description": %q}}`, strings.Repeat("a", 1<<20))
		if a := c.raw(op, start, "/api/v1/reports", "application/json", []byte(huge)); a.status != http.StatusRequestEntityTooLarge {
			t.Errorf("huge body: %d", a.status)
		}
		// Refused bodies started nothing.
		if l := c.list(op, ""); l.Total != 0 {
			t.Fatalf("refused bodies left %d cases", l.Total)
		}

		// A draft whose submission is refused is kept as saved.
		s := c.start(op, map[string]any{"route": "ministry", "form": form("red")})
		bad := s.Draft.Form
		bad.OccurredAt = ago(time.Hour) // after discovery
		bad.Lessons = "保存されるべき文章"
		if sv := c.save(op, s.Draft.ID, bad); sv.Problems["occurred_at"] != "after_discovered" {
			t.Errorf("problems %v", sv.Problems)
		}
		put := "PUT /api/v1/reports/drafts/{vid}"
		draftPath := fmt.Sprintf("/api/v1/reports/drafts/%d", s.Draft.ID)
		wrong := bad
		wrong.EventClass = "meteor_strike"
		if a := c.raw(op, put, draftPath, "application/json", mustJSON(t, wrong)); a.status != http.StatusUnprocessableEntity || a.err(t).Fields["event_class"] != "invalid_choice" {
			t.Errorf("unknown event class saved: %d %s", a.status, a.body)
		}
		if a := c.raw(op, put, draftPath, "text/plain", mustJSON(t, bad)); a.status != http.StatusUnsupportedMediaType {
			t.Errorf("text/plain draft: %d", a.status)
		}
		if a := c.raw(op, put, draftPath, "application/json", []byte(fmt.Sprintf(`{"description": %q}`, strings.Repeat("長", 400000)))); a.status != http.StatusRequestEntityTooLarge {
			t.Errorf("huge draft: %d", a.status)
		}
		if a := c.raw(op, put, draftPath, "application/json", []byte(fmt.Sprintf(`{"description": %q}`, strings.Repeat("長", 20001)))); a.status != http.StatusUnprocessableEntity || a.err(t).Fields["description"] != "too_long" {
			t.Errorf("oversize description: %d %s", a.status, a.body)
		}
		a := c.call(op, "POST /api/v1/reports/drafts/{vid}/submit", draftPath+"/submit", nil)
		if a.status != http.StatusUnprocessableEntity || a.err(t).Fields["occurred_at"] != "after_discovered" {
			t.Fatalf("submission: %d %s", a.status, a.body)
		}
		var kept kyoyu.ReportVersion
		c.must(http.StatusOK, op, "GET /api/v1/cases/{id}/versions/{vid}", fmt.Sprintf("/api/v1/cases/%d/versions/%d", s.Case.ID, s.Draft.ID), nil).decode(t, &kept)
		if kept.Status != kyoyu.VersionDraft || kept.Form.Lessons != "保存されるべき文章" || kept.Form.EventClass != "intrusion" ||
			kept.Form.OccurredAt == nil || !kept.Form.OccurredAt.Equal(*bad.OccurredAt) {
			t.Errorf("draft after refusals: %+v", kept)
		}

		// A RED case, sent on to NISC, is out of every other operator's sight:
		// answered exactly as a case that does not exist.
		good2 := kept.Form
		good2.OccurredAt = ago(3 * time.Hour)
		c.save(op, s.Draft.ID, good2)
		c.submit(op, s.Draft.ID)
		c.forward(ministry, s.Case.ID)
		c.caseOf(nisc, s.Case.ID)
		missing := c.call(gas, "GET /api/v1/cases/{id}", "/api/v1/cases/999999", nil)
		if missing.status != http.StatusNotFound {
			t.Fatalf("missing case: %d", missing.status)
		}
		vid := kept.ID
		for _, probe := range []struct{ route, target string }{
			{"GET /api/v1/cases/{id}", "/api/v1/cases/%d"},
			{"GET /api/v1/cases/{id}/versions", "/api/v1/cases/%d/versions"},
			{"GET /api/v1/cases/{id}/versions/{vid}", "/api/v1/cases/%d/versions/" + fmt.Sprint(vid)},
			{"GET /api/v1/cases/{id}/diff", "/api/v1/cases/%d/diff?from=" + fmt.Sprint(vid) + "&to=" + fmt.Sprint(vid)},
			{"POST /api/v1/cases/{id}/follow-up", "/api/v1/cases/%d/follow-up"},
		} {
			for _, id := range []int64{s.Case.ID, 999999} {
				got := c.call(gas, probe.route, fmt.Sprintf(probe.target, id), nil)
				if got.status != http.StatusNotFound || !bytes.Equal(got.body, missing.body) {
					t.Errorf("%s for case %d: %d %s, want the missing case's answer", probe.route, id, got.status, got.body)
				}
			}
		}
		for _, probe := range []struct {
			route, target string
			body          any
		}{
			{"PUT /api/v1/reports/drafts/{vid}", "/api/v1/reports/drafts/%d", form("red")},
			{"POST /api/v1/reports/drafts/{vid}/submit", "/api/v1/reports/drafts/%d/submit", nil},
			{"POST /api/v1/reports/incoming/{vid}/take", "/api/v1/reports/incoming/%d/take", nil},
		} {
			for _, id := range []int64{vid, 999999} {
				got := c.call(gas, probe.route, fmt.Sprintf(probe.target, id), probe.body)
				if got.status != http.StatusNotFound || !bytes.Equal(got.body, missing.body) {
					t.Errorf("%s for version %d: %d %s", probe.route, id, got.status, got.body)
				}
			}
		}
		if l := c.list(gas, ""); l.Total != 0 {
			t.Errorf("another operator lists %d cases", l.Total)
		}
		// Roles that may not start a route are answered like a missing object.
		if a := c.call(nisc, start, "/api/v1/reports", map[string]any{"route": "ministry", "form": form("green")}); a.status != http.StatusNotFound || !bytes.Equal(a.body, missing.body) {
			t.Errorf("NISC starts an operator's report: %d %s", a.status, a.body)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
