package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strconv"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/policy"
)

// The advisory pages (情報提供, seed 003 §3): NISC drafts and publishes,
// ministries and CEPTOAR secretariats pass advisories down, everyone who
// receives one acknowledges it, and NISC watches the acknowledgements.
// What a person may see is decided by the advisory service and the store
// (the sharing-range rule); these handlers only lay it out.

// advisoryRoutes registers the advisory pages. Paths under /advisories/{id}/
// share one pattern per method so that /advisories/drafts/{vid}, more
// specific, never conflicts with them.
func (h *Handler) advisoryRoutes() {
	h.advisoryTemplates()
	m := h.mux
	m.HandleFunc("GET /advisories", h.signedIn(h.advList))
	m.HandleFunc("GET /advisories/new", h.signedIn(h.advNew))
	m.HandleFunc("POST /advisories/new", h.signedIn(h.advCreate))
	m.HandleFunc("GET /advisories/drafts/{vid}", h.signedIn(h.advDraftPage))
	m.HandleFunc("POST /advisories/drafts/{vid}", h.signedIn(h.advDraftPost))
	m.HandleFunc("GET /advisories/{id}", h.signedIn(h.advDetail))
	m.HandleFunc("GET /advisories/{id}/{page}", h.signedIn(h.advSubPage))
	m.HandleFunc("POST /advisories/{id}/{action}", h.signedIn(h.advAction))
	m.HandleFunc("POST /advisories/{id}/inquiries/{ministry}/reply", h.signedIn(h.advReply))
	// The e-mail's acknowledgement link works without signing in.
	m.HandleFunc("GET /ack/{nonce}", h.advAckLinkPage)
	m.HandleFunc("POST /ack/{nonce}", h.advAckLinkPost)
}

// advisoryTemplates parses the pages that show the figure-7 sheet with its
// partial, and the print page on its own, without the site's navigation.
// The templates are part of the binary: a failure is a build defect.
func (h *Handler) advisoryTemplates() {
	with := func(root string, files ...string) *pageTemplate {
		paths := make([]string, len(files))
		for i, f := range files {
			paths[i] = "templates/" + f
		}
		t, err := template.New(root).Funcs(funcs).ParseFS(templateFS, paths...)
		if err != nil {
			panic(fmt.Sprintf("advisory templates: %v", err))
		}
		return &pageTemplate{t: t}
	}
	h.pages["advisory_detail"] = with("layout.html", "layout.html", "advisory_sheet.html", "advisory_detail.html")
	h.pages["advisory_print"] = with("advisory_print.html", "advisory_print.html", "advisory_sheet.html")
	delete(h.pages, "advisory_sheet") // a partial, not a page
}

// advSubPage dispatches GET /advisories/{id}/{page}.
func (h *Handler) advSubPage(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("page") {
	case "delivery":
		h.advDelivery(w, r)
	case "print":
		h.advPrint(w, r)
	case "stix":
		h.advSTIX(w, r) // advisory_export.go
	default:
		h.notFound(w, r)
	}
}

// advAction dispatches POST /advisories/{id}/{action}.
func (h *Handler) advAction(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("action") {
	case "ack":
		h.advAck(w, r)
	case "feedback":
		h.advFeedback(w, r)
	case "forward":
		h.advForward(w, r)
	case "inquiries":
		h.advAsk(w, r)
	case "follow-up":
		h.advFollowUp(w, r)
	default:
		h.notFound(w, r)
	}
}

func advViewer(pr *account.Principal) policy.Viewer {
	return policy.ViewerOf(pr.Person, pr.Organisation)
}

// advPathID reads a positive numeric path value; anything else is simply
// not found.
func advPathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// advDrafter reports whether the person drafts advisories: NISC's analysts.
// The service enforces the same; the pages only avoid offering forms that
// would be refused.
func advDrafter(pr *account.Principal) bool {
	return pr.Organisation.Has(kyoyu.KindNISC) && pr.Person.Role == kyoyu.RoleNISCAnalyst
}

// advOpen reads the advisory of the path as the person may see it; on
// failure it has answered (404 for anything not visible, exactly like a
// missing id).
func (h *Handler) advOpen(w http.ResponseWriter, r *http.Request) (*kyoyu.Advisory, bool) {
	id, ok := advPathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return nil, false
	}
	a, err := h.advisories.Open(r.Context(), principal(r), ClientIP(r), id)
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	return a, true
}

// advOpenDraft reports whether the sheet the issuer reads is its draft
// (an advisory never published yet); a follow-up being written is found
// with advFollowUpDraft and read on its own page.
func (h *Handler) advOpenDraft(ctx context.Context, pr *account.Principal, a *kyoyu.Advisory) (bool, error) {
	return a.IssuerOrgID == pr.Organisation.ID && a.Status == "draft", nil
}

// advFollowUpDraft is the issuer's open follow-up draft of a published advisory, or 0.
func (h *Handler) advFollowUpDraft(ctx context.Context, pr *account.Principal, a *kyoyu.Advisory) (int64, error) {
	if a.IssuerOrgID != pr.Organisation.ID || a.Status != "published" {
		return 0, nil
	}
	return h.db.OpenAdvisoryDraftID(ctx, a.ID, pr.Organisation.ID)
}

// advProblem translates a problem code the advisory service names for a
// field (kyoyu.Error.Fields).
func advProblem(lang, code string) string { return T(lang, "advisories.problem."+code) }

// advSprintf formats a translated pattern such as "第%d報".
func advSprintf(lang, key string, args ...any) string { return fmt.Sprintf(T(lang, key), args...) }

// advOrgNames looks organisations up once per page, in the page's language.
type advOrgNames struct {
	h     *Handler
	ctx   context.Context
	lang  string
	names map[int64]string
}

func (h *Handler) advOrgNames(ctx context.Context, lang string) *advOrgNames {
	return &advOrgNames{h: h, ctx: ctx, lang: lang, names: map[int64]string{}}
}

func (o *advOrgNames) name(id int64) string {
	if id == 0 {
		return ""
	}
	if n, ok := o.names[id]; ok {
		return n
	}
	n := fmt.Sprintf("#%d", id)
	if org, err := o.h.db.Organisation(o.ctx, id); err == nil {
		n = org.Name(o.lang)
	}
	o.names[id] = n
	return n
}
