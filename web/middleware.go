package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/audit"
	"kyoyu/store"
)

const (
	sessionCookie = "kyoyu_session"
	pendingCookie = "kyoyu_mfa"  // a session waiting for its second factor
	anonCSRFName  = "kyoyu_csrf" // double-submit token for forms shown before sign-in
)

type ctxKey int

const (
	principalKey ctxKey = iota
	authErrKey
	anonCSRFKey
)

func principal(r *http.Request) *account.Principal {
	p, _ := r.Context().Value(principalKey).(*account.Principal)
	return p
}

// ClientIP is the remote address without its port.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// withSession resolves the session cookie, if any, into a principal, and
// makes sure visitors without one carry a CSRF cookie for the sign-in form.
func (h *Handler) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			pr, err := h.accounts.AuthenticateFrom(ctx, c.Value, ClientIP(r))
			if err != nil {
				ctx = context.WithValue(ctx, authErrKey, err)
				h.clearCookie(w, sessionCookie)
			} else {
				ctx = context.WithValue(ctx, principalKey, pr)
			}
		}
		if ctx.Value(principalKey) == nil {
			tok := ""
			if c, err := r.Cookie(anonCSRFName); err == nil && len(c.Value) >= 32 {
				tok = c.Value
			} else {
				b := make([]byte, 32)
				rand.Read(b)
				tok = base64.RawURLEncoding.EncodeToString(b)
				http.SetCookie(w, &http.Cookie{Name: anonCSRFName, Value: tok, Path: "/", HttpOnly: true,
					SameSite: http.SameSiteStrictMode, Secure: h.cfg.Secure})
			}
			ctx = context.WithValue(ctx, anonCSRFKey, tok)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func anonCSRF(r *http.Request) string {
	s, _ := r.Context().Value(anonCSRFKey).(string)
	return s
}

// checkCSRF refuses any state-changing request whose form token does not
// match the session's (or, before sign-in, the CSRF cookie). Refusals are
// audited and change nothing.
func (h *Handler) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, h.bodyLimit(r))
		if h.uploadTooLarge(w, r) { // attachment_upload.go
			return
		}
		got := r.PostFormValue("csrf_token")
		want := anonCSRF(r)
		pr := principal(r)
		if pr != nil {
			want = pr.Session.CSRFToken
		}
		if got == "" || want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			reason := "missing form token"
			if got != "" {
				reason = "stale or wrong form token"
			}
			e := store.EntryFor(pr.Actor(ClientIP(r)), "csrf.refused", "path", r.URL.Path, audit.Denied, reason)
			if err := h.db.Audit(r.Context(), e); err != nil {
				h.log.Error("audit csrf refusal", "err", err)
			}
			p := h.page(r, "error.csrf_title")
			p.Error = "error.csrf"
			h.render(w, r, http.StatusForbidden, "error", &p)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// signedIn wraps a handler that needs a signed-in person; others go to
// the sign-in page, told why (expired session) and where they were going.
func (h *Handler) signedIn(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if principal(r) != nil {
			fn(w, r)
			return
		}
		q := url.Values{}
		if r.Method == http.MethodGet {
			q.Set("next", r.URL.RequestURI())
		}
		if err, _ := r.Context().Value(authErrKey).(error); err != nil {
			q.Set("reason", kyoyu.ErrorMessage(err))
		}
		http.Redirect(w, r, "/signin?"+q.Encode(), http.StatusSeeOther)
	}
}

func (h *Handler) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: h.cfg.Secure})
}

func (h *Handler) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: h.cfg.Secure})
}

// errorStatus is the one table from error codes to HTTP statuses for pages.
var errorStatus = map[string]int{
	kyoyu.ECONFLICT:     http.StatusConflict,
	kyoyu.EINVALID:      http.StatusUnprocessableEntity,
	kyoyu.ENOTFOUND:     http.StatusNotFound,
	kyoyu.EUNAUTHORIZED: http.StatusUnauthorized,
	kyoyu.EFORBIDDEN:    http.StatusNotFound, // never confirm that something exists
	kyoyu.ELOCKED:       http.StatusTooManyRequests,
	kyoyu.ECSRF:         http.StatusForbidden,
	kyoyu.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	kyoyu.EMFAREQUIRED:  http.StatusUnauthorized,
	kyoyu.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
}

// fail renders an error page for err; internal errors are logged, not shown.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := kyoyu.ErrorCode(err)
	status, ok := errorStatus[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	p := h.page(r, "error.title")
	if status == http.StatusInternalServerError {
		h.log.Error("request failed", "path", r.URL.Path, "err", err)
		p.Error = "error.internal"
	} else if status == http.StatusNotFound {
		p.Error = "error.not_found"
	} else {
		p.Error = kyoyu.ErrorMessage(err)
	}
	h.render(w, r, status, "error", &p)
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, kyoyu.ErrNotFound)
}

var _ = errors.New
