package web

import (
	"net/http"
	"strconv"
	"strings"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/audit"
	"kyoyu/policy"
	"kyoyu/store"
)

// auditPageSize is how many entries one page of the audit view shows.
const auditPageSize = 50

type auditView struct {
	Page
	Entries []audit.Entry
	Action  string
	Scope   string // a locale key saying whose entries these are
	Before  int64
	Next    int64 // seq for the older page; 0 when this is the last
}

// auditScope narrows the log to what the caller may read: NISC analysts
// and system admins everything, an org admin their organisation's
// entries, everyone else their own — and, within that, entries about a
// case or advisory only as the sharing-range rule lets the caller see it
// (and who wrote an anonymised report only to those who may know its source).
func auditScope(pr *account.Principal) (store.AuditFilter, string) {
	v := policy.ViewerOf(pr.Person, pr.Organisation)
	switch pr.Person.Role {
	case kyoyu.RoleSystemAdmin, kyoyu.RoleNISCAnalyst:
		return store.AuditFilter{Viewer: &v}, "audit.scope_all"
	case kyoyu.RoleOrgAdmin:
		return store.AuditFilter{OrganisationID: pr.Organisation.ID, Viewer: &v}, "audit.scope_org"
	}
	return store.AuditFilter{PersonID: pr.Person.ID, Viewer: &v}, "audit.scope_own"
}

// auditLog shows the audit log newest first, a page at a time: ?before=SEQ
// pages by key (stable while new entries arrive), ?action= filters.
func (h *Handler) auditLog(w http.ResponseWriter, r *http.Request) {
	f, scope := auditScope(principal(r))
	q := r.URL.Query()
	v := &auditView{Page: h.page(r, "audit.title"), Scope: scope, Action: strings.TrimSpace(q.Get("action"))}
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			h.fail(w, r, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "audit.bad_before"})
			return
		}
		v.Before = n
	}
	// One more than a page, to know whether an older page exists.
	f.Action, f.BeforeSeq, f.Limit = v.Action, v.Before, auditPageSize+1
	entries, err := h.db.AuditEntries(r.Context(), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		v.Next = entries[len(entries)-1].Seq
	}
	v.Entries = entries
	h.render(w, r, http.StatusOK, "audit", v)
}
