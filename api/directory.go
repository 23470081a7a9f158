package api

import (
	"net/http"

	"kyoyu"
	"kyoyu/store"
)

// Me is the caller's account, organisation and role.
type Me struct {
	Person       *kyoyu.Person       `json:"person"`
	Organisation *kyoyu.Organisation `json:"organisation"`
	Role         kyoyu.Role          `json:"role"`
}

func (h *Handler) me(w http.ResponseWriter, r *http.Request) {
	pr := principal(r)
	writeJSON(w, http.StatusOK, Me{Person: pr.Person, Organisation: pr.Organisation, Role: pr.Person.Role})
}

func (h *Handler) sectors(w http.ResponseWriter, r *http.Request) {
	s, err := h.db.Sectors(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	for i := range s {
		s[i].Services = nonNil(s[i].Services)
		for j := range s[i].Services {
			if s[i].Services[j].Threshold == nil {
				s[i].Services[j].Threshold = map[string]any{}
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sectors": nonNil(s)})
}

func (h *Handler) ceptoars(w http.ResponseWriter, r *http.Request) {
	c, err := h.db.CEPTOARs(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	for i := range c {
		c[i].Sectors, c[i].Channels = nonNil(c[i].Sectors), nonNil(c[i].Channels)
	}
	writeJSON(w, http.StatusOK, map[string]any{"ceptoars": nonNil(c)})
}

func (h *Handler) organisations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.OrganisationFilter{Kind: kyoyu.OrgKind(q.Get("kind")), Sector: q.Get("sector")}
	if f.Kind != "" && !f.Kind.Valid() {
		writeError(w, r, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "unknown organisation kind", Fields: map[string]string{"kind": "unknown"}})
		return
	}
	o, err := h.db.Organisations(r.Context(), f)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"organisations": nonNil(o)})
}

// nonNil turns a nil slice into an empty one: the document promises
// arrays, and a store that found nothing gives nil.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
