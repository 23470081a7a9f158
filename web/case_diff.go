package web

import (
	"net/http"
	"strconv"
	"strings"

	"kyoyu"
	"kyoyu/report"
)

// caseDiffLine is one line of a text field's line-by-line comparison.
type caseDiffLine struct {
	Op   string // same, del, add
	Text string
}

// caseDiffRow is one field that differs between the two versions.
type caseDiffRow struct {
	Field string // a locale key
	Old   string
	New   string
	Lines []caseDiffLine // for long texts: the lines, kept, removed and added
}

type caseDiffView struct {
	Page
	H        caseHeader
	From, To caseVersionRow
	Rows     []caseDiffRow
}

func (v *caseDiffView) ReportN(n int) string { return caseSprintf(v.Lang, "cases.report_n", n) }

// caseDiff compares two versions of a case field by field. Both must be
// versions of this case the viewer may see; otherwise the page is not
// found, whichever of the two is hidden.
func (h *Handler) caseDiff(w http.ResponseWriter, r *http.Request) {
	id, ok := casePathID(r, "id")
	from, err1 := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
	to, err2 := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
	if !ok || err1 != nil || err2 != nil {
		h.notFound(w, r)
		return
	}
	ctx := r.Context()
	c, vers, err := h.loadCase(r, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var a, b *kyoyu.ReportVersion
	for _, ver := range vers {
		if ver.ID == from {
			a = ver
		}
		if ver.ID == to {
			b = ver
		}
	}
	if a == nil || b == nil {
		h.notFound(w, r)
		return
	}
	v := &caseDiffView{Page: h.page(r, "cases.diff_title")}
	refs, err := h.caseRefs(ctx, v.Lang, b.Form.ClassificationVersion)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	names := h.caseOrgNames(ctx, v.Lang)
	v.H = newCaseHeader(v.Lang, refs, c)
	v.From, v.To = newCaseVersionRow(v.Lang, c, a, names), newCaseVersionRow(v.Lang, c, b, names)
	show := func(field, value string) string { return caseDiffValue(v.Lang, refs, names, field, value) }
	for _, ch := range report.Diff(a.Form, b.Form) {
		row := caseDiffRow{Field: "cases.field." + ch.Field, Old: show(ch.Field, ch.Old), New: show(ch.Field, ch.New)}
		if caseLongText(row.Old) || caseLongText(row.New) {
			row.Lines = caseLineDiff(caseSplitLines(row.Old), caseSplitLines(row.New))
		}
		v.Rows = append(v.Rows, row)
	}
	h.render(w, r, http.StatusOK, "case_diff", v)
}

// caseDiffValue shows a field's value as the form does: names for codes.
func caseDiffValue(lang string, refs *caseRefs, names *caseOrgNames, field, value string) string {
	if value == "" {
		return ""
	}
	list := func(f func(string) string) string {
		var out []string
		for _, s := range strings.Split(value, ", ") {
			out = append(out, f(s))
		}
		return caseJoin(lang, out)
	}
	switch field {
	case "tlp", "importance", "event_class", "system_status", "outlook", "press":
		return refs.name(field, value)
	case "causes":
		return list(func(s string) string { return refs.name("cause", s) })
	case "sector":
		return refs.sectorName(value)
	case "concerned_sectors":
		return list(refs.sectorName)
	case "service_level_deviation", "spillover_possible":
		if value == "yes" {
			return T(lang, "cases.yes")
		}
		return T(lang, "cases.no")
	case "recipients", "excluded":
		return list(func(s string) string {
			id, _ := strconv.ParseInt(s, 10, 64)
			return names.name(id)
		})
	}
	return value
}

// caseLongText is a value worth comparing line by line.
func caseLongText(s string) bool { return strings.Contains(s, "\n") || len([]rune(s)) > 60 }

// caseSplitLines cuts a text into lines, and Japanese prose, which seldom
// breaks lines, after each sentence (。), so a changed sentence shows alone.
func caseSplitLines(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, line := range strings.Split(s, "\n") {
		for line != "" {
			i := strings.Index(line, "。")
			if i < 0 || i+len("。") == len(line) {
				out = append(out, line)
				break
			}
			out = append(out, line[:i+len("。")])
			line = line[i+len("。"):]
		}
	}
	return out
}

// caseMaxDiffCells bounds the work of a line comparison; beyond it the texts
// are shown whole, old and new.
const caseMaxDiffCells = 1 << 18

// caseLineDiff is the longest-common-subsequence comparison of two lists of
// lines, in order: kept lines once, removed before added.
func caseLineDiff(a, b []string) []caseDiffLine {
	if len(a)*len(b) > caseMaxDiffCells {
		return nil
	}
	// l[i][j] is the length of the common subsequence of a[i:] and b[j:].
	l := make([][]int, len(a)+1)
	for i := range l {
		l[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var out []caseDiffLine
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			out = append(out, caseDiffLine{"same", a[i]})
			i, j = i+1, j+1
		case l[i+1][j] >= l[i][j+1]:
			out = append(out, caseDiffLine{"del", a[i]})
			i++
		default:
			out = append(out, caseDiffLine{"add", b[j]})
			j++
		}
	}
	for ; i < len(a); i++ {
		out = append(out, caseDiffLine{"del", a[i]})
	}
	for ; j < len(b); j++ {
		out = append(out, caseDiffLine{"add", b[j]})
	}
	return out
}
