package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/account"
)

type pageTemplate struct{ t *template.Template }

var funcs = template.FuncMap{
	"jst":    kyoyu.FormatJST,
	"wareki": kyoyu.Wareki,
	"jstp": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return kyoyu.FormatJST(*t)
	},
}

// parseTemplates parses each page with the layout, once, at start-up.
func parseTemplates() (map[string]*pageTemplate, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*pageTemplate{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", n, err)
		}
		out[base] = &pageTemplate{t: t}
	}
	return out, nil
}

// Page is what every template receives; page view structs embed it.
type Page struct {
	Lang      string
	Title     string // a locale key
	CSRF      string
	Principal *account.Principal
	Path      string
	Flash     string // a locale key
	Error     string // a locale key or message
	Now       time.Time
}

// T translates a locale key in the page's language.
func (p *Page) T(key string) string { return T(p.Lang, key) }

// OrgName is the signed-in person's organisation in the page's language.
func (p *Page) OrgName() string {
	if p.Principal == nil || p.Principal.Organisation == nil {
		return ""
	}
	return p.Principal.Organisation.Name(p.Lang)
}

// Role is the signed-in person's role, translated.
func (p *Page) Role() string {
	if p.Principal == nil {
		return ""
	}
	return T(p.Lang, "role."+string(p.Principal.Person.Role))
}

// Is reports whether the signed-in person has one of the roles.
func (p *Page) Is(roles ...string) bool {
	if p.Principal == nil {
		return false
	}
	for _, r := range roles {
		if string(p.Principal.Person.Role) == r {
			return true
		}
	}
	return false
}

// page builds the base of a view for the request.
func (h *Handler) page(r *http.Request, title string) Page {
	p := Page{Lang: language(r), Title: title, Path: r.URL.Path, Now: time.Now()}
	if pr := principal(r); pr != nil {
		p.Principal = pr
		p.CSRF = pr.Session.CSRFToken
	} else {
		p.CSRF = anonCSRF(r)
	}
	p.Flash = r.URL.Query().Get("flash")
	return p
}

// render executes a page into a buffer first, so a template error becomes
// a clean 500 rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	pt, ok := h.pages[name]
	if !ok {
		h.log.Error("no such template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := pt.t.Execute(&buf, data); err != nil {
		h.log.Error("render", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	buf.WriteTo(w)
}
