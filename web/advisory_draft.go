package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/report"
	"kyoyu/store"
)

// advOption is a choice of the form with its value and label.
type advOption struct {
	Value, Label string
}

// advFindingRow is one highlighted string of the draft: blocking ones
// (what names a source) must go; the others are kept only once ticked.
type advFindingRow struct {
	N        int
	Field    string // a locale key
	Text     string
	Kind     string // a locale key
	Blocking bool
	Resolved bool
}

// advPreview is one field's text cut into plain and marked parts, so the
// template escapes the text and only <mark> is markup.
type advPreview struct {
	ID    string
	Label string // a locale key
	Parts []rfMarkPart
}

type advHighlights struct {
	Rows       []advFindingRow
	Previews   []advPreview
	Blocking   int
	Unresolved int
}

type advDraftView struct {
	Page
	A           *kyoyu.Advisory
	In          advInput
	Reasons     []advBox
	Importances []advBox
	TLPs        []advBox
	Recipients  []advOption
	Sources     []advSourceRow
	Orgs        []advOption // for extra recipients and exclusions
	Carried     []advOption // exclusions carried from the sources
	HL          *advHighlights
	Summary     []advProblemRow
}

// ReportN is "第N報" of the draft.
func (v *advDraftView) ReportN() string {
	return advSprintf(v.Lang, "advisories.report_n", v.A.ReportNumber)
}

// advLoadDraft finds an open draft of the person's organisation; anything
// else (published, another's, malformed) is not found.
func (h *Handler) advLoadDraft(w http.ResponseWriter, r *http.Request) (*kyoyu.Advisory, bool) {
	pr := principal(r)
	vid, ok := advPathID(r, "vid")
	if !ok || !advDrafter(pr) {
		h.notFound(w, r)
		return nil, false
	}
	a, err := h.db.AdvisoryDraft(r.Context(), vid, pr.Organisation.ID)
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	return a, true
}

// advDraftPage shows a draft as last saved.
func (h *Handler) advDraftPage(w http.ResponseWriter, r *http.Request) {
	a, ok := h.advLoadDraft(w, r)
	if !ok {
		return
	}
	h.advShowDraft(w, r, http.StatusOK, h.page(r, "advisories.draft_title"), a, advFormValues(a.Form), nil, a.Form)
}

// advDraftPost saves the draft (action=save) or saves and publishes it
// (action=publish). On any refusal the page shows again what was typed,
// with each problem at its field.
func (h *Handler) advDraftPost(w http.ResponseWriter, r *http.Request) {
	a, ok := h.advLoadDraft(w, r)
	if !ok {
		return
	}
	pr, ctx := principal(r), r.Context()
	carried, err := h.advCarried(ctx, pr, a.Form.SourceCases)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, unreadable := advParseForm(r.PostForm, a.Form, carried)
	show := func(status int, problems map[string]string, msg, flash string) {
		p := h.page(r, "advisories.draft_title")
		p.Error, p.Flash = msg, flash
		h.advShowDraft(w, r, status, p, a, r.PostForm, problems, f)
	}
	err = h.advisories.SaveDraft(ctx, pr, ClientIP(r), a.VersionID, f)
	if ke, status, ok := formProblem(err); ok {
		show(status, advMerge(ke.Fields, unreadable), "advisories.not_saved", "")
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	if r.PostFormValue("action") != "publish" {
		status := http.StatusOK
		if len(unreadable) > 0 {
			status = http.StatusUnprocessableEntity
		}
		show(status, unreadable, "", "advisories.saved")
		return
	}
	if len(unreadable) > 0 {
		// A choice that could not be read must not go out as missing.
		show(http.StatusUnprocessableEntity, unreadable, "advisories.not_published", "")
		return
	}
	_, err = h.advisories.Publish(ctx, pr, ClientIP(r), a.VersionID)
	if ke, status, ok := formProblem(err); ok {
		msg := "advisories.not_published"
		if len(ke.Fields) == 0 {
			msg = ke.Message
		}
		show(status, ke.Fields, msg, "")
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/advisories/%d?flash=advisories.published", a.ID), http.StatusSeeOther)
}

// advCarried lists the exclusions the draft's sources carry: the page
// shows them read-only and saving always keeps them.
func (h *Handler) advCarried(ctx context.Context, pr *account.Principal, sources []int64) ([]int64, error) {
	var out []int64
	for _, id := range sources {
		c, _, err := h.db.Case(ctx, advViewer(pr), id)
		if errors.Is(err, kyoyu.ErrNotFound) {
			continue // publishing refuses a source NISC can no longer read
		} else if err != nil {
			return nil, err
		}
		it, err := h.db.ItemState(ctx, c.ItemID)
		if err != nil {
			return nil, err
		}
		for _, x := range it.Excluded {
			if !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
	}
	return out, nil
}

// advShowDraft fills the figure-7 form: the choices, the recipient pairs,
// the sources, the organisations and the highlights of the text as typed.
func (h *Handler) advShowDraft(w http.ResponseWriter, r *http.Request, status int, p Page, a *kyoyu.Advisory,
	values url.Values, problems map[string]string, f kyoyu.AdvisoryForm) {
	ctx, pr := r.Context(), principal(r)
	if problems == nil {
		problems = map[string]string{}
	}
	v := &advDraftView{Page: p, A: a, In: advInput{lang: p.Lang, Values: values, Problems: problems}}
	for _, reason := range []kyoyu.AdvisoryReason{kyoyu.ReasonVulnerability, kyoyu.ReasonAttack, kyoyu.ReasonOther} {
		v.Reasons = append(v.Reasons, advBox{Code: string(reason), Label: T(p.Lang, "advisories.reason."+string(reason))})
	}
	for _, imp := range advImportances {
		v.Importances = append(v.Importances, advBox{Code: imp, Label: T(p.Lang, "advisories.importance."+imp)})
	}
	v.TLPs = advTLPBoxes(p.Lang, "")
	var err error
	if v.Recipients, err = h.advRecipientOptions(ctx, p.Lang); err != nil {
		h.fail(w, r, err)
		return
	}
	for _, id := range a.Form.SourceCases {
		c, _, err := h.db.Case(ctx, advViewer(pr), id)
		if errors.Is(err, kyoyu.ErrNotFound) {
			v.Sources = append(v.Sources, advSourceRow{ID: id})
			continue
		} else if err != nil {
			h.fail(w, r, err)
			return
		}
		v.Sources = append(v.Sources, advSourceRow{ID: c.ID, Number: c.CaseNumber})
	}
	carried, err := h.advCarried(ctx, pr, a.Form.SourceCases)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	orgs, err := h.db.Organisations(ctx, store.OrganisationFilter{})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, o := range orgs {
		opt := advOption{Value: strconv.FormatInt(o.ID, 10), Label: o.Name(p.Lang)}
		switch {
		case slices.Contains(carried, o.ID):
			v.Carried = append(v.Carried, opt)
		case o.ID != pr.Organisation.ID:
			v.Orgs = append(v.Orgs, opt)
		}
	}
	found, err := h.advisories.Highlights(ctx, pr, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.HL = advHighlightPanel(f, found)
	v.Summary = advSummary(p.Lang, problems)
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, status, "advisory_draft", v)
}

// advRecipientOptions are every sector with its competent ministry, as
// figure 7 names recipients (所管省庁名及び分野名).
func (h *Handler) advRecipientOptions(ctx context.Context, lang string) ([]advOption, error) {
	sectors, err := h.db.Sectors(ctx)
	if err != nil {
		return nil, err
	}
	names := h.advOrgNames(ctx, lang)
	secNames, err := h.advSectorNames(ctx, lang)
	if err != nil {
		return nil, err
	}
	var out []advOption
	for _, s := range sectors {
		m, err := h.db.OrganisationByCode(ctx, s.MinistryCode)
		if errors.Is(err, kyoyu.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		p := kyoyu.RecipientPair{MinistryID: m.ID, Sector: s.Code}
		out = append(out, advOption{Value: advPairValue(p), Label: advRecipientLabel(lang, names, secNames, p)})
	}
	return out, nil
}

// advHighlightPanel lists the findings and marks them in each field's text.
// A finding is resolved when a ticked string contains it, as the service
// judges: keeping an address on purpose keeps its domain too.
func advHighlightPanel(f kyoyu.AdvisoryForm, found []report.Finding) *advHighlights {
	hl := &advHighlights{}
	byField := map[string][]report.Finding{}
	var order []string
	for i, fd := range found {
		row := advFindingRow{N: i + 1, Field: "advisories.f." + fd.Field, Text: fd.Text, Kind: "advisories.finding." + fd.Kind,
			Blocking: fd.Source || fd.Kind == "name"}
		row.Resolved = !row.Blocking && slices.ContainsFunc(f.Resolved, func(s string) bool { return strings.Contains(s, fd.Text) })
		switch {
		case row.Blocking:
			hl.Blocking++
		case !row.Resolved:
			hl.Unresolved++
		}
		hl.Rows = append(hl.Rows, row)
		if byField[fd.Field] == nil {
			order = append(order, fd.Field)
		}
		// A blocking finding is marked as a source in the preview.
		fd.Source = row.Blocking
		byField[fd.Field] = append(byField[fd.Field], fd)
	}
	for _, field := range order {
		hl.Previews = append(hl.Previews, advPreview{ID: field, Label: "advisories.f." + field,
			Parts: rfMarkText(advFieldText(f, field), byField[field])})
	}
	return hl
}
