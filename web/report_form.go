package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/policy"
	"kyoyu/store"
)

// reportFormRoutes registers the pages that write reports: choosing the
// route, the figure-4 form of a draft with its autosave, what waits for
// the next hop, follow-ups and the organisation's open drafts.
func (h *Handler) reportFormRoutes() {
	m := h.mux
	m.HandleFunc("GET /reports/new", h.signedIn(h.rfNew))
	m.HandleFunc("POST /reports/new", h.signedIn(h.rfStart))
	m.HandleFunc("GET /reports/drafts", h.signedIn(h.rfDrafts))
	m.HandleFunc("GET /reports/drafts/{id}", h.signedIn(h.rfDraftPage))
	m.HandleFunc("POST /reports/drafts/{id}", h.signedIn(h.rfDraftPost))
	m.HandleFunc("POST /reports/drafts/{id}/autosave", h.signedIn(h.rfAutosave))
	m.HandleFunc("GET /reports/incoming", h.signedIn(h.rfIncoming))
	m.HandleFunc("POST /reports/incoming/{id}/take", h.signedIn(h.rfTake))
	m.HandleFunc("POST /cases/{id}/follow-up", h.signedIn(h.rfFollowUp))
}

func rfViewer(pr *account.Principal) policy.Viewer {
	return policy.ViewerOf(pr.Person, pr.Organisation)
}

// rfPathID reads the {id} of a route; a malformed one is simply not found.
func rfPathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// rfDraftView is the figure-4 form of one draft.
type rfDraftView struct {
	Page
	Version   *kyoyu.ReportVersion
	Case      *kyoyu.Case
	In        rfInput
	C         *rfChoices
	Timeline  []kyoyu.TimelineRow
	Suggest   []rfSuggestion
	Orgs      []rfOrg
	Anon      *rfAnonPanel
	Forwarder bool // a hop that may complete or narrow what it received, never widen
	// SubmitLabel names where the draft goes next (a locale key).
	SubmitLabel string
	Summary     []rfProblem
}

type rfOrg struct {
	ID   int64
	Name string
}

// rfProblem is one problem in the summary above the form, linking to
// its field.
type rfProblem struct {
	Label, Msg, Anchor string
}

// rfLoadDraft finds a draft the person's organisation is writing; anything
// else (someone else's, already sent, invisible) is not found.
func (h *Handler) rfLoadDraft(w http.ResponseWriter, r *http.Request) (*kyoyu.ReportVersion, *kyoyu.Case, bool) {
	pr := principal(r)
	id, ok := rfPathID(r)
	if !ok {
		h.notFound(w, r)
		return nil, nil, false
	}
	v := rfViewer(pr)
	ver, err := h.db.Version(r.Context(), v, id)
	if err != nil {
		h.fail(w, r, err)
		return nil, nil, false
	}
	if ver.Status != kyoyu.VersionDraft || ver.OrgID != pr.Organisation.ID {
		h.notFound(w, r)
		return nil, nil, false
	}
	c, _, err := h.db.Case(r.Context(), v, ver.CaseID)
	if err != nil {
		h.fail(w, r, err)
		return nil, nil, false
	}
	return ver, c, true
}

// rfDraftPage shows a draft as last saved.
func (h *Handler) rfDraftPage(w http.ResponseWriter, r *http.Request) {
	ver, c, ok := h.rfLoadDraft(w, r)
	if !ok {
		return
	}
	h.rfShowDraftPage(w, r, http.StatusOK, h.page(r, "report_form.title"), ver, c, rfFormValues(ver.Form), nil, ver.Form)
}

// rfDraftPost saves the draft (action=save) or saves and sends it on
// (action=submit). Whatever happens, the page shows again what was typed,
// with every problem at its field.
func (h *Handler) rfDraftPost(w http.ResponseWriter, r *http.Request) {
	ver, c, ok := h.rfLoadDraft(w, r)
	if !ok {
		return
	}
	pr, ctx := principal(r), r.Context()
	f, unreadable := rfParseForm(r.PostForm)
	problems, err := h.reports.SaveDraft(ctx, pr, ClientIP(r), ver.ID, f)
	if ke, status, ok := formProblem(err); ok {
		h.rfShowDraftError(w, r, status, ver, c, f, rfMerge(ke.Fields, unreadable), "report_form.not_saved")
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	problems = rfMerge(problems, unreadable)
	if r.PostFormValue("action") != "submit" {
		p := h.page(r, "report_form.title")
		p.Flash = "report_form.saved"
		h.rfShowDraftPage(w, r, http.StatusOK, p, ver, c, r.PostForm, problems, f)
		return
	}
	if len(unreadable) > 0 {
		// A date or figure that could not be read must not go out as blank.
		h.rfShowDraftError(w, r, http.StatusUnprocessableEntity, ver, c, f, problems, "report_form.not_sent")
		return
	}
	_, number, err := h.reports.Submit(ctx, pr, ClientIP(r), ver.ID)
	if ke, status, ok := formProblem(err); ok {
		msg := "report_form.not_sent"
		if len(ke.Fields) == 0 || ke.Message == "report.not_anonymised" {
			msg = ke.Message // says more than the general message
		}
		h.rfShowDraftError(w, r, status, ver, c, f, ke.Fields, msg)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	flash := "report_form.sent"
	if number != "" {
		flash = "report_form.sent_to_nisc"
	}
	http.Redirect(w, r, fmt.Sprintf("/cases/%d?flash=%s", c.ID, flash), http.StatusSeeOther)
}

// rfShowDraftError shows the form again as typed, with the problems.
func (h *Handler) rfShowDraftError(w http.ResponseWriter, r *http.Request, status int, ver *kyoyu.ReportVersion, c *kyoyu.Case,
	f kyoyu.ReportForm, problems map[string]string, msg string) {
	p := h.page(r, "report_form.title")
	p.Error = msg
	h.rfShowDraftPage(w, r, status, p, ver, c, r.PostForm, problems, f)
}

// rfShowDraftPage fills the view: choices, the service-level advice for the
// figures typed, the organisations to name, and for a secretariat the
// anonymisation review.
func (h *Handler) rfShowDraftPage(w http.ResponseWriter, r *http.Request, status int, p Page, ver *kyoyu.ReportVersion, c *kyoyu.Case,
	values map[string][]string, problems map[string]string, f kyoyu.ReportForm) {
	ctx := r.Context()
	pr := principal(r)
	if problems == nil {
		problems = map[string]string{}
	}
	v := &rfDraftView{Page: p, Version: ver, Case: c, In: rfInput{lang: p.Lang, Values: values, Problems: problems}}
	var err error
	if v.C, err = h.rfLoadChoices(ctx, p.Lang, ver.Form.ClassificationVersion); err != nil {
		h.fail(w, r, err)
		return
	}
	v.Timeline = rfTimelineView(values)
	v.Suggest = v.C.rfSuggestions(f, p.Lang)
	v.Forwarder = (ver.Stage == kyoyu.StageMinistry && c.Route != kyoyu.RouteMinistryOrigin) || ver.Stage == kyoyu.StageSecretariat
	switch {
	case ver.Stage == kyoyu.StageMinistry:
		v.SubmitLabel = "report_form.submit_to_nisc"
	case ver.Stage == kyoyu.StageOperator && c.Route == kyoyu.RouteCEPTOAR:
		v.SubmitLabel = "report_form.submit_to_ceptoar"
	default:
		v.SubmitLabel = "report_form.submit_to_ministry"
	}
	if v.Orgs, err = h.rfOrgOptions(ctx, c, p.Lang, values); err != nil {
		h.fail(w, r, err)
		return
	}
	if ver.Stage == kyoyu.StageSecretariat {
		ids, err := h.reports.Identifiers(ctx, pr, ver.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		v.Anon = rfAnonymisation(f, ids)
	}
	v.Summary = rfSummary(p.Lang, problems)
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, status, "report_draft", v)
}

// rfOrgOptions are the organisations a draft may name as additional
// recipients or exclude. Where the viewer may not know the source of an
// anonymised case, operators are left out: the list must not hint at who
// reported. Organisations already chosen always stay.
func (h *Handler) rfOrgOptions(ctx context.Context, c *kyoyu.Case, lang string, values map[string][]string) ([]rfOrg, error) {
	orgs, err := h.db.Organisations(ctx, store.OrganisationFilter{})
	if err != nil {
		return nil, err
	}
	chosen := map[string]bool{}
	for _, k := range []string{"recipients", "excluded"} {
		for _, s := range values[k] {
			chosen[s] = true
		}
	}
	hideOperators := c.Anonymised && c.OperatorOrgID == 0
	var out []rfOrg
	for _, o := range orgs {
		if hideOperators && o.Has(kyoyu.KindOperator) && !chosen[strconv.FormatInt(o.ID, 10)] {
			continue
		}
		out = append(out, rfOrg{ID: o.ID, Name: o.Name(lang)})
	}
	return out, nil
}

// rfSummary lists every problem, in a stable order, so none goes unseen
// even if its field is far down the page.
func rfSummary(lang string, problems map[string]string) []rfProblem {
	keys := make([]string, 0, len(problems))
	for k := range problems {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []rfProblem
	for _, k := range keys {
		out = append(out, rfProblem{Label: T(lang, rfFieldLabel(k)), Msg: T(lang, "field_error."+problems[k]), Anchor: rfErrorID(k)})
	}
	return out
}
