// Package taxii is Kyoyu's TAXII 2.1 server (docs/TAXII.md), mounted at
// /taxii2/: discovery, one API root, a collection per sector, one for
// advisories and one for contributions that security agencies, vendors
// and NISC write to. Every answer is read through the reporting service
// and the store's STIX object query, so the sharing-range rule decides
// what each person gets; an object or collection they may not see answers
// 404 exactly like a missing one.
package taxii

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/audit"
	"kyoyu/report"
	"kyoyu/stix"
	"kyoyu/store"
)

// Media types of TAXII 2.1 (§1.6.8) and of the STIX content it carries.
const (
	MediaType     = "application/taxii+json;version=2.1"
	STIXMediaType = "application/stix+json;version=2.1"
)

// Prefix is where the server is mounted; Root is its one API root.
const (
	Prefix = "/taxii2/"
	Root   = Prefix + "api/"
)

// maxContent bounds a POSTed envelope, and is the API root's
// max_content_length.
var maxContent = stix.DefaultLimits.MaxBytes

// Handler serves /taxii2/.
type Handler struct {
	cfg      kyoyu.Config
	db       *store.DB
	accounts *account.Service
	reports  *report.Service
	log      *slog.Logger
	mux      *http.ServeMux
}

// New registers the TAXII routes.
func New(cfg kyoyu.Config, db *store.DB, accounts *account.Service, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, db: db, accounts: accounts, reports: report.New(db, cfg), log: log, mux: http.NewServeMux()}
	// Paths end in "/" as the specification writes them; {$} keeps each
	// pattern to its one path.
	h.mux.HandleFunc("GET /taxii2/{$}", h.authed(h.discovery))
	h.mux.HandleFunc("GET /taxii2/api/{$}", h.authed(h.apiRoot))
	h.mux.HandleFunc("GET /taxii2/api/collections/{$}", h.authed(h.collections))
	h.mux.HandleFunc("GET /taxii2/api/collections/{id}/{$}", h.authed(h.collection))
	h.mux.HandleFunc("GET /taxii2/api/collections/{id}/objects/{$}", h.authed(h.objects))
	h.mux.HandleFunc("POST /taxii2/api/collections/{id}/objects/{$}", h.authed(h.addObjects))
	h.mux.HandleFunc("GET /taxii2/api/collections/{id}/objects/{oid}/{$}", h.authed(h.object))
	h.mux.HandleFunc("GET /taxii2/api/collections/{id}/objects/{oid}/versions/{$}", h.authed(h.versions))
	h.mux.HandleFunc("GET /taxii2/api/collections/{id}/manifest/{$}", h.authed(h.manifest))
	h.mux.HandleFunc("GET /taxii2/api/status/{sid}/{$}", h.authed(h.status))
	h.mux.HandleFunc("/taxii2/", h.authed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not found", "no such TAXII resource: "+r.Method+" "+r.URL.Path)
	}))
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// ---- authentication ---------------------------------------------------------

type ctxKey int

const principalKey ctxKey = 0

func principal(r *http.Request) *account.Principal {
	p, _ := r.Context().Value(principalKey).(*account.Principal)
	return p
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authenticate reads the credentials: an API token as a bearer token, or
// HTTP Basic with the person's e-mail address as the user and one of
// their API tokens as the password (TAXII clients often speak Basic
// only). The account password is never accepted here: it would bypass
// the second factor and give scripts the password that guards the UI.
func (h *Handler) authenticate(r *http.Request) (*account.Principal, error) {
	auth := r.Header.Get("Authorization")
	if raw, ok := strings.CutPrefix(auth, "Bearer "); ok && strings.TrimSpace(raw) != "" {
		return h.accounts.AuthenticateToken(r.Context(), strings.TrimSpace(raw), clientIP(r))
	}
	if user, pass, ok := r.BasicAuth(); ok && user != "" && pass != "" {
		pr, err := h.accounts.AuthenticateToken(r.Context(), pass, clientIP(r))
		if err != nil {
			return nil, err
		}
		// A token is its person's alone: another name with it is refused
		// as a wrong password would be.
		if store.NormaliseEmail(user) != store.NormaliseEmail(pr.Person.Email) {
			e := audit.Entry{Action: "auth.token", Outcome: audit.Denied, PersonID: pr.Person.ID, IP: clientIP(r),
				PersonEmail: store.NormaliseEmail(user), Detail: "token presented with another e-mail address (TAXII Basic)"}
			if err := h.db.Audit(r.Context(), e); err != nil {
				return nil, err
			}
			return nil, &kyoyu.Error{Code: kyoyu.EUNAUTHORIZED, Message: "auth.bad_credentials"}
		}
		return pr, nil
	}
	return nil, &kyoyu.Error{Code: kyoyu.EUNAUTHORIZED, Message: "auth.required"}
}

// authed requires credentials, then an acceptable Accept header.
func (h *Handler) authed(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pr, err := h.authenticate(r)
		if err != nil {
			var ke *kyoyu.Error
			if !errors.As(err, &ke) || ke.Code != kyoyu.EUNAUTHORIZED {
				h.fail(w, r, err)
				return
			}
			w.Header().Add("WWW-Authenticate", `Basic realm="kyoyu-taxii", charset="UTF-8"`)
			w.Header().Add("WWW-Authenticate", `Bearer realm="kyoyu-taxii"`)
			writeError(w, http.StatusUnauthorized, "authentication required",
				"send an API token as a bearer token, or HTTP Basic with your e-mail address and an API token ("+ke.Message+")")
			return
		}
		if !acceptable(r.Header.Get("Accept")) {
			writeError(w, http.StatusNotAcceptable, "not acceptable", "this server answers "+MediaType+" only")
			return
		}
		fn(w, r.WithContext(context.WithValue(r.Context(), principalKey, pr)))
	}
}

// ---- media types ----------------------------------------------------------------

// acceptable reports whether an Accept header admits TAXII 2.1 JSON: no
// header, */*, application/*, or application/taxii+json with no version
// or version 2.1 (and a non-zero quality).
func acceptable(header string) bool {
	if strings.TrimSpace(header) == "" {
		return true
	}
	for _, part := range strings.Split(header, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
				continue
			}
		}
		switch mt {
		case "*/*", "application/*":
			return true
		case "application/taxii+json":
			if v, ok := params["version"]; !ok || v == "2.1" {
				return true
			}
		}
	}
	return false
}

// contentTypeOK reports whether a POST's Content-Type is a TAXII 2.1
// envelope.
func contentTypeOK(header string) bool {
	mt, params, err := mime.ParseMediaType(header)
	if err != nil || mt != "application/taxii+json" {
		return false
	}
	if v, ok := params["version"]; ok && v != "2.1" {
		return false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return false
	}
	return true
}

// ---- answers ----------------------------------------------------------------------

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", MediaType)
	w.Header().Set("Cache-Control", "private, no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// Error is a TAXII 2.1 error message (§3.6.1).
type Error struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	HTTPStatus  string `json:"http_status"`
}

func writeError(w http.ResponseWriter, status int, title, description string) {
	writeJSON(w, status, Error{Title: title, Description: description, HTTPStatus: strconv.Itoa(status)})
}

// fail answers an error from a service: what a person may not see is not
// found, like what does not exist.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ke *kyoyu.Error
	switch {
	case errors.Is(err, kyoyu.ErrNotFound):
		writeError(w, http.StatusNotFound, "not found", "no such resource")
	case errors.As(err, &ke) && ke.Code == kyoyu.EINVALID:
		writeError(w, http.StatusBadRequest, "bad request", ke.Message)
	case errors.As(err, &ke) && ke.Code == kyoyu.EUNAUTHORIZED:
		writeError(w, http.StatusUnauthorized, "authentication required", ke.Message)
	case errors.As(err, &ke) && ke.Code == kyoyu.ETOOLARGE:
		writeError(w, http.StatusRequestEntityTooLarge, "too large", ke.Message)
	case errors.As(err, &ke) && (ke.Code == kyoyu.EFORBIDDEN || ke.Code == kyoyu.ENOTFOUND):
		writeError(w, http.StatusNotFound, "not found", "no such resource")
	default:
		h.log.Error("taxii", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal error", "")
	}
}

// base is the server's URL as the client reached it.
func (h *Handler) base(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || h.cfg.Secure {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// Discovery is the answer of GET /taxii2/ (§4.1).
type Discovery struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Contact     string   `json:"contact,omitempty"`
	Default     string   `json:"default,omitempty"`
	APIRoots    []string `json:"api_roots"`
}

func (h *Handler) discovery(w http.ResponseWriter, r *http.Request) {
	root := h.base(r) + Root
	writeJSON(w, http.StatusOK, Discovery{Title: "Kyoyu TAXII 2.1",
		Description: "重要インフラのサイバーセキュリティ情報共有 / critical-infrastructure cybersecurity information sharing",
		Contact:     "NISC", Default: root, APIRoots: []string{root}})
}

// APIRoot is the answer of GET {root}/ (§4.2).
type APIRoot struct {
	Title            string   `json:"title"`
	Description      string   `json:"description,omitempty"`
	Versions         []string `json:"versions"`
	MaxContentLength int64    `json:"max_content_length"`
}

func (h *Handler) apiRoot(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, APIRoot{Title: "Kyoyu", Description: "分野ごとの事案、情報提供、提供された指標 / cases by sector, advisories, contributed indicators",
		Versions: []string{MediaType}, MaxContentLength: maxContent})
}
