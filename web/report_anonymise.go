package web

import (
	"regexp"
	"sort"
	"strings"

	"kyoyu"
	"kyoyu/report"
)

// rfAnonPanel is what a CEPTOAR secretariat reviews before sending a report
// on: every finding, and each affected text with the findings marked.
// Findings of the operator's own identifiers block sending.
type rfAnonPanel struct {
	Findings []rfFinding
	Previews []rfPreview
	Blocking int // how many findings block sending
}

type rfFinding struct {
	report.Finding
	FieldLabel string // a locale key
}

// rfPreview is one field's text cut into plain and marked parts, so the
// template escapes the text and only <mark> is markup.
type rfPreview struct {
	ID    string // the field name, usable as an element id
	Field string
	Label string // a locale key
	Parts []rfMarkPart
}

type rfMarkPart struct {
	Text   string
	Mark   bool
	Source bool
}

// rfFieldText is the text of a free-text field as report.Findings names it.
func rfFieldText(f kyoyu.ReportForm, field string) string {
	switch field {
	case "reporter.organisation":
		return f.Reporter.Organisation
	case "reporter.department":
		return f.Reporter.Department
	case "reporter.name":
		return f.Reporter.Name
	case "reporter.phone":
		return f.Reporter.Phone
	case "reporter.fax":
		return f.Reporter.Fax
	case "reporter.email":
		return f.Reporter.Email
	case "operator_name":
		return f.OperatorName
	case "tlp_note":
		return f.TLPNote
	case "affected_system":
		return f.AffectedSystem
	case "description":
		return f.Description
	case "supplementary":
		return f.Supplementary
	case "press_title":
		return f.PressTitle
	case "other_bodies_notified":
		return f.OtherBodiesNotified
	case "lessons":
		return f.Lessons
	case "timeline":
		var rows []string
		for _, r := range f.Timeline {
			rows = append(rows, strings.TrimSpace(r.At+" "+r.Event))
		}
		return strings.Join(rows, "\n")
	}
	return ""
}

// rfAnonymisation builds the panel for a form and the operator's identifiers.
func rfAnonymisation(f kyoyu.ReportForm, ids report.Identifiers) *rfAnonPanel {
	p := &rfAnonPanel{}
	findings := report.Findings(f, ids)
	byField := map[string][]report.Finding{}
	var order []string
	for _, fd := range findings {
		p.Findings = append(p.Findings, rfFinding{Finding: fd, FieldLabel: rfFieldLabel(fd.Field)})
		if fd.Source {
			p.Blocking++
		}
		if byField[fd.Field] == nil {
			order = append(order, fd.Field)
		}
		byField[fd.Field] = append(byField[fd.Field], fd)
	}
	for _, field := range order {
		p.Previews = append(p.Previews, rfPreview{ID: strings.ReplaceAll(field, ".", "-"), Field: field, Label: rfFieldLabel(field), Parts: rfMarkText(rfFieldText(f, field), byField[field])})
	}
	return p
}

type rfSpan struct {
	start, end int
	source     bool
}

// rfMarkText cuts text at every (case-insensitive) occurrence of the
// findings; overlapping spans merge, and a span is "source" if any part is.
func rfMarkText(text string, fds []report.Finding) []rfMarkPart {
	var spans []rfSpan
	for _, fd := range fds {
		if fd.Text == "" {
			continue
		}
		re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(fd.Text))
		for _, m := range re.FindAllStringIndex(text, -1) {
			spans = append(spans, rfSpan{m[0], m[1], fd.Source})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var merged []rfSpan
	for _, s := range spans {
		if n := len(merged); n > 0 && s.start <= merged[n-1].end {
			merged[n-1].end = max(merged[n-1].end, s.end)
			merged[n-1].source = merged[n-1].source || s.source
			continue
		}
		merged = append(merged, s)
	}
	var parts []rfMarkPart
	at := 0
	for _, s := range merged {
		if s.start > at {
			parts = append(parts, rfMarkPart{Text: text[at:s.start]})
		}
		parts = append(parts, rfMarkPart{Text: text[s.start:s.end], Mark: true, Source: s.source})
		at = s.end
	}
	if at < len(text) {
		parts = append(parts, rfMarkPart{Text: text[at:]})
	}
	return parts
}

// rfFieldLabel is the locale key of a field's label on the form.
func rfFieldLabel(field string) string { return "report_form.f." + field }
