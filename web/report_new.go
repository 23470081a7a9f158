package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"kyoyu"
	"kyoyu/report"
	"kyoyu/store"
)

// rfNewView is the first step of a report: which way it goes.
type rfNewView struct {
	Page
	// As is "operator" (route via the ministry or the CEPTOAR), "ministry"
	// (the ministry originates it) or "" (this role writes no reports).
	As        string
	CEPTOAR   string // the operator's CEPTOAR, if a member
	Sectors   []rfChoice
	Operators []rfOperatorGroup
	Channels  []string
	In        rfInput
}

// rfOperatorGroup is the registered operators of one of the ministry's sectors.
type rfOperatorGroup struct {
	Sector    string
	Operators []rfOrg
}

// rfNew offers the routes open to the person's organisation.
func (h *Handler) rfNew(w http.ResponseWriter, r *http.Request) {
	in := rfInput{lang: language(r), Values: url.Values{}, Problems: map[string]string{}}
	in.Values.Set("channel", "phone")
	h.rfShowNew(w, r, http.StatusOK, in, "")
}

// rfStartAs says which start form the person gets.
func rfStartAs(org *kyoyu.Organisation, role kyoyu.Role) string {
	switch {
	case org.Has(kyoyu.KindOperator) && (role == kyoyu.RoleOperatorReporter || role == kyoyu.RoleOrgAdmin):
		return "operator"
	case org.Has(kyoyu.KindMinistry) && role == kyoyu.RoleMinistryLiaison:
		return "ministry"
	}
	return ""
}

func (h *Handler) rfShowNew(w http.ResponseWriter, r *http.Request, status int, in rfInput, msg string) {
	ctx := r.Context()
	pr := principal(r)
	v := &rfNewView{Page: h.page(r, "report_form.new_title"), In: in, Channels: []string{"phone", "fax", "email", "web"}}
	v.Error = msg
	v.As = rfStartAs(pr.Organisation, pr.Person.Role)
	sectors, err := h.db.Sectors(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, s := range sectors {
		if slices.Contains(pr.Organisation.Sectors, s.Code) {
			v.Sectors = append(v.Sectors, rfChoice{Code: s.Code, Label: rfSectorName(s, v.Lang)})
		}
	}
	switch v.As {
	case "operator":
		if len(pr.Organisation.CEPTOARs) > 0 {
			cs, err := h.db.CEPTOARs(ctx)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			for _, c := range cs {
				if c.Code == pr.Organisation.CEPTOARs[0] {
					v.CEPTOAR = c.NameJA
					if v.Lang == "en" {
						v.CEPTOAR = rfOrElse(c.NameEN, c.NameJA)
					}
				}
			}
		}
	case "ministry":
		for _, s := range v.Sectors {
			ops, err := h.db.Organisations(ctx, store.OrganisationFilter{Kind: kyoyu.KindOperator, Sector: s.Code})
			if err != nil {
				h.fail(w, r, err)
				return
			}
			g := rfOperatorGroup{Sector: s.Label}
			for _, o := range ops {
				g.Operators = append(g.Operators, rfOrg{ID: o.ID, Name: o.Name(v.Lang)})
			}
			v.Operators = append(v.Operators, g)
		}
	}
	h.render(w, r, status, "report_new", v)
}

// rfStart opens the case and its first draft, then goes to the form.
func (h *Handler) rfStart(w http.ResponseWriter, r *http.Request) {
	pr, ctx := principal(r), r.Context()
	in := rfInput{lang: language(r), Values: r.PostForm, Problems: map[string]string{}}
	as := rfStartAs(pr.Organisation, pr.Person.Role)
	if as == "" {
		h.notFound(w, r)
		return
	}
	sector := strings.TrimSpace(r.PostFormValue("sector"))
	if sector != "" && !slices.Contains(pr.Organisation.Sectors, sector) {
		in.Problems["sector"] = "invalid_choice"
	}
	start := report.StartInput{Route: kyoyu.Route(r.PostFormValue("route")), Form: kyoyu.ReportForm{Sector: sector}}
	if as == "ministry" {
		start.Route = kyoyu.RouteMinistryOrigin
		start.Channel = r.PostFormValue("channel")
		start.TakenBy = strings.TrimSpace(r.PostFormValue("taken_by"))
		start.OperatorName = strings.TrimSpace(r.PostFormValue("operator_name"))
		if s := r.PostFormValue("operator_org_id"); s != "" {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				in.Problems["operator"] = "unknown_operator"
			}
			start.OperatorOrgID = id
		}
		if (start.Channel == "phone" || start.Channel == "fax") && start.TakenBy == "" {
			// Who took a call or a fax is the only trace of where it came from.
			in.Problems["taken_by"] = "required"
		}
		if start.OperatorOrgID != 0 && sector == "" {
			if op, err := h.db.Organisation(ctx, start.OperatorOrgID); err == nil {
				for _, s := range op.Sectors {
					if slices.Contains(pr.Organisation.Sectors, s) && start.Form.Sector == "" {
						start.Form.Sector = s
					}
				}
			}
		}
	} else if start.Route != kyoyu.RouteMinistry && start.Route != kyoyu.RouteCEPTOAR {
		in.Problems["route"] = "invalid_choice"
	}
	if len(in.Problems) > 0 {
		h.rfShowNew(w, r, http.StatusUnprocessableEntity, in, "report_form.start_invalid")
		return
	}
	_, draft, err := h.reports.Start(ctx, pr, ClientIP(r), start)
	if ke, status, ok := formProblem(err); ok {
		in.Problems = ke.Fields
		if in.Problems == nil {
			in.Problems = map[string]string{}
		}
		msg := "report_form.start_invalid"
		if len(ke.Fields) == 0 {
			msg = ke.Message
		}
		h.rfShowNew(w, r, status, in, msg)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/reports/drafts/%d", draft.ID), http.StatusSeeOther)
}
