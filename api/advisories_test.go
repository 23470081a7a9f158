package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/advisory"
	"kyoyu/api"
	"kyoyu/internal/testkit"
	"kyoyu/report"
	"kyoyu/store"
)

// isAdvisoryRoute: the advisory routes are reached by the tests in this
// file rather than by the reporting walk.
func isAdvisoryRoute(route string) bool {
	return strings.Contains(route, " /api/v1/advisories") && !isAdvisorySTIXRoute(route)
}

// Shapes of the advisory answers, for reading them in tests.
type (
	advisoryList struct {
		Advisories []kyoyu.Advisory `json:"advisories"`
		Total      int              `json:"total"`
		NextCursor string           `json:"next_cursor"`
	}
	advisoryDetail struct {
		Advisory kyoyu.Advisory  `json:"advisory"`
		Delivery *kyoyu.Delivery `json:"delivery"`
	}
)

// Routes of the advisory flow, as named in api.Routes.
const (
	rAdvList      = "GET /api/v1/advisories"
	rAdvDraft     = "POST /api/v1/advisories"
	rAdvGet       = "GET /api/v1/advisories/{id}"
	rAdvSave      = "PUT /api/v1/advisories/drafts/{vid}"
	rAdvHighlight = "GET /api/v1/advisories/drafts/{vid}/highlights"
	rAdvPublish   = "POST /api/v1/advisories/drafts/{vid}/publish"
	rAdvFollowUp  = "POST /api/v1/advisories/{id}/follow-up"
	rAdvForward   = "POST /api/v1/advisories/{id}/forward"
	rAdvAck       = "POST /api/v1/advisories/{id}/ack"
	rAdvRates     = "GET /api/v1/advisories/{id}/rates"
	rAdvThreads   = "GET /api/v1/advisories/{id}/inquiries"
	rAdvAsk       = "POST /api/v1/advisories/{id}/inquiries"
	rAdvReply     = "POST /api/v1/advisories/{id}/inquiries/{ministry}/reply"
	rAdvFeedback  = "GET /api/v1/advisories/{id}/feedback"
	rAdvGive      = "POST /api/v1/advisories/{id}/feedback"
)

// TestAdvisoriesThroughAPI: NISC drafts an advisory from an AMBER case,
// is refused while the text identifies the source or keeps an address
// unchecked, publishes it; METI passes it to the CEPTOAR, the secretariat
// to its members; recipients acknowledge, ask and answer; a 第2報 keeps the
// number. Another sector's operator is answered, everywhere, exactly as
// for an advisory that does not exist.
func TestAdvisoriesThroughAPI(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := startAPI(t, db)
		c := newClient(t, e)
		ctx := context.Background()
		op, sec := e.tokens[kyoyu.RoleOperatorReporter], e.tokens[kyoyu.RoleCEPTOARSecretariat]
		ministry, nisc := e.tokens[kyoyu.RoleMinistryLiaison], e.tokens[kyoyu.RoleNISCAnalyst]
		gasOrg, err := db.OrganisationByCode(ctx, "demo_gas_1")
		if err != nil {
			t.Fatal(err)
		}
		gas := e.tokenFor(t, &kyoyu.Person{OrganisationID: gasOrg.ID, Email: "staff@gas.example.jp", Name: "ガス 職員",
			Role: kyoyu.RoleOperatorReporter, HandlesIncidents: true, PasswordHash: "x"})
		meti, err := db.OrganisationByCode(ctx, "meti")
		if err != nil {
			t.Fatal(err)
		}

		// The source: 東和電力's report, AMBER, at NISC.
		s := c.start(op, map[string]any{"route": "ministry", "form": form("amber")})
		c.submit(op, s.Draft.ID)
		number := c.forward(ministry, s.Case.ID).CaseNumber

		missing := c.call(gas, rAdvGet, "/api/v1/advisories/999999", nil)
		if missing.status != http.StatusNotFound {
			t.Fatalf("missing advisory: %d", missing.status)
		}
		hidden := func(token, route, target string, body any) {
			t.Helper()
			if a := c.call(token, route, target, body); a.status != http.StatusNotFound || !bytes.Equal(a.body, missing.body) {
				t.Errorf("%s %s: %d %s, want the missing advisory's answer", route, target, a.status, a.body)
			}
		}

		// Only NISC drafts; bodies the document does not allow are refused.
		hidden(ministry, rAdvDraft, "/api/v1/advisories", advForm(kyoyu.AdvisoryForm{Title: "x"}))
		for body, field := range map[string]string{
			`{"reason": "boredom"}`:    "reason",
			`{"tlp": "black"}`:         "tlp",
			`{"importance": "urgent"}`: "importance",
			`{"recipients": [{"ministry_id": 1, "sector": "moon"}]}`:   "recipients",
			`{"title": "x", "colour": "red"}`:                          "colour",
			`{"source_cases": "all"}`:                                  "source_cases",
			`{"title": "x"`:                                            "body",
			fmt.Sprintf(`{"summary": %q}`, strings.Repeat("長", 20001)): "summary",
		} {
			if a := c.raw(nisc, rAdvDraft, "/api/v1/advisories", "application/json", []byte(body)); a.status != http.StatusUnprocessableEntity || a.err(t).Fields[field] == "" {
				t.Errorf("%.60s: %d %s", body, a.status, a.body)
			}
		}
		if a := c.raw(nisc, rAdvDraft, "/api/v1/advisories", "text/plain", []byte(`{}`)); a.status != http.StatusUnsupportedMediaType {
			t.Errorf("text/plain: %d", a.status)
		}
		if a := c.raw(nisc, rAdvDraft, "/api/v1/advisories", "application/json", []byte(fmt.Sprintf(`{"summary": %q}`, strings.Repeat("a", 1<<20)))); a.status != http.StatusRequestEntityTooLarge {
			t.Errorf("huge body: %d", a.status)
		}
		if l := c.advisories(nisc, ""); l.Total != 0 {
			t.Fatalf("refused bodies left %d advisories", l.Total)
		}

		var a kyoyu.Advisory
		c.must(http.StatusCreated, nisc, rAdvDraft, "/api/v1/advisories", advForm(kyoyu.AdvisoryForm{SourceCases: []int64{s.Case.ID}})).decode(t, &a)
		if a.Status != "draft" || a.TLP == "" || a.Form.TLP != "amber" || a.Form.Contact.Organisation == "" || !slices.Equal(a.Form.SourceCases, []int64{s.Case.ID}) {
			t.Fatalf("draft %+v", a)
		}
		// Out of everyone else's sight while a draft.
		for _, tok := range []string{ministry, op, gas} {
			hidden(tok, rAdvGet, fmt.Sprintf("/api/v1/advisories/%d", a.ID), nil)
		}
		draft := fmt.Sprintf("/api/v1/advisories/drafts/%d", a.VersionID)
		f := a.Form
		f.Reason, f.Importance = kyoyu.ReasonVulnerability, "advisory"
		f.Recipients = []kyoyu.RecipientPair{{MinistryID: meti.ID, Sector: "electricity"}}
		f.Title = "VPN装置の脆弱性に関する注意喚起"
		f.Summary = "東和電力株式会社で侵入があった（" + number + "）。連絡先 soc@example.jp"
		f.Actions = "修正版を適用すること。"
		c.must(http.StatusOK, nisc, rAdvSave, draft, advForm(f))
		hidden(ministry, rAdvSave, draft, advForm(f))
		hidden(ministry, rAdvHighlight, draft+"/highlights", nil)
		var hl api.HighlightList
		c.must(http.StatusOK, nisc, rAdvHighlight, draft+"/highlights", nil).decode(t, &hl)
		if !slices.ContainsFunc(hl.Highlights, func(h report.Finding) bool { return h.Field == "summary" && h.Source && h.Text == number }) ||
			!slices.ContainsFunc(hl.Highlights, func(h report.Finding) bool { return h.Kind == "email" && !h.Source }) {
			t.Errorf("highlights %+v", hl)
		}
		pub := c.call(nisc, rAdvPublish, draft+"/publish", nil)
		if pub.status != http.StatusUnprocessableEntity || pub.err(t).Fields["summary"] != "identifies_source" {
			t.Fatalf("publishing a draft that names the source: %d %s", pub.status, pub.body)
		}
		f.Summary = "電力分野の事業者で侵入があった。連絡先 soc@example.jp"
		f.TLP = "green"
		c.must(http.StatusOK, nisc, rAdvSave, draft, advForm(f))
		pub = c.call(nisc, rAdvPublish, draft+"/publish", nil)
		if p := pub.err(t).Fields; pub.status != http.StatusUnprocessableEntity || p["summary"] != "unresolved_highlight" || p["tlp"] != "wider_than_sources" {
			t.Fatalf("publish refusals: %d %s", pub.status, pub.body)
		}
		f.TLP, f.Resolved = "amber", []string{"soc@example.jp"}
		c.must(http.StatusOK, nisc, rAdvSave, draft, advForm(f))
		hidden(ministry, rAdvPublish, draft+"/publish", nil)
		var published api.AdvisoryPublished
		c.must(http.StatusOK, nisc, rAdvPublish, draft+"/publish", nil).decode(t, &published)
		want := fmt.Sprintf("T%d-0001", time.Now().In(kyoyu.JST).Year())
		if published.Number != want || published.Advisory.Number != want || published.Advisory.Status != "published" {
			t.Fatalf("published %+v, want %s", published, want)
		}
		// A published version is no draft any more.
		hidden(nisc, rAdvSave, draft, advForm(f))
		hidden(nisc, rAdvPublish, draft+"/publish", nil)

		id := a.ID
		path := fmt.Sprintf("/api/v1/advisories/%d", id)
		// The ministry has it, without the issuer's working notes.
		d := c.advisory(ministry, id)
		if d.Delivery == nil || d.Delivery.Stage != "ministry" || d.Delivery.AcknowledgedAt != nil ||
			len(d.Advisory.Form.SourceCases) != 0 || len(d.Advisory.Form.Resolved) != 0 || d.Advisory.Form.Summary != f.Summary {
			t.Fatalf("the ministry sees %+v", d)
		}
		if d := c.advisory(nisc, id); !slices.Equal(d.Advisory.Form.SourceCases, []int64{s.Case.ID}) || d.Delivery != nil {
			t.Errorf("the issuer sees %+v", d)
		}
		if l := c.advisories(ministry, ""); l.Total != 1 || l.Advisories[0].ID != id {
			t.Errorf("the ministry lists %+v", l)
		}
		// Another sector's operator: not in the AMBER electricity range.
		if l := c.advisories(gas, ""); l.Total != 0 {
			t.Errorf("the gas operator lists %+v", l)
		}
		for _, p := range []struct {
			route, target string
			body          any
		}{
			{rAdvGet, "/api/v1/advisories/%d", nil}, {rAdvFollowUp, "/api/v1/advisories/%d/follow-up", nil},
			{rAdvForward, "/api/v1/advisories/%d/forward", api.ForwardRequest{AllMembers: true}}, {rAdvAck, "/api/v1/advisories/%d/ack", nil},
			{rAdvRates, "/api/v1/advisories/%d/rates", nil}, {rAdvThreads, "/api/v1/advisories/%d/inquiries", nil},
			{rAdvAsk, "/api/v1/advisories/%d/inquiries", api.InquiryRequest{Body: "質問"}},
			{rAdvReply, "/api/v1/advisories/%d/inquiries/" + fmt.Sprint(meti.ID) + "/reply", api.InquiryRequest{Body: "回答"}},
			{rAdvFeedback, "/api/v1/advisories/%d/feedback", nil}, {rAdvGive, "/api/v1/advisories/%d/feedback", api.FeedbackRequest{Answer: "useful"}},
		} {
			for _, x := range []int64{id, 999999} {
				hidden(gas, p.route, fmt.Sprintf(p.target, x), p.body)
			}
		}

		// The cascade: never wider; each hop in one call.
		if a := c.call(ministry, rAdvForward, path+"/forward", api.ForwardRequest{AllCEPTOARs: true, TLP: "green"}); a.status != http.StatusUnprocessableEntity || a.err(t).Fields["tlp"] != "widens" {
			t.Errorf("widening forward: %d %s", a.status, a.body)
		}
		if a := c.call(ministry, rAdvForward, path+"/forward", api.ForwardRequest{Operators: []int64{gasOrg.ID}}); a.status != http.StatusUnprocessableEntity || a.err(t).Fields["targets"] != "outside_range" {
			t.Errorf("forward outside the range: %d %s", a.status, a.body)
		}
		if a := c.raw(ministry, rAdvForward, path+"/forward", "application/json", []byte(`{"everyone": true}`)); a.status != http.StatusUnprocessableEntity || a.err(t).Fields["everyone"] != "unknown_field" {
			t.Errorf("unknown field: %d %s", a.status, a.body)
		}
		var fw api.ForwardResult
		c.must(http.StatusOK, ministry, rAdvForward, path+"/forward", api.ForwardRequest{AllCEPTOARs: true}).decode(t, &fw)
		if fw.Forwarded != 1 {
			t.Errorf("forwarded to %d CEPTOARs", fw.Forwarded)
		}
		c.must(http.StatusOK, sec, rAdvForward, path+"/forward", api.ForwardRequest{AllMembers: true}).decode(t, &fw)
		if fw.Forwarded < 3 {
			t.Errorf("forwarded to %d members", fw.Forwarded)
		}
		hidden(op, rAdvForward, path+"/forward", api.ForwardRequest{AllMembers: true})

		var ack api.AckResult
		c.must(http.StatusOK, op, rAdvAck, path+"/ack", nil).decode(t, &ack)
		if !ack.First || ack.Delivery.AckVia != "ui" || ack.Delivery.AcknowledgedAt == nil || ack.Delivery.Stage != "operator" {
			t.Errorf("ack %+v", ack)
		}
		c.must(http.StatusOK, op, rAdvAck, path+"/ack", nil).decode(t, &ack)
		if ack.First {
			t.Errorf("acknowledged twice")
		}
		hidden(nisc, rAdvAck, path+"/ack", nil) // the issuer received nothing
		var rates api.AdvisoryRates
		c.must(http.StatusOK, nisc, rAdvRates, path+"/rates", nil).decode(t, &rates)
		stages := map[string]advisory.StageRate{}
		for _, r := range rates.Stages {
			stages[r.Stage] = r
		}
		if r := stages["ministry"]; len(rates.Stages) != 3 || r.Delivered != 1 || r.Acknowledged != 0 || len(r.Silent) != 1 {
			t.Errorf("rates %+v", rates.Stages)
		}
		if r := stages["operator"]; r.Acknowledged != 1 || r.Rate <= 0 || r.Delivered != len(rates.Deliveries)-2 {
			t.Errorf("operator stage %+v of %d deliveries", r, len(rates.Deliveries))
		}
		for _, tok := range []string{ministry, sec, op} {
			hidden(tok, rAdvRates, path+"/rates", nil)
		}

		// Inquiries: the ministry asks, NISC answers, nobody else reads them.
		if a := c.call(ministry, rAdvAsk, path+"/inquiries", api.InquiryRequest{Body: "  "}); a.status != http.StatusUnprocessableEntity || a.err(t).Fields["body"] != "required" {
			t.Errorf("empty inquiry: %d %s", a.status, a.body)
		}
		var msg store.InquiryMessage
		c.must(http.StatusCreated, ministry, rAdvAsk, path+"/inquiries", api.InquiryRequest{Body: "対象機種を教えてください。"}).decode(t, &msg)
		if msg.MinistryID != meti.ID || msg.FromOrgID != meti.ID {
			t.Errorf("inquiry %+v", msg)
		}
		hidden(op, rAdvAsk, path+"/inquiries", api.InquiryRequest{Body: "質問"})
		hidden(nisc, rAdvReply, fmt.Sprintf("%s/inquiries/%d/reply", path, gasOrg.ID), api.InquiryRequest{Body: "回答"})
		hidden(ministry, rAdvReply, fmt.Sprintf("%s/inquiries/%d/reply", path, meti.ID), api.InquiryRequest{Body: "回答"})
		c.must(http.StatusCreated, nisc, rAdvReply, fmt.Sprintf("%s/inquiries/%d/reply", path, meti.ID), api.InquiryRequest{Body: "型番は別紙のとおりです。"})
		for tok, n := range map[string]int{ministry: 2, nisc: 2, op: 0, sec: 0} {
			var th api.InquiryList
			c.must(http.StatusOK, tok, rAdvThreads, path+"/inquiries", nil).decode(t, &th)
			if len(th.Messages) != n {
				t.Errorf("thread has %d messages, want %d", len(th.Messages), n)
			}
		}

		// Feedback: the issuer reads every answer, the source's reporter the counts.
		if a := c.raw(op, rAdvGive, path+"/feedback", "application/json", []byte(`{"answer": "meh"}`)); a.status != http.StatusUnprocessableEntity || a.err(t).Fields["answer"] != "invalid_choice" {
			t.Errorf("bogus answer: %d %s", a.status, a.body)
		}
		var fb store.Feedback
		c.must(http.StatusOK, op, rAdvGive, path+"/feedback", api.FeedbackRequest{Answer: "seen_here", Comment: "当社でも同様の通信を確認"}).decode(t, &fb)
		if fb.Answer != "seen_here" || fb.OrgID != s.Case.OriginatorOrgID {
			t.Errorf("feedback %+v", fb)
		}
		hidden(nisc, rAdvGive, path+"/feedback", api.FeedbackRequest{Answer: "useful"})
		var fv advisory.FeedbackView
		c.must(http.StatusOK, nisc, rAdvFeedback, path+"/feedback", nil).decode(t, &fv)
		if fv.Counts["seen_here"] != 1 || len(fv.Answers) != 1 {
			t.Errorf("the issuer's feedback %+v", fv)
		}
		fv = advisory.FeedbackView{}
		c.must(http.StatusOK, op, rAdvFeedback, path+"/feedback", nil).decode(t, &fv)
		if fv.Counts["seen_here"] != 1 || len(fv.Answers) != 0 {
			t.Errorf("the reporter's feedback %+v", fv)
		}
		hidden(sec, rAdvFeedback, path+"/feedback", nil)

		// 第2報: the issuer's own, keeping the number; a second draft clashes.
		hidden(ministry, rAdvFollowUp, path+"/follow-up", nil)
		var next kyoyu.Advisory
		c.must(http.StatusCreated, nisc, rAdvFollowUp, path+"/follow-up", nil).decode(t, &next)
		if next.ReportNumber != 2 || next.VersionID == a.VersionID || next.Form.Summary != f.Summary {
			t.Errorf("follow-up %+v", next)
		}
		c.must(http.StatusConflict, nisc, rAdvFollowUp, path+"/follow-up", nil)
		if d := c.advisory(ministry, id); d.Advisory.ReportNumber != 1 {
			t.Errorf("the ministry sees the issuer's open draft: %+v", d.Advisory)
		}
		next.Form.Other = "対象機種を追記した。"
		c.must(http.StatusOK, nisc, rAdvSave, fmt.Sprintf("/api/v1/advisories/drafts/%d", next.VersionID), advForm(next.Form))
		c.must(http.StatusOK, nisc, rAdvPublish, fmt.Sprintf("/api/v1/advisories/drafts/%d/publish", next.VersionID), nil).decode(t, &published)
		if published.Number != want || published.Advisory.ReportNumber != 2 {
			t.Errorf("第2報 %+v", published)
		}
		if d := c.advisory(sec, id); d.Advisory.ReportNumber != 2 || d.Advisory.Form.Other != next.Form.Other {
			t.Errorf("the secretariat sees %+v", d.Advisory)
		}

		// Paging: a second advisory, a draft, is the issuer's alone.
		c.must(http.StatusCreated, nisc, rAdvDraft, "/api/v1/advisories", advForm(kyoyu.AdvisoryForm{Title: "下書き"}))
		p1 := c.advisories(nisc, "?limit=1")
		if p1.Total != 2 || len(p1.Advisories) != 1 || p1.NextCursor == "" {
			t.Fatalf("page 1 %+v", p1)
		}
		p2 := c.advisories(nisc, "?limit=1&cursor="+p1.NextCursor)
		if len(p2.Advisories) != 1 || p2.Advisories[0].ID == p1.Advisories[0].ID || p2.NextCursor != "" {
			t.Errorf("page 2 %+v after %+v", p2, p1)
		}
		if l := c.advisories(op, ""); l.Total != 1 {
			t.Errorf("the operator lists %d", l.Total)
		}
		if a := c.call(nisc, rAdvList, "/api/v1/advisories?limit=0&cursor=x", nil); a.status != http.StatusUnprocessableEntity || len(a.err(t).Fields) != 2 {
			t.Errorf("bad parameters: %d %s", a.status, a.body)
		}

		// Nothing the ministry or the secretariat was answered about the
		// advisory names the source or its case.
		for _, tok := range []string{ministry, sec} {
			for _, b := range c.bodies[tok] {
				if req, answer, _ := strings.Cut(b, "\n"); strings.Contains(req, "/api/v1/advisories") &&
					(strings.Contains(answer, "東和") || strings.Contains(answer, number)) {
					t.Errorf("an answer points at the source:\n%s", b)
				}
			}
		}
		for _, route := range api.Routes {
			if isAdvisoryRoute(route) && !c.reached[route] {
				t.Errorf("%s was never answered with success", route)
			}
		}
	})
}

// advForm gives a form's lists as arrays, as the document wants them.
func advForm(f kyoyu.AdvisoryForm) kyoyu.AdvisoryForm {
	f.Recipients, f.SourceCases, f.ExtraRecipients = nonNilSlice(f.Recipients), nonNilSlice(f.SourceCases), nonNilSlice(f.ExtraRecipients)
	f.Excluded, f.Resolved = nonNilSlice(f.Excluded), nonNilSlice(f.Resolved)
	return f
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (c *client) advisories(token, query string) advisoryList {
	c.t.Helper()
	var l advisoryList
	c.must(http.StatusOK, token, rAdvList, "/api/v1/advisories"+query, nil).decode(c.t, &l)
	return l
}

func (c *client) advisory(token string, id int64) advisoryDetail {
	c.t.Helper()
	var d advisoryDetail
	c.must(http.StatusOK, token, rAdvGet, fmt.Sprintf("/api/v1/advisories/%d", id), nil).decode(c.t, &d)
	return d
}

// The advisory schemas match the Go types and the domain's codes.
func TestOpenAPIAdvisorySchemasMatchGo(t *testing.T) {
	_, doc := readDoc(t)
	schemas := obj(t, doc, "components", "schemas")
	for name, v := range map[string]any{
		"Advisory": kyoyu.Advisory{}, "AdvisoryForm": kyoyu.AdvisoryForm{}, "RecipientPair": kyoyu.RecipientPair{},
		"Delivery": kyoyu.Delivery{}, "StageRate": advisory.StageRate{}, "FeedbackView": advisory.FeedbackView{},
		"InquiryMessage": store.InquiryMessage{}, "Feedback": store.Feedback{}, "Highlight": report.Finding{},
		"AdvisoryList": api.AdvisoryList{}, "AdvisoryDetail": api.AdvisoryDetail{}, "AdvisoryPublished": api.AdvisoryPublished{},
		"HighlightList": api.HighlightList{}, "ForwardRequest": api.ForwardRequest{}, "ForwardResult": api.ForwardResult{},
		"AckResult": api.AckResult{}, "AdvisoryRates": api.AdvisoryRates{}, "InquiryRequest": api.InquiryRequest{},
		"InquiryList": api.InquiryList{}, "FeedbackRequest": api.FeedbackRequest{},
	} {
		s := obj(t, schemas, name)
		all, always := jsonFields(reflect.TypeOf(v))
		if got := strs(s["properties"]); !slices.Equal(got, all) {
			t.Errorf("%s: documented properties %v, Go fields %v", name, got, all)
		}
		if s["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties must be false", name)
		}
		// Request bodies other than these document no required fields.
		if req, ok := s["required"]; ok {
			if got := strs(req); !slices.Equal(got, always) {
				t.Errorf("%s: required %v, always encoded %v", name, got, always)
			}
		}
	}
	enum := func(name string) []string {
		var out []string
		for _, v := range obj(t, schemas, name)["enum"].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	for name, want := range map[string][]string{
		"AdvisoryReason": {string(kyoyu.ReasonVulnerability), string(kyoyu.ReasonAttack), string(kyoyu.ReasonOther)},
		"FeedbackAnswer": advisory.FeedbackAnswers,
		"DeliveryStage":  {"ministry", "ceptoar", "operator"},
		"AdvisoryStatus": {"draft", "published"},
		"AckVia":         {"ui", "email"},
	} {
		if got := enum(name); !slices.Equal(got, want) {
			t.Errorf("%s enum = %v, want %v", name, got, want)
		}
	}
	for _, r := range []kyoyu.AdvisoryReason{kyoyu.ReasonVulnerability, kyoyu.ReasonAttack, kyoyu.ReasonOther, "x"} {
		if r.Valid() != slices.Contains(enum("AdvisoryReason"), string(r)) {
			t.Errorf("AdvisoryReason %q: Valid() = %v", r, r.Valid())
		}
	}
}
