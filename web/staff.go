package web

import (
	"net/http"
	"strconv"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/store"
)

// staffView is the staff page: the people an administrator manages and
// the form to add one.
type staffView struct {
	Page
	People []staffRow
	// Orgs is set for system admins, who choose the organisation when
	// adding someone; org admins add to their own.
	Orgs      []*kyoyu.Organisation
	OrgFilter int64
	Roles     []kyoyu.Role
	Form      Form
	Created   *kyoyu.Person
	Password  string // Created's initial password, shown this once
}

type staffRow struct {
	*kyoyu.Person
	OrgName string
	Self    bool
	// Manageable is false where the server would refuse anyway (an org
	// admin facing a system admin), so no button leads to a 404.
	Manageable bool
}

// staffPage lists the staff the caller manages. Anyone else gets the
// not-found page: the page's existence is not theirs to learn.
func (h *Handler) staffPage(w http.ResponseWriter, r *http.Request) {
	v, ok := h.staffView(w, r)
	if !ok {
		return
	}
	v.Form.Values.Set("handles_incidents", "on")
	h.showStaff(w, r, http.StatusOK, v)
}

// staffView builds the page's frame; false means an answer was written.
func (h *Handler) staffView(w http.ResponseWriter, r *http.Request) (*staffView, bool) {
	pr := principal(r)
	if !account.CanManageStaff(pr) {
		h.notFound(w, r)
		return nil, false
	}
	v := &staffView{Page: h.page(r, "staff.title"), Form: newForm(r)}
	if pr.Person.Role == kyoyu.RoleSystemAdmin {
		v.OrgFilter, _ = strconv.ParseInt(r.URL.Query().Get("org"), 10, 64)
		v.Roles = kyoyu.Roles // checked against the chosen organisation on submit
		def := pr.Organisation.ID
		if v.OrgFilter != 0 {
			def = v.OrgFilter
		}
		v.Form.Values.Set("organisation_id", strconv.FormatInt(def, 10))
	} else {
		v.Roles = account.AllowedRoles(pr.Person.Role, pr.Organisation)
	}
	return v, true
}

// showStaff fills the list and renders.
func (h *Handler) showStaff(w http.ResponseWriter, r *http.Request, status int, v *staffView) {
	ctx := r.Context()
	pr := principal(r)
	people, err := h.accounts.Staff(ctx, pr, v.OrgFilter)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	orgName := map[int64]string{pr.Organisation.ID: pr.Organisation.Name(v.Lang)}
	if pr.Person.Role == kyoyu.RoleSystemAdmin {
		orgs, err := h.db.Organisations(ctx, store.OrganisationFilter{})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		v.Orgs = orgs
		for _, o := range orgs {
			orgName[o.ID] = o.Name(v.Lang)
		}
	}
	isSys := pr.Person.Role == kyoyu.RoleSystemAdmin
	for _, p := range people {
		v.People = append(v.People, staffRow{Person: p, OrgName: orgName[p.OrganisationID], Self: p.ID == pr.Person.ID,
			Manageable: isSys || p.Role != kyoyu.RoleSystemAdmin})
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, status, "staff", v)
}

// staffAdd creates an account. Field problems show the form again with
// what was typed; a generated password is shown once on the page.
func (h *Handler) staffAdd(w http.ResponseWriter, r *http.Request) {
	v, ok := h.staffView(w, r)
	if !ok {
		return
	}
	pr := principal(r)
	in := account.NewStaff{
		OrganisationID:   pr.Organisation.ID,
		Email:            r.PostFormValue("email"),
		Name:             r.PostFormValue("name"),
		Role:             kyoyu.Role(r.PostFormValue("role")),
		HandlesIncidents: r.PostFormValue("handles_incidents") != "",
		Password:         r.PostFormValue("password"),
	}
	if s := r.PostFormValue("organisation_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			h.notFound(w, r)
			return
		}
		in.OrganisationID = id
	}
	p, password, err := h.accounts.AddStaff(r.Context(), pr, in, ClientIP(r))
	if ke, status, ok := formProblem(err); ok {
		for _, f := range []string{"organisation_id", "email", "name", "role", "handles_incidents"} {
			v.Form.Values.Set(f, r.PostFormValue(f))
		}
		v.Form.Fields = ke.Fields
		v.Error = "staff.invalid"
		if len(ke.Fields) == 0 {
			v.Error = ke.Message
		}
		h.showStaff(w, r, status, v)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Created, v.Flash = p, "staff.added"
	if in.Password == "" {
		v.Password = password
	}
	v.Form.Values.Set("handles_incidents", "on")
	h.showStaff(w, r, http.StatusOK, v)
}

// staffHandles sets whether a person handles incident information (事案情報取扱者).
func (h *Handler) staffHandles(w http.ResponseWriter, r *http.Request) {
	h.staffAction(w, r, "staff.handles_updated", func(pr *account.Principal, id int64) error {
		return h.accounts.SetHandlesIncidents(r.Context(), pr, id, r.PostFormValue("handles") == "1", ClientIP(r))
	})
}

// staffRemove takes a person out of service.
func (h *Handler) staffRemove(w http.ResponseWriter, r *http.Request) {
	h.staffAction(w, r, "staff.removed", func(pr *account.Principal, id int64) error {
		return h.accounts.RemoveStaff(r.Context(), pr, id, ClientIP(r))
	})
}

// staffAction runs a change on one person and goes back to the list.
func (h *Handler) staffAction(w http.ResponseWriter, r *http.Request, flash string, fn func(*account.Principal, int64) error) {
	pr := principal(r)
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || !account.CanManageStaff(pr) {
		h.notFound(w, r)
		return
	}
	if err := fn(pr, id); err != nil {
		if ke, status, ok := formProblem(err); ok {
			v, _ := h.staffView(w, r)
			v.Error = ke.Message
			v.Form.Values.Set("handles_incidents", "on")
			h.showStaff(w, r, status, v)
			return
		}
		h.fail(w, r, err)
		return
	}
	back := "/staff?flash=" + flash
	if org := r.URL.Query().Get("org"); org != "" {
		back += "&org=" + urlQueryEscape(org)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
