// Package web is the server-rendered UI: one handler per file, templates
// and locales embedded and parsed at start-up, Japanese first.
package web

import (
	"embed"
	"log/slog"
	"net/http"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/advisory"
	"kyoyu/report"
	"kyoyu/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Handler serves the UI.
type Handler struct {
	cfg        kyoyu.Config
	db         *store.DB
	accounts   *account.Service
	reports    *report.Service
	advisories *advisory.Service
	log        *slog.Logger
	pages      map[string]*pageTemplate
	mux        *http.ServeMux
}

// New parses every template and locale (failing fast on any error) and
// registers the routes.
func New(cfg kyoyu.Config, db *store.DB, accounts *account.Service, log *slog.Logger) (*Handler, error) {
	h := &Handler{cfg: cfg, db: db, accounts: accounts, reports: report.New(db, cfg), log: log, mux: http.NewServeMux()}
	h.advisories = advisory.New(db, cfg)
	if err := loadLocales(); err != nil {
		return nil, err
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	h.pages = pages
	h.routes()
	return h, nil
}

func (h *Handler) routes() {
	m := h.mux
	m.Handle("GET /static/", http.FileServerFS(staticFS))
	m.HandleFunc("GET /lang/{lang}", h.setLanguage)
	m.HandleFunc("GET /signin", h.signInForm)
	m.HandleFunc("POST /signin", h.signIn)
	m.HandleFunc("GET /signin/mfa", h.mfaForm)
	m.HandleFunc("POST /signin/mfa", h.mfa)
	m.HandleFunc("POST /signout", h.signedIn(h.signOut))
	m.HandleFunc("GET /{$}", h.signedIn(h.home))
	m.HandleFunc("GET /directory", h.signedIn(h.directory))
	m.HandleFunc("GET /account", h.signedIn(h.account))
	m.HandleFunc("POST /account/totp", h.signedIn(h.totpBegin))
	m.HandleFunc("POST /account/totp/confirm", h.signedIn(h.totpConfirm))
	m.HandleFunc("POST /account/totp/disable", h.signedIn(h.totpDisable))
	m.HandleFunc("POST /account/tokens", h.signedIn(h.tokenCreate))
	m.HandleFunc("POST /account/tokens/{id}/revoke", h.signedIn(h.tokenRevoke))
	m.HandleFunc("GET /staff", h.signedIn(h.staffPage))
	m.HandleFunc("POST /staff", h.signedIn(h.staffAdd))
	m.HandleFunc("POST /staff/{id}/handles", h.signedIn(h.staffHandles))
	m.HandleFunc("POST /staff/{id}/remove", h.signedIn(h.staffRemove))
	m.HandleFunc("GET /audit", h.signedIn(h.auditLog))
	// Each flow registers its own routes, in its own files.
	h.reportFormRoutes() // report_*.go: writing, sending on, anonymising
	h.caseRoutes()       // case_*.go: inbox, search, case pages, versions, print
	h.caseCSVRoutes()    // case_csv.go: the case list as CSV
	h.consentRoutes()    // case_consent.go: widening with consent, analysis partners
	h.attachmentRoutes() // attachment_*.go: 別紙 and quarantined samples
	h.publicRoutes()     // public.go: WHITE material for anyone, page and feed
	h.advisoryRoutes()   // advisory_*.go: 情報提供, drafting to acknowledgement
	h.stixRoutes()       // case_export.go: a case as a STIX 2.1 bundle
	h.importRoutes()     // imports.go: STIX bundles and MISP events uploaded
	h.mispRoutes()       // case_export_misp.go: a case as a MISP event
}

// ServeHTTP applies the UI's middleware to every request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.withSession(h.checkCSRF(h.mux)).ServeHTTP(w, r)
}
