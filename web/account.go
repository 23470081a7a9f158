package web

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"time"

	"kyoyu"
)

// accountView is the signed-in person's own account: who they are, their
// second factor and their API tokens.
type accountView struct {
	Page
	Tokens   []*kyoyu.APIToken
	NewToken string // the secret of a token just made, shown this once
	TOTP     *totpEnrolment
	Form     Form
	Until    string // end of a lock-out, JST
}

// totpEnrolment is a second factor being set up: the secret as text for
// typing in, the otpauth URL, and the QR code as a data: URI (the CSP
// allows img-src data:, and nothing is fetched from elsewhere).
type totpEnrolment struct {
	Secret string
	URL    string
	QR     template.URL
}

func newEnrolment(secret, url string, png []byte) *totpEnrolment {
	// The data: URI is built here from PNG bytes we encoded ourselves, so
	// marking it safe cannot let anything else through.
	return &totpEnrolment{Secret: secret, URL: url, QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))}
}

// showAccount renders the account page with what v already holds (a new
// token, form errors …) plus the token list and any pending enrolment.
func (h *Handler) showAccount(w http.ResponseWriter, r *http.Request, status int, v *accountView) {
	pr := principal(r)
	tokens, err := h.db.Tokens(r.Context(), pr.Person.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Tokens = tokens
	if v.TOTP == nil {
		secret, url, png, ok, err := h.accounts.PendingTOTP(pr)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if ok {
			v.TOTP = newEnrolment(secret, url, png)
		}
	}
	// The page can hold a token or TOTP secret: keep it out of caches.
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, status, "account", v)
}

func (h *Handler) newAccountView(r *http.Request) *accountView {
	return &accountView{Page: h.page(r, "account.title"), Form: newForm(r)}
}

func (h *Handler) account(w http.ResponseWriter, r *http.Request) {
	h.showAccount(w, r, http.StatusOK, h.newAccountView(r))
}

// totpBegin starts enrolling a second factor and shows the QR code.
func (h *Handler) totpBegin(w http.ResponseWriter, r *http.Request) {
	secret, url, png, err := h.accounts.BeginTOTP(r.Context(), principal(r), ClientIP(r))
	v := h.newAccountView(r)
	if ke, status, ok := formProblem(err); ok {
		v.Error = ke.Message
		h.showAccount(w, r, status, v)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	v.TOTP = newEnrolment(secret, url, png)
	h.showAccount(w, r, http.StatusOK, v)
}

// totpConfirm enables the second factor once a code from it is right.
func (h *Handler) totpConfirm(w http.ResponseWriter, r *http.Request) {
	err := h.accounts.ConfirmTOTP(r.Context(), principal(r), r.PostFormValue("code"), ClientIP(r))
	if ke, status, ok := formProblem(err); ok {
		v := h.newAccountView(r)
		v.Error, v.Form.Fields = ke.Message, ke.Fields
		h.showAccount(w, r, status, v)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?flash=totp.enabled", http.StatusSeeOther)
}

// totpDisable turns the second factor off; it needs the password.
func (h *Handler) totpDisable(w http.ResponseWriter, r *http.Request) {
	err := h.accounts.DisableTOTP(r.Context(), principal(r), r.PostFormValue("password"), ClientIP(r))
	if ke, status, ok := formProblem(err); ok {
		v := h.newAccountView(r)
		v.Error, v.Form.Fields = ke.Message, ke.Fields
		h.showAccount(w, r, status, v)
		return
	} else if ke := (*kyoyu.Error)(nil); errors.As(err, &ke) && ke.Code == kyoyu.ELOCKED {
		v := h.newAccountView(r)
		v.Error = ke.Message
		if t, perr := time.Parse(time.RFC3339, ke.Fields["until"]); perr == nil {
			v.Until = kyoyu.FormatJST(t)
		}
		h.showAccount(w, r, http.StatusTooManyRequests, v)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?flash=totp.disabled", http.StatusSeeOther)
}
