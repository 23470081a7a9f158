package web

import (
	"errors"
	"net/http"
	"time"

	"kyoyu"
)

type signInView struct {
	Page
	Email  string
	Next   string
	Reason string // why the person is here: expired session, locked …
	Until  string // end of a lock-out, JST
}

func (h *Handler) signInForm(w http.ResponseWriter, r *http.Request) {
	if principal(r) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	v := &signInView{Page: h.page(r, "signin.title"), Next: r.URL.Query().Get("next"), Reason: r.URL.Query().Get("reason")}
	h.render(w, r, http.StatusOK, "signin", v)
}

func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	email, password, next := r.PostFormValue("email"), r.PostFormValue("password"), r.PostFormValue("next")
	if !safeNext(next) {
		next = "/"
	}
	res, err := h.accounts.SignIn(r.Context(), email, password, ClientIP(r))
	var ke *kyoyu.Error
	switch {
	case err == nil:
		h.setCookie(w, sessionCookie, res.SessionID, 0)
		http.Redirect(w, r, next, http.StatusSeeOther)
	case errors.As(err, &ke) && ke.Code == kyoyu.EMFAREQUIRED && res != nil:
		h.setCookie(w, pendingCookie, res.SessionID, 300)
		http.Redirect(w, r, "/signin/mfa?next="+urlQueryEscape(next), http.StatusSeeOther)
	case errors.As(err, &ke) && (ke.Code == kyoyu.EUNAUTHORIZED || ke.Code == kyoyu.ELOCKED):
		v := &signInView{Page: h.page(r, "signin.title"), Email: email, Next: next}
		v.Error = ke.Message
		status := http.StatusUnauthorized
		if ke.Code == kyoyu.ELOCKED {
			status = http.StatusTooManyRequests
			if t, err := time.Parse(time.RFC3339, ke.Fields["until"]); err == nil {
				v.Until = kyoyu.FormatJST(t)
			}
		}
		h.render(w, r, status, "signin", v)
	default:
		h.fail(w, r, err)
	}
}

type mfaView struct {
	Page
	Next string
}

func (h *Handler) mfaForm(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(pendingCookie); err != nil {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "mfa", &mfaView{Page: h.page(r, "mfa.title"), Next: r.URL.Query().Get("next")})
}

func (h *Handler) mfa(w http.ResponseWriter, r *http.Request) {
	next := r.PostFormValue("next")
	if !safeNext(next) {
		next = "/"
	}
	c, err := r.Cookie(pendingCookie)
	if err != nil {
		http.Redirect(w, r, "/signin?reason=auth.session_expired", http.StatusSeeOther)
		return
	}
	res, err := h.accounts.CompleteSecondFactor(r.Context(), c.Value, r.PostFormValue("code"), ClientIP(r))
	if err != nil {
		var ke *kyoyu.Error
		if errors.As(err, &ke) && ke.Message == "auth.session_expired" {
			h.clearCookie(w, pendingCookie)
			http.Redirect(w, r, "/signin?reason=auth.session_expired", http.StatusSeeOther)
			return
		}
		if errors.As(err, &ke) && (ke.Code == kyoyu.EUNAUTHORIZED || ke.Code == kyoyu.ELOCKED) {
			v := &mfaView{Page: h.page(r, "mfa.title"), Next: next}
			v.Error = ke.Message
			h.render(w, r, http.StatusUnauthorized, "mfa", v)
			return
		}
		h.fail(w, r, err)
		return
	}
	h.clearCookie(w, pendingCookie)
	h.setCookie(w, sessionCookie, res.SessionID, 0)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	if err := h.accounts.SignOut(r.Context(), principal(r), ClientIP(r)); err != nil {
		h.fail(w, r, err)
		return
	}
	h.clearCookie(w, sessionCookie)
	http.Redirect(w, r, "/signin?flash=signin.signed_out", http.StatusSeeOther)
}
