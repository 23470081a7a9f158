package web

import (
	"fmt"
	"slices"
	"strings"

	"kyoyu"
)

// caseChoice is one box of the form: ticked or not.
type caseChoice struct {
	Code    string
	Label   string
	Note    string // the small print under the label (TLP ranges, event examples)
	Checked bool
}

// Box is the box as the paper form draws it.
func (c caseChoice) Box() string {
	if c.Checked {
		return "☑"
	}
	return "☐"
}

// caseGroupRow is a row of a grouped table (① events, ② causes): the group
// cell spans Span rows and is drawn on the first of them only.
type caseGroupRow struct {
	caseChoice
	Group     string
	GroupNote bool // the group carries note ※3
	Span      int
}

// caseFact is a labelled value outside the paper form's boxes.
type caseFact struct {
	Label string // a locale key
	Value string
}

// caseFormView is a version of a report laid out as figure 4 of the
// handbook (情報連絡様式), read-only, for the case pages and the print page.
type caseFormView struct {
	lang           string
	CaseNumber     string
	ReportNumber   int
	Draft          bool
	Direction      string // a locale key
	Importance     []caseChoice
	ReportedAt     string
	Reporter       kyoyu.Contact
	TLP            []caseChoice
	TLPNote        string
	Events         []caseGroupRow
	Causes         []caseGroupRow
	Attachments    []caseChoice // 別紙有無
	Sector         string
	Operator       string
	DiscoveredAt   string
	OccurredAt     string
	AffectedSystem string
	Description    string
	SystemStatus   []caseChoice
	Deviation      []caseChoice
	Spillover      []caseChoice
	Impact         []caseFact
	Timeline       []kyoyu.TimelineRow
	Supplementary  string
	Press          []caseChoice
	PressAt        string
	PressTitle     string
	OtherBodies    string
	Outlook        []caseChoice
	Lessons        string
	Sharing        []caseFact
}

// T translates in the page's language.
func (f *caseFormView) T(key string) string { return T(f.lang, key) }

// ReportNumberText is "（第N報*）".
func (f *caseFormView) ReportNumberText() string {
	return fmt.Sprintf(f.T("cases.form.report_number"), f.ReportNumber)
}

// TLPSpan is how many rows the range cell spans: the ranges and 特記事項.
func (f *caseFormView) TLPSpan() int { return len(f.TLP) + 1 }

// choices lists every value of a kind with the chosen ones ticked.
func (r *caseRefs) choices(kind string, chosen ...string) []caseChoice {
	var out []caseChoice
	for _, c := range r.kinds[kind] {
		out = append(out, caseChoice{Code: c.Code, Label: r.formLabel(kind, c.Code), Checked: slices.Contains(chosen, c.Code)})
	}
	return out
}

func (f *caseFormView) yesNo(b *bool) []caseChoice {
	return []caseChoice{
		{Code: "yes", Label: f.T("cases.yes"), Checked: b != nil && *b},
		{Code: "no", Label: f.T("cases.no"), Checked: b != nil && !*b},
	}
}

// caseSpans sets the group cells of consecutive rows of the same group.
func caseSpans(rows []caseGroupRow) []caseGroupRow {
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].Group == rows[i].Group {
			j++
		}
		rows[i].Span = j - i
		i = j
	}
	return rows
}

// direction is the form's "(from → to)" line for the stage that wrote it.
func caseDirection(c *kyoyu.Case, v *kyoyu.ReportVersion) string {
	switch v.Stage {
	case kyoyu.StageOperator:
		if c.Route == kyoyu.RouteCEPTOAR {
			return "cases.form.direction.operator_ceptoar"
		}
		return "cases.form.direction.operator_ministry"
	case kyoyu.StageSecretariat:
		return "cases.form.direction.ceptoar"
	}
	return "cases.form.direction.ministry"
}

// newCaseFormView lays out one version (which the viewer may see: the caller
// read it through the store) with its number of attachments as the paper form.
func newCaseFormView(lang string, refs *caseRefs, names *caseOrgNames, c *kyoyu.Case, v *kyoyu.ReportVersion, attachments int) *caseFormView {
	f := v.Form
	fv := &caseFormView{lang: lang, CaseNumber: c.CaseNumber, ReportNumber: v.ReportNumber, Draft: v.Status == kyoyu.VersionDraft,
		Direction: caseDirection(c, v), ReportedAt: caseFormTime(lang, f.ReportedAt), Reporter: f.Reporter, TLPNote: f.TLPNote,
		Sector: refs.sectorName(f.Sector), Operator: f.OperatorName,
		DiscoveredAt: caseFormTime(lang, f.DiscoveredAt), OccurredAt: caseFormTime(lang, f.OccurredAt),
		AffectedSystem: f.AffectedSystem, Description: f.Description, Timeline: f.Timeline,
		Supplementary: f.Supplementary, PressAt: caseFormTime(lang, f.PressAt), PressTitle: f.PressTitle,
		OtherBodies: f.OtherBodiesNotified, Lessons: f.Lessons}
	has := attachments > 0
	fv.Attachments = fv.yesNo(&has)
	fv.Importance = refs.choices("importance", f.Importance)
	for _, c := range refs.kinds["tlp"] {
		ch := caseChoice{Code: c.Code, Label: refs.formLabel("tlp", c.Code), Checked: f.TLP == c.Code}
		if lang == "en" {
			ch.Note = T(lang, "cases.tlp_meaning."+c.Code)
		} else if s, _ := c.Data["report_form_note_ja"].(string); s != "" {
			ch.Note = "（" + s + "）"
		}
		fv.TLP = append(fv.TLP, ch)
	}
	for _, c := range refs.kinds["event_class"] {
		note := refs.data("event_class", c.Code, "example")
		if short := refs.data("event_class", c.Code, "short"); short != "" {
			note = short + "　" + note
		}
		_, grouped := c.Data["group_note_ja"]
		fv.Events = append(fv.Events, caseGroupRow{
			caseChoice: caseChoice{Code: c.Code, Label: refs.name("event_class", c.Code), Note: note, Checked: f.EventClass == c.Code},
			Group:      refs.data("event_class", c.Code, "group"), GroupNote: grouped})
	}
	fv.Events = caseSpans(fv.Events)
	for _, c := range refs.kinds["cause"] {
		fv.Causes = append(fv.Causes, caseGroupRow{
			caseChoice: caseChoice{Code: c.Code, Label: refs.formLabel("cause", c.Code), Checked: slices.Contains(f.Causes, c.Code)},
			Group:      refs.name("cause_group", c.Group)})
	}
	fv.Causes = caseSpans(fv.Causes)
	fv.SystemStatus = refs.choices("system_status", f.SystemStatus)
	fv.Deviation = fv.yesNo(f.ServiceLevelDeviation)
	fv.Spillover = fv.yesNo(f.SpilloverPossible)
	for _, n := range []struct {
		key string
		v   *int
	}{{"users_affected", f.Impact.UsersAffected}, {"duration_minutes", f.Impact.DurationMinutes},
		{"kw_lost", f.Impact.KWLost}, {"households_cut", f.Impact.HouseholdsCut}} {
		if n.v != nil {
			fv.Impact = append(fv.Impact, caseFact{Label: "cases.field.impact." + n.key, Value: fmt.Sprint(*n.v)})
		}
	}
	fv.Press = refs.choices("press", f.Press)
	fv.Outlook = refs.choices("outlook", f.Outlook)
	var sectors []string
	for _, s := range f.ConcernedSectors {
		sectors = append(sectors, refs.sectorName(s))
	}
	if len(sectors) > 0 {
		fv.Sharing = append(fv.Sharing, caseFact{Label: "cases.field.concerned_sectors", Value: caseJoin(lang, sectors)})
	}
	for _, l := range []struct {
		key string
		ids []int64
	}{{"recipients", f.Recipients}, {"excluded", f.Excluded}} {
		var ns []string
		for _, id := range l.ids {
			ns = append(ns, names.name(id))
		}
		if len(ns) > 0 {
			fv.Sharing = append(fv.Sharing, caseFact{Label: "cases.field." + l.key, Value: caseJoin(lang, ns)})
		}
	}
	return fv
}

// caseJoin joins names as each language lists them.
func caseJoin(lang string, items []string) string {
	sep := "、"
	if lang == "en" {
		sep = ", "
	}
	return strings.Join(items, sep)
}
