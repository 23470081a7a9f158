package web

import (
	"net/http"
	"strconv"
	"strings"

	"kyoyu"
)

// maxTokenName bounds a token's label; it is for recognising it in a list.
const maxTokenName = 100

// tokenCreate makes an API token for the signed-in person and shows its
// secret on the page it renders, once: the secret is never put in a URL
// (it would land in logs and history) and only its hash is stored.
func (h *Handler) tokenCreate(w http.ResponseWriter, r *http.Request) {
	pr := principal(r)
	name := strings.TrimSpace(r.PostFormValue("name"))
	v := h.newAccountView(r)
	if len([]rune(name)) > maxTokenName {
		v.Form.Values.Set("name", name)
		v.Form.Fields["name"] = "too_long"
		v.Error = "account.token_invalid"
		h.showAccount(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	secret, _, err := h.accounts.CreateToken(r.Context(), pr.Actor(ClientIP(r)), pr.Person.ID, name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.NewToken = secret
	v.Flash = "account.token_created"
	h.showAccount(w, r, http.StatusOK, v)
}

// tokenRevoke revokes one of the signed-in person's own tokens. Anyone
// else's token id answers 404, exactly like an id that does not exist.
func (h *Handler) tokenRevoke(w http.ResponseWriter, r *http.Request) {
	pr := principal(r)
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.notFound(w, r)
		return
	}
	tokens, err := h.db.Tokens(r.Context(), pr.Person.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var own *kyoyu.APIToken
	for _, t := range tokens {
		if t.ID == id {
			own = t
		}
	}
	if own == nil {
		h.notFound(w, r)
		return
	}
	if own.RevokedAt == nil {
		if err := h.db.RevokeToken(r.Context(), pr.Actor(ClientIP(r)), pr.Person.ID, id); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	http.Redirect(w, r, "/account?flash=account.token_revoked", http.StatusSeeOther)
}
