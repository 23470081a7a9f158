// Package api is the JSON API under /api/v1, described by the OpenAPI
// document it serves at /api/v1/openapi.json. Callers authenticate with an
// API token sent as "Authorization: Bearer …".
package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/advisory"
	"kyoyu/report"
	"kyoyu/store"
)

//go:embed openapi.json
var openapiDoc []byte

// Handler serves /api/v1.
type Handler struct {
	cfg      kyoyu.Config
	db       *store.DB
	accounts *account.Service
	reports  *report.Service
	// advisories runs the advisory flow (情報提供).
	advisories *advisory.Service
	log        *slog.Logger
	mux        *http.ServeMux
}

// New registers the API's routes.
func New(cfg kyoyu.Config, db *store.DB, accounts *account.Service, log *slog.Logger) (*Handler, error) {
	h := &Handler{cfg: cfg, db: db, accounts: accounts, reports: report.New(db, cfg),
		advisories: advisory.New(db, cfg), log: log, mux: http.NewServeMux()}
	var doc map[string]any
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		return nil, err
	}
	h.routes()
	return h, nil
}

// Routes lists every route the API serves, as "METHOD /path"; a test keeps
// the OpenAPI document equal to it.
var Routes = []string{
	"GET /api/v1/openapi.json",
	"GET /api/v1/me",
	"GET /api/v1/sectors",
	"GET /api/v1/ceptoars",
	"GET /api/v1/organisations",
	"GET /api/v1/cases",
	"GET /api/v1/cases.csv",
	"GET /api/v1/cases/{id}",
	"GET /api/v1/cases/{id}/versions",
	"GET /api/v1/cases/{id}/versions/{vid}",
	"GET /api/v1/cases/{id}/diff",
	"POST /api/v1/cases/{id}/follow-up",
	"GET /api/v1/cases/{id}/consent-requests",
	"POST /api/v1/cases/{id}/consent-requests",
	"POST /api/v1/cases/{id}/consent-requests/{rid}/answer",
	"GET /api/v1/cases/{id}/partners",
	"PUT /api/v1/cases/{id}/partners",
	"POST /api/v1/reports",
	"GET /api/v1/reports/drafts",
	"PUT /api/v1/reports/drafts/{vid}",
	"POST /api/v1/reports/drafts/{vid}/submit",
	"GET /api/v1/reports/incoming",
	"POST /api/v1/reports/incoming/{vid}/take",
	"GET /api/v1/notifications",
	"GET /api/v1/advisories",
	"POST /api/v1/advisories",
	"GET /api/v1/advisories/{id}",
	"PUT /api/v1/advisories/drafts/{vid}",
	"GET /api/v1/advisories/drafts/{vid}/highlights",
	"POST /api/v1/advisories/drafts/{vid}/publish",
	"POST /api/v1/advisories/{id}/follow-up",
	"POST /api/v1/advisories/{id}/forward",
	"POST /api/v1/advisories/{id}/ack",
	"GET /api/v1/advisories/{id}/rates",
	"GET /api/v1/advisories/{id}/inquiries",
	"POST /api/v1/advisories/{id}/inquiries",
	"POST /api/v1/advisories/{id}/inquiries/{ministry}/reply",
	"GET /api/v1/advisories/{id}/feedback",
	"POST /api/v1/advisories/{id}/feedback",
	"GET /api/v1/cases/{id}/stix",
	"GET /api/v1/advisories/{id}/stix",
	"POST /api/v1/stix/bundles",
	"GET /api/v1/stix/bundles/{id}",
	"GET /api/v1/stix/objects",
	"POST /api/v1/misp/events",
	"GET /api/v1/cases/{id}/misp",
	"GET /api/v1/stix/bundles/{id}/misp",
}

func (h *Handler) routes() {
	h.mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openapiDoc)
	})
	h.mux.HandleFunc("GET /api/v1/me", h.authed(h.me))
	h.mux.HandleFunc("GET /api/v1/sectors", h.authed(h.sectors))
	h.mux.HandleFunc("GET /api/v1/ceptoars", h.authed(h.ceptoars))
	h.mux.HandleFunc("GET /api/v1/organisations", h.authed(h.organisations))
	h.mux.HandleFunc("GET /api/v1/cases", h.authed(h.listCases))
	h.mux.HandleFunc("GET /api/v1/cases.csv", h.authed(h.listCasesCSV)) // cases_csv.go
	h.mux.HandleFunc("GET /api/v1/cases/{id}", h.authed(h.getCase))
	h.mux.HandleFunc("GET /api/v1/cases/{id}/versions", h.authed(h.listVersions))
	h.mux.HandleFunc("GET /api/v1/cases/{id}/versions/{vid}", h.authed(h.getVersion))
	h.mux.HandleFunc("GET /api/v1/cases/{id}/diff", h.authed(h.diff))
	h.mux.HandleFunc("POST /api/v1/cases/{id}/follow-up", h.authed(h.followUp))
	h.mux.HandleFunc("GET /api/v1/cases/{id}/consent-requests", h.authed(h.listConsentRequests))
	h.mux.HandleFunc("POST /api/v1/cases/{id}/consent-requests", h.authed(h.requestWidening))
	h.mux.HandleFunc("POST /api/v1/cases/{id}/consent-requests/{rid}/answer", h.authed(h.answerConsent))
	h.mux.HandleFunc("GET /api/v1/cases/{id}/partners", h.authed(h.getPartners))
	h.mux.HandleFunc("PUT /api/v1/cases/{id}/partners", h.authed(h.setPartners))
	h.mux.HandleFunc("POST /api/v1/reports", h.authed(h.startReport))
	h.mux.HandleFunc("GET /api/v1/reports/drafts", h.authed(h.drafts))
	h.mux.HandleFunc("PUT /api/v1/reports/drafts/{vid}", h.authed(h.saveDraft))
	h.mux.HandleFunc("POST /api/v1/reports/drafts/{vid}/submit", h.authed(h.submit))
	h.mux.HandleFunc("GET /api/v1/reports/incoming", h.authed(h.incoming))
	h.mux.HandleFunc("POST /api/v1/reports/incoming/{vid}/take", h.authed(h.takeUp))
	h.mux.HandleFunc("GET /api/v1/notifications", h.authed(h.notifications))
	h.mux.HandleFunc("GET /api/v1/advisories", h.authed(h.listAdvisories))
	h.mux.HandleFunc("POST /api/v1/advisories", h.authed(h.draftAdvisory))
	h.mux.HandleFunc("GET /api/v1/advisories/{id}", h.authed(h.getAdvisory))
	h.mux.HandleFunc("PUT /api/v1/advisories/drafts/{vid}", h.authed(h.saveAdvisoryDraft))
	h.mux.HandleFunc("GET /api/v1/advisories/drafts/{vid}/highlights", h.authed(h.advisoryHighlights))
	h.mux.HandleFunc("POST /api/v1/advisories/drafts/{vid}/publish", h.authed(h.publishAdvisory))
	h.mux.HandleFunc("POST /api/v1/advisories/{id}/follow-up", h.authed(h.followUpAdvisory))
	h.mux.HandleFunc("POST /api/v1/advisories/{id}/forward", h.authed(h.forwardAdvisory))
	h.mux.HandleFunc("POST /api/v1/advisories/{id}/ack", h.authed(h.ackAdvisory))
	h.mux.HandleFunc("GET /api/v1/advisories/{id}/rates", h.authed(h.advisoryRates))
	h.mux.HandleFunc("GET /api/v1/advisories/{id}/inquiries", h.authed(h.listInquiries))
	h.mux.HandleFunc("POST /api/v1/advisories/{id}/inquiries", h.authed(h.askInquiry))
	h.mux.HandleFunc("POST /api/v1/advisories/{id}/inquiries/{ministry}/reply", h.authed(h.replyInquiry))
	h.mux.HandleFunc("GET /api/v1/advisories/{id}/feedback", h.authed(h.getFeedback))
	h.mux.HandleFunc("POST /api/v1/advisories/{id}/feedback", h.authed(h.giveFeedback))
	h.stixRoutes() // stix.go: STIX 2.1 export and import
	h.mispRoutes() // misp.go: MISP events in and out
	h.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, kyoyu.Errorf(kyoyu.ENOTFOUND, "no such API route: %s %s", r.Method, r.URL.Path))
	})
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

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

// authed requires a valid bearer token; the refusal says whether the token
// was missing, malformed, unknown or revoked.
func (h *Handler) authed(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		raw, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || strings.TrimSpace(raw) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kyoyu"`)
			writeError(w, r, &kyoyu.Error{Code: kyoyu.EUNAUTHORIZED, Message: "auth.required"})
			return
		}
		pr, err := h.accounts.AuthenticateToken(r.Context(), strings.TrimSpace(raw), clientIP(r))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kyoyu", error="invalid_token"`)
			writeError(w, r, err)
			return
		}
		fn(w, r.WithContext(context.WithValue(r.Context(), principalKey, pr)))
	}
}

// errorStatus is the one table from error codes to HTTP statuses for the API.
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

// Error is the body of every API error.
type Error struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

func writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := kyoyu.ErrorCode(err)
	status, ok := errorStatus[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	body := Error{Code: code, Message: kyoyu.ErrorMessage(err)}
	if status == http.StatusInternalServerError {
		body.Message = "internal error"
	} else if status == http.StatusNotFound {
		body.Code = kyoyu.ENOTFOUND
	}
	var ke *kyoyu.Error
	if errors.As(err, &ke) && ke.Code == kyoyu.EINVALID {
		body.Fields = ke.Fields
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
