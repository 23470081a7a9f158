package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"kyoyu"
	"kyoyu/store"
)

// rfRow is one report in a list of the reporting pages.
type rfRow struct {
	VersionID    int64
	CaseNumber   string // "" until NISC numbers the case
	ReportNumber int
	From         string // the organisation that sent (or writes) it
	Stage        kyoyu.Stage
	Operator     string // the operator's name, or its label for those not entitled
	TLP          string
	At           *time.Time
}

// rfListView is the incoming list or the drafts list.
type rfListView struct {
	Page
	Rows []rfRow
}

// rfRows turns store entries into rows. The sending organisation is
// named from the version, except an operator's own version of an
// anonymised case, which shows only the label to those not entitled.
func (h *Handler) rfRows(ctx context.Context, lang string, entries []store.InboxEntry, draft bool) ([]rfRow, error) {
	choices, err := h.rfLoadChoices(ctx, lang, "")
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	var rows []rfRow
	for _, e := range entries {
		c, ver := e.Case, e.Version
		from, ok := names[ver.OrgID]
		if !ok {
			org, err := h.db.Organisation(ctx, ver.OrgID)
			if err != nil {
				return nil, err
			}
			from = org.Name(lang)
			names[ver.OrgID] = from
		}
		if ver.Stage == kyoyu.StageOperator && c.Anonymised && c.OperatorOrgID == 0 {
			from = c.Operator
		}
		row := rfRow{VersionID: ver.ID, CaseNumber: c.CaseNumber, ReportNumber: ver.ReportNumber, From: from,
			Stage: ver.Stage, Operator: c.Operator, TLP: rfLabel(choices.TLP, ver.Form.TLP), At: ver.SubmittedAt}
		if draft {
			at := ver.UpdatedAt
			row.At = &at
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// rfIncoming lists the reports sent to the person's organisation and
// waiting for it: a secretariat anonymises them, a ministry reviews them.
func (h *Handler) rfIncoming(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	entries, err := h.db.Incoming(ctx, rfViewer(principal(r)))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := &rfListView{Page: h.page(r, "report_form.incoming_title")}
	if v.Rows, err = h.rfRows(ctx, v.Lang, entries, false); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, "report_incoming", v)
}

// rfTake gives the organisation its own draft of a report waiting for
// it (report.Service.TakeUp) and opens it.
func (h *Handler) rfTake(w http.ResponseWriter, r *http.Request) {
	id, ok := rfPathID(r)
	if !ok {
		h.notFound(w, r)
		return
	}
	draft, err := h.reports.TakeUp(r.Context(), principal(r), ClientIP(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/reports/drafts/%d", draft.ID), http.StatusSeeOther)
}
