package web

import (
	"html/template"
	"net/http"

	"kyoyu"
)

// caseHeader is what a case page says about the case itself.
type caseHeader struct {
	ID         int64
	Number     string
	Route      string // a locale key
	Status     string // a locale key
	TLP        string
	TLPLabel   string
	TLPMeaning string // a locale key
	Operator   string
	Anonymised bool
	Sector     string
	Importance string
	EventClass string
	Channel    string // a locale key, for reports a ministry took by phone or FAX
	TakenBy    string
	Created    string
	Received   string
	LastReport string
	Due        string
	Overdue    bool
	Reports    int
}

// caseVersionRow is one version in a case's history.
type caseVersionRow struct {
	ID           int64
	ReportNumber int
	Revision     int
	Stage        string // a locale key
	Org          string
	Submitted    string
	Released     bool
	Draft        bool
	Label        string // for the compare form's choices
}

type caseDetailView struct {
	Page
	H           caseHeader
	Versions    []caseVersionRow
	Latest      *caseVersionRow
	Form        *caseFormView
	From, To    int64 // the compare form's default choice
	CanFollowUp bool
	// CanAdvise: NISC may draft an advisory from this numbered case.
	CanAdvise  bool
	NextReport int
	DraftID    int64 // the viewer's organisation's open draft of this case
	// Consent is the sharing-range section (case_consent.go), rendered.
	Consent template.HTML
}

// ReportN is "第N報".
func (v *caseDetailView) ReportN(n int) string { return caseSprintf(v.Lang, "cases.report_n", n) }

// FollowUpHelp says which report the follow-up will be.
func (v *caseDetailView) FollowUpHelp() string {
	return caseSprintf(v.Lang, "cases.follow_up_help", v.NextReport)
}

// DuePassed says when the overdue follow-up was due.
func (v *caseDetailView) DuePassed() string { return caseSprintf(v.Lang, "cases.due_passed", v.H.Due) }

func (v *caseListView) ReportN(n int) string { return caseSprintf(v.Lang, "cases.report_n", n) }

func newCaseHeader(lang string, refs *caseRefs, c *kyoyu.Case) caseHeader {
	hd := caseHeader{ID: c.ID, Number: c.CaseNumber, Route: "cases.route." + string(c.Route), Status: "cases.status." + string(c.Status),
		TLP: c.TLP, TLPLabel: refs.name("tlp", c.TLP), TLPMeaning: "cases.tlp_meaning." + c.TLP, Operator: c.Operator,
		Anonymised: c.Anonymised, Sector: refs.sectorName(c.Sector), Importance: refs.name("importance", c.Importance),
		EventClass: refs.name("event_class", c.EventClass), TakenBy: c.TakenBy, Created: kyoyu.FormatJST(c.CreatedAt),
		Overdue: c.Overdue, Reports: c.ReportCount}
	if c.Channel != "" && c.Channel != "web" {
		hd.Channel = "cases.channel." + c.Channel
	}
	if c.ReceivedAt != nil {
		hd.Received = kyoyu.FormatJST(*c.ReceivedAt)
	}
	if c.LastReportAt != nil {
		hd.LastReport = kyoyu.FormatJST(*c.LastReportAt)
	}
	if c.FollowUpDue != nil {
		hd.Due = kyoyu.FormatJST(*c.FollowUpDue)
	}
	return hd
}

func newCaseVersionRow(lang string, c *kyoyu.Case, v *kyoyu.ReportVersion, names *caseOrgNames) caseVersionRow {
	row := caseVersionRow{ID: v.ID, ReportNumber: v.ReportNumber, Revision: v.Revision, Stage: "cases.stage." + string(v.Stage),
		Org: caseVersionOrg(c, v, names), Released: v.Released, Draft: v.Status == kyoyu.VersionDraft}
	if v.SubmittedAt != nil {
		row.Submitted = kyoyu.FormatJST(*v.SubmittedAt)
	}
	row.Label = caseSprintf(lang, "cases.report_n", v.ReportNumber) + " · " + T(lang, row.Stage) + " · " + row.Org
	if row.Draft {
		row.Label += " · " + T(lang, "cases.draft")
	} else if row.Submitted != "" {
		row.Label += " · " + row.Submitted
	}
	return row
}

// loadCase reads a case and its versions as the person may see them
// (opening it through the reporting service, which audits reads of RED and
// AMBER material); a case they may not see is not found, like one that
// does not exist.
func (h *Handler) loadCase(r *http.Request, id int64) (*kyoyu.Case, []*kyoyu.ReportVersion, error) {
	ctx, v := r.Context(), caseViewerOf(r)
	c, _, err := h.reports.Open(ctx, principal(r), ClientIP(r), id)
	if err != nil {
		return nil, nil, err
	}
	vers, err := h.db.Versions(ctx, v, id)
	if err != nil {
		return nil, nil, err
	}
	return c, vers, nil
}

// caseDetail shows a case: its header, the latest version the viewer may
// see as the form, the versions, and the way to compare two of them.
func (h *Handler) caseDetail(w http.ResponseWriter, r *http.Request) {
	id, ok := casePathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	ctx := r.Context()
	c, vers, err := h.loadCase(r, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := &caseDetailView{Page: h.page(r, "cases.case")}
	version := ""
	if len(vers) > 0 {
		version = vers[len(vers)-1].Form.ClassificationVersion
	}
	refs, err := h.caseRefs(ctx, v.Lang, version)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	names := h.caseOrgNames(ctx, v.Lang)
	v.H = newCaseHeader(v.Lang, refs, c)
	pr := principal(r)
	for _, ver := range vers {
		v.Versions = append(v.Versions, newCaseVersionRow(v.Lang, c, ver, names))
		v.NextReport = max(v.NextReport, ver.ReportNumber+1)
		if ver.OrgID == pr.Organisation.ID && ver.Status == kyoyu.VersionDraft {
			v.DraftID = ver.ID
		}
	}
	if n := len(vers); n > 0 {
		latest := vers[n-1]
		v.Latest = &v.Versions[n-1]
		count, err := h.caseAttachments(ctx, caseViewerOf(r), latest.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		v.Form = newCaseFormView(v.Lang, refs, names, c, latest, count)
		if v.H.Sector == "" {
			v.H.Sector = refs.sectorName(latest.Form.Sector)
		}
		v.To, v.From = latest.ID, vers[max(0, n-2)].ID
	}
	// Only the originating organisation writes follow-ups, once NISC has
	// numbered the case; an open draft is finished first.
	v.CanFollowUp = c.OriginatorOrgID == pr.Organisation.ID && c.CaseNumber != "" && v.DraftID == 0
	v.CanAdvise = advDrafter(pr) && c.CaseNumber != ""
	if v.Consent, err = h.consentHTML(r, c); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "case_detail", v)
}

type caseVersionView struct {
	Page
	H           caseHeader
	V           caseVersionRow
	Form        *caseFormView
	PrevID      int64 // the visible version before this one, to compare with
	Attachments int
}

func (v *caseVersionView) ReportN(n int) string { return caseSprintf(v.Lang, "cases.report_n", n) }

// caseVersion shows one version in full. Both the case and the version go
// through the sharing rule; a version of another case is not found.
func (h *Handler) caseVersion(w http.ResponseWriter, r *http.Request) {
	c, ver, prev, ok := h.caseAndVersion(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	v := &caseVersionView{Page: h.page(r, "cases.version_title")}
	refs, err := h.caseRefs(ctx, v.Lang, ver.Form.ClassificationVersion)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	names := h.caseOrgNames(ctx, v.Lang)
	v.H = newCaseHeader(v.Lang, refs, c)
	v.V = newCaseVersionRow(v.Lang, c, ver, names)
	count, err := h.caseAttachments(ctx, caseViewerOf(r), ver.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Form = newCaseFormView(v.Lang, refs, names, c, ver, count)
	v.Attachments = count
	if prev != nil {
		v.PrevID = prev.ID
	}
	h.render(w, r, http.StatusOK, "case_version", v)
}

// caseAndVersion reads the case and version of the path as the viewer may
// see them, with the visible version before it; on failure it has
// answered (404 for anything not visible).
func (h *Handler) caseAndVersion(w http.ResponseWriter, r *http.Request) (*kyoyu.Case, *kyoyu.ReportVersion, *kyoyu.ReportVersion, bool) {
	id, ok1 := casePathID(r, "id")
	vid, ok2 := casePathID(r, "vid")
	if !ok1 || !ok2 {
		h.notFound(w, r)
		return nil, nil, nil, false
	}
	c, vers, err := h.loadCase(r, id)
	if err != nil {
		h.fail(w, r, err)
		return nil, nil, nil, false
	}
	var prev *kyoyu.ReportVersion
	for _, ver := range vers {
		if ver.ID == vid {
			return c, ver, prev, true
		}
		prev = ver
	}
	h.notFound(w, r)
	return nil, nil, nil, false
}
