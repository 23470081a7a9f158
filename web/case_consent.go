package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/store"
)

// The sharing range of a case beyond its report forms: requests to widen
// it, which only the originating organisation grants (情報発信者の同意),
// and NISC's analysis partners (※2). The case page shows the section;
// its own page shows the same section with the request form's problems.

// consentRoutes registers the section's actions and its page, which is
// parsed with the section partial (the generic loader parses each page
// with the layout only).
func (h *Handler) consentRoutes() {
	t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS,
		"templates/layout.html", "templates/case_consent.html", "templates/case_consent_section.html")
	if err != nil {
		panic(fmt.Sprintf("consent templates: %v", err)) // part of the binary: a build defect
	}
	h.pages["case_consent"] = &pageTemplate{t: t}
	delete(h.pages, "case_consent_section") // a partial, not a page
	m := h.mux
	m.HandleFunc("GET /cases/{id}/consent", h.signedIn(h.consentPage))
	m.HandleFunc("POST /cases/{id}/consent", h.signedIn(h.consentRequest))
	m.HandleFunc("POST /cases/{id}/consent/{rid}", h.signedIn(h.consentAnswer))
	m.HandleFunc("POST /cases/{id}/consent/{rid}/withdraw", h.signedIn(h.consentWithdraw))
	m.HandleFunc("POST /cases/{id}/partners", h.signedIn(h.consentPartners))
}

type consentChoice struct {
	Value   string
	Label   string
	Checked bool
}

// consentRow is one request in the history.
type consentRow struct {
	ID          int64
	Requester   string
	Created     string
	From, To    string // range names
	Recipients  string
	Sectors     string
	Reason      string
	Status      string // a locale key
	Answerer    string
	Answered    string
	Note        string
	Pending     bool
	CanWithdraw bool
}

// consentSectionView is the section as one viewer may use it.
type consentSectionView struct {
	lang       string
	CSRF       string
	CaseID     int64
	TLP        string
	TLPLabel   string
	Roles      report.ConsentRoles
	Partners   []string
	Agencies   []consentChoice // for NISC's choice
	ToTLPs     []consentChoice
	Orgs       []consentChoice
	Sectors    []consentChoice
	Reason     string
	Problems   map[string]string // field → problem key
	Requests   []consentRow
	Pending    int // requests waiting for the viewer's answer
	Standalone bool
}

func (v *consentSectionView) T(key string) string { return T(v.lang, key) }

// Problem is the translated problem with a field of the request form.
func (v *consentSectionView) Problem(field string) string {
	if k := v.Problems[field]; k != "" {
		return T(v.lang, "consent.problem."+k)
	}
	return ""
}

// consentSection builds the section for a case the viewer may see; values
// are what was typed into the request form, problems what was wrong.
func (h *Handler) consentSection(r *http.Request, c *kyoyu.Case, values map[string][]string, problems map[string]string) (*consentSectionView, error) {
	ctx, pr := r.Context(), principal(r)
	lang := language(r)
	v := &consentSectionView{lang: lang, CSRF: pr.Session.CSRFToken, CaseID: c.ID, TLP: c.TLP, Problems: problems}
	var err error
	if v.Roles, err = h.reports.ConsentRolesFor(ctx, pr, c.ID); err != nil {
		return nil, err
	}
	refs, err := h.caseRefs(ctx, lang, "")
	if err != nil {
		return nil, err
	}
	v.TLPLabel = refs.name("tlp", c.TLP)
	names := h.caseOrgNames(ctx, lang)
	partners, err := h.reports.Partners(ctx, pr, c.ID)
	if err != nil {
		return nil, err
	}
	var engaged []int64
	for _, o := range partners {
		v.Partners = append(v.Partners, o.Name(lang))
		engaged = append(engaged, o.ID)
	}
	if v.Roles.Engage {
		agencies, err := h.reports.PartnerChoices(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range agencies {
			v.Agencies = append(v.Agencies, consentChoice{Value: strconv.FormatInt(o.ID, 10), Label: o.Name(lang), Checked: slices.Contains(engaged, o.ID)})
		}
	}
	if v.Roles.Request {
		if err := h.consentFormChoices(ctx, v, c, refs, values); err != nil {
			return nil, err
		}
	}
	rs, err := h.reports.ConsentRequests(ctx, pr, c.ID)
	if err != nil {
		return nil, err
	}
	for _, q := range rs {
		row := consentRow{ID: q.ID, Requester: names.name(q.RequestedByOrg), Created: kyoyu.FormatJST(q.CreatedAt),
			From: refs.name("tlp", q.FromTLP), To: refs.name("tlp", q.ToTLP), Reason: q.Reason, Status: "consent.status." + string(q.Status),
			Note: q.AnswerNote, Pending: q.Status == store.ConsentPending}
		var rec []string
		for _, id := range q.AddRecipients {
			rec = append(rec, names.name(id))
		}
		var sec []string
		for _, s := range q.AddSectors {
			sec = append(sec, refs.sectorName(s))
		}
		row.Recipients, row.Sectors = strings.Join(rec, "、"), strings.Join(sec, "、")
		if q.AnsweredAt != nil {
			row.Answered = kyoyu.FormatJST(*q.AnsweredAt)
		}
		// The answerer is named only where the store gave them (the
		// source of an anonymised report stays hidden).
		if q.AnsweredByPerson != 0 {
			if p, err := h.db.Person(ctx, q.AnsweredByPerson); err == nil {
				row.Answerer = p.Name
			}
		}
		row.CanWithdraw = row.Pending && q.RequestedByOrg == pr.Organisation.ID && v.Roles.Request
		if row.Pending && v.Roles.Answer {
			v.Pending++
		}
		v.Requests = append(v.Requests, row)
	}
	return v, nil
}

// consentFormChoices fills the request form: ranges wider than the
// current one, organisations and sectors. Where the viewer may not know
// an anonymised report's source, operators are not offered: the list
// must not hint at who reported.
func (h *Handler) consentFormChoices(ctx context.Context, v *consentSectionView, c *kyoyu.Case, refs *caseRefs, values map[string][]string) error {
	has := func(k, val string) bool { return slices.Contains(values[k], val) }
	v.Reason = strings.Join(values["reason"], "")
	v.ToTLPs = append(v.ToTLPs, consentChoice{Value: "", Label: v.T("consent.keep_tlp"), Checked: len(values["to_tlp"]) == 0 || has("to_tlp", "")})
	for _, t := range policy.TLPs {
		if policy.Widens(policy.TLP(c.TLP), t) {
			v.ToTLPs = append(v.ToTLPs, consentChoice{Value: string(t), Label: refs.name("tlp", string(t)), Checked: has("to_tlp", string(t))})
		}
	}
	orgs, err := h.db.Organisations(ctx, store.OrganisationFilter{})
	if err != nil {
		return err
	}
	hideOperators := c.Anonymised && c.OperatorOrgID == 0
	for _, o := range orgs {
		id := strconv.FormatInt(o.ID, 10)
		if hideOperators && o.Has(kyoyu.KindOperator) && !has("add_recipients", id) {
			continue
		}
		v.Orgs = append(v.Orgs, consentChoice{Value: id, Label: o.Name(v.lang), Checked: has("add_recipients", id)})
	}
	for _, s := range refs.sectors {
		v.Sectors = append(v.Sectors, consentChoice{Value: s.Code, Label: pick(v.lang, s.NameJA, s.NameEN), Checked: has("add_sectors", s.Code)})
	}
	return nil
}

// consentHTML renders the section for the case page.
func (h *Handler) consentHTML(r *http.Request, c *kyoyu.Case) (template.HTML, error) {
	v, err := h.consentSection(r, c, nil, nil)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := h.pages["case_consent"].t.ExecuteTemplate(&buf, "consent-section", v); err != nil {
		return "", fmt.Errorf("consent section: %w", err)
	}
	return template.HTML(buf.String()), nil // html/template output, escaped as it was executed
}

type consentPageView struct {
	Page
	Number  string
	Section *consentSectionView
}

// consentPage shows the section on its own page, with the form's problems
// when a request was refused.
func (h *Handler) consentPage(w http.ResponseWriter, r *http.Request) {
	h.renderConsent(w, r, http.StatusOK, nil, nil, "")
}

func (h *Handler) renderConsent(w http.ResponseWriter, r *http.Request, status int, values map[string][]string, problems map[string]string, msg string) {
	id, ok := casePathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	c, _, err := h.reports.Open(r.Context(), principal(r), ClientIP(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	s, err := h.consentSection(r, c, values, problems)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	s.Standalone = true
	v := &consentPageView{Page: h.page(r, "consent.title"), Number: c.CaseNumber, Section: s}
	v.Error = msg
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, status, "case_consent", v)
}

// consentDone answers an action: back to the case page, or the section's
// own page with the problem when the input or the request's state was wrong.
func (h *Handler) consentDone(w http.ResponseWriter, r *http.Request, id int64, err error, flash string) {
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/cases/%d?flash=%s#consent", id, flash), http.StatusSeeOther)
		return
	}
	if ke, status, ok := formProblem(err); ok {
		h.renderConsent(w, r, status, r.PostForm, ke.Fields, ke.Message)
		return
	}
	h.fail(w, r, err)
}

func consentIDs(vals []string) ([]int64, bool) {
	var out []int64
	for _, s := range vals {
		if s == "" {
			continue
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

func (h *Handler) consentRequest(w http.ResponseWriter, r *http.Request) {
	id, ok := casePathID(r, "id")
	if !ok || r.ParseForm() != nil {
		h.notFound(w, r)
		return
	}
	recipients, ok := consentIDs(r.PostForm["add_recipients"])
	if !ok {
		h.consentDone(w, r, id, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "consent.invalid", Fields: map[string]string{"add_recipients": "invalid_choice"}}, "")
		return
	}
	in := report.WideningRequest{ToTLP: r.PostFormValue("to_tlp"), AddRecipients: recipients, AddSectors: r.PostForm["add_sectors"], Reason: r.PostFormValue("reason")}
	_, err := h.reports.RequestWidening(r.Context(), principal(r), ClientIP(r), id, in)
	h.consentDone(w, r, id, err, "consent.requested")
}

func (h *Handler) consentAnswer(w http.ResponseWriter, r *http.Request) {
	id, ok1 := casePathID(r, "id")
	rid, ok2 := casePathID(r, "rid")
	answer := r.PostFormValue("answer")
	if !ok1 || !ok2 || (answer != "grant" && answer != "refuse") {
		h.notFound(w, r)
		return
	}
	pr := principal(r)
	// Read through the case first: a request of another case is not found.
	if _, err := h.reports.ConsentRequest(r.Context(), pr, id, rid); err != nil {
		h.fail(w, r, err)
		return
	}
	_, err := h.reports.AnswerConsent(r.Context(), pr, ClientIP(r), rid, answer == "grant", r.PostFormValue("note"))
	h.consentDone(w, r, id, err, map[string]string{"grant": "consent.granted", "refuse": "consent.refused"}[answer])
}

func (h *Handler) consentWithdraw(w http.ResponseWriter, r *http.Request) {
	id, ok1 := casePathID(r, "id")
	rid, ok2 := casePathID(r, "rid")
	if !ok1 || !ok2 {
		h.notFound(w, r)
		return
	}
	pr := principal(r)
	if _, err := h.reports.ConsentRequest(r.Context(), pr, id, rid); err != nil {
		h.fail(w, r, err)
		return
	}
	_, err := h.reports.WithdrawConsent(r.Context(), pr, ClientIP(r), rid)
	h.consentDone(w, r, id, err, "consent.withdrawn")
}

func (h *Handler) consentPartners(w http.ResponseWriter, r *http.Request) {
	id, ok := casePathID(r, "id")
	if !ok || r.ParseForm() != nil {
		h.notFound(w, r)
		return
	}
	partners, ok := consentIDs(r.PostForm["partner"])
	if !ok {
		h.consentDone(w, r, id, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "consent.invalid", Fields: map[string]string{"partners": "invalid_choice"}}, "")
		return
	}
	_, err := h.reports.SetPartners(r.Context(), principal(r), ClientIP(r), id, partners)
	h.consentDone(w, r, id, err, "consent.partners_saved")
}
