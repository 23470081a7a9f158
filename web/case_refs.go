package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/report"
)

// caseTemplates re-parses the case pages that show a report form with the
// shared form partial (case_form.html), and the print page on its own,
// without the site's navigation. The generic loader parses each page with
// the layout only; these pages need one more file. The templates are part
// of the binary, so a failure here is a build defect and stops start-up.
func (h *Handler) caseTemplates() {
	with := func(root string, files ...string) *pageTemplate {
		paths := make([]string, len(files))
		for i, f := range files {
			paths[i] = "templates/" + f
		}
		t, err := template.New(root).Funcs(funcs).ParseFS(templateFS, paths...)
		if err != nil {
			panic(fmt.Sprintf("case templates: %v", err))
		}
		return &pageTemplate{t: t}
	}
	for _, name := range []string{"case_detail", "case_version"} {
		h.pages[name] = with("layout.html", "layout.html", "case_form.html", name+".html")
	}
	h.pages["case_print"] = with("case_print.html", "case_print.html", "case_form.html")
	delete(h.pages, "case_form") // a partial, not a page
}

// caseViewerOf is the sharing rule's view of the signed-in person. Every read
// below goes through the store with it: handlers never decide visibility.
func caseViewerOf(r *http.Request) policy.Viewer {
	pr := principal(r)
	return policy.ViewerOf(pr.Person, pr.Organisation)
}

// casePathID reads a positive numeric path value; anything else is treated as
// a missing page.
func casePathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// caseRefs gives the names a case page shows for the codes a form holds:
// the classifications of one version of the form, and the sectors, in
// the page's language.
type caseRefs struct {
	lang    string
	kinds   map[string][]kyoyu.Classification
	codes   map[string]kyoyu.Classification // kind + "/" + code
	sectors []kyoyu.Sector
	sector  map[string]kyoyu.Sector
}

func (h *Handler) caseRefs(ctx context.Context, lang, version string) (*caseRefs, error) {
	if version == "" {
		version = report.ClassificationVersion
	}
	cs, err := h.db.Classifications(ctx, version)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 && version != report.ClassificationVersion {
		// An unknown version shows with the current names rather than codes.
		return h.caseRefs(ctx, lang, report.ClassificationVersion)
	}
	ss, err := h.db.Sectors(ctx)
	if err != nil {
		return nil, err
	}
	r := &caseRefs{lang: lang, kinds: map[string][]kyoyu.Classification{}, codes: map[string]kyoyu.Classification{},
		sectors: ss, sector: map[string]kyoyu.Sector{}}
	for _, c := range cs {
		r.kinds[c.Kind] = append(r.kinds[c.Kind], c)
		r.codes[c.Kind+"/"+c.Code] = c
	}
	for _, s := range ss {
		r.sector[s.Code] = s
	}
	return r, nil
}

// valid reports whether code is a value of kind.
func (r *caseRefs) valid(kind, code string) bool {
	_, ok := r.codes[kind+"/"+code]
	return ok
}

// name is a classification's name; an unknown code shows as itself.
func (r *caseRefs) name(kind, code string) string {
	if code == "" {
		return ""
	}
	c, ok := r.codes[kind+"/"+code]
	if !ok {
		return code
	}
	return pick(r.lang, c.NameJA, c.NameEN)
}

// formLabel is the wording the printed form uses, where it differs from
// the classification's name (e.g. 事象継続中（続報あり）).
func (r *caseRefs) formLabel(kind, code string) string {
	c, ok := r.codes[kind+"/"+code]
	if !ok {
		return code
	}
	if s, _ := c.Data["form_label_ja"].(string); s != "" && r.lang != "en" {
		return s
	}
	return pick(r.lang, c.NameJA, c.NameEN)
}

// data is a text attribute of a classification in the page's language
// (key_ja / key_en), Japanese when there is no English.
func (r *caseRefs) data(kind, code, key string) string {
	c := r.codes[kind+"/"+code]
	ja, _ := c.Data[key+"_ja"].(string)
	en, _ := c.Data[key+"_en"].(string)
	return pick(r.lang, ja, en)
}

func (r *caseRefs) sectorName(code string) string {
	if s, ok := r.sector[code]; ok {
		return pick(r.lang, s.NameJA, s.NameEN)
	}
	return code
}

// caseOrgNames looks organisations up once per page.
type caseOrgNames struct {
	h     *Handler
	ctx   context.Context
	lang  string
	names map[int64]string
}

func (h *Handler) caseOrgNames(ctx context.Context, lang string) *caseOrgNames {
	return &caseOrgNames{h: h, ctx: ctx, lang: lang, names: map[int64]string{}}
}

func (o *caseOrgNames) name(id int64) string {
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

// caseVersionOrg is who wrote a version as the viewer may know it: an
// operator's version of an anonymised case shows the label, unless the
// case (read through the sharing rule) gave the viewer the operator itself.
func caseVersionOrg(c *kyoyu.Case, v *kyoyu.ReportVersion, names *caseOrgNames) string {
	if v.Stage == kyoyu.StageOperator && c.Anonymised && c.OperatorOrgID == 0 {
		return c.Operator
	}
	return names.name(v.OrgID)
}

// caseFormTime is a form's date and time: in the Japanese era on Japanese
// pages, as official forms write it, and plain JST on English ones.
func caseFormTime(lang string, t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	if lang == "en" {
		return kyoyu.FormatJST(*t)
	}
	j := t.In(kyoyu.JST)
	return fmt.Sprintf("%s %d時%02d分", kyoyu.Wareki(j), j.Hour(), j.Minute())
}

// caseSprintf formats a translated pattern such as "全 %d 件".
func caseSprintf(lang, key string, args ...any) string {
	return fmt.Sprintf(T(lang, key), args...)
}

// caseAttachments counts the attachments (別紙) of a version the viewer
// may see. Only the count is shown on the form: names are the attachment
// pages' business, which read them under the same rule.
func (h *Handler) caseAttachments(ctx context.Context, v policy.Viewer, versionID int64) (int, error) {
	as, err := h.db.Attachments(ctx, v, versionID)
	return len(as), err
}
