package web

import (
	"context"
	"slices"

	"kyoyu"
	"kyoyu/report"
)

// rfChoice is one value of a classification as the form shows it.
type rfChoice struct {
	Code, Label, Help string
}

// rfChoiceGroup is a heading of the form with its values (① event groups,
// ② cause groups).
type rfChoiceGroup struct {
	Code, Label, Note string
	Choices           []rfChoice
}

// rfChoices are the values the figure-4 form offers, in its order and
// with its wording.
type rfChoices struct {
	TLP, Importance, SystemStatus, Outlook, Press []rfChoice
	Events, Causes                                []rfChoiceGroup
	Sectors                                       []rfChoice
	sectors                                       []kyoyu.Sector
}

// rfLabel finds a value's label, or shows the code as stored (a value no
// longer offered must still be visible, not silently dropped).
func rfLabel(cs []rfChoice, code string) string {
	for _, c := range cs {
		if c.Code == code {
			return c.Label
		}
	}
	return code
}

func rfData(c kyoyu.Classification, key string) string {
	s, _ := c.Data[key].(string)
	return s
}

// rfClassLabel is the form's own wording in Japanese (form_label_ja where
// it differs from the handbook's table), the English name otherwise.
func rfClassLabel(c kyoyu.Classification, lang string) string {
	if lang == "en" && c.NameEN != "" {
		return c.NameEN
	}
	if l := rfData(c, "form_label_ja"); l != "" && lang != "en" {
		return l
	}
	return c.NameJA
}

func rfClassHelp(c kyoyu.Classification, lang string) string {
	if lang == "en" {
		return rfData(c, "description_en")
	}
	if d := rfData(c, "description_ja"); d != "" {
		return d
	}
	return rfData(c, "example_ja")
}

// rfLoadChoices reads a classification version and the sectors.
func (h *Handler) rfLoadChoices(ctx context.Context, lang, version string) (*rfChoices, error) {
	if version == "" {
		version = report.ClassificationVersion
	}
	cs, err := h.db.Classifications(ctx, version)
	if err != nil {
		return nil, err
	}
	out := &rfChoices{}
	events := map[string]*rfChoiceGroup{}
	var eventOrder []string
	causes := map[string]*rfChoiceGroup{}
	for _, c := range cs {
		ch := rfChoice{Code: c.Code, Label: rfClassLabel(c, lang), Help: rfClassHelp(c, lang)}
		switch c.Kind {
		case "tlp":
			ch.Help = rfData(c, "report_form_note_ja")
			if ch.Help == "" {
				ch.Help = rfData(c, "report_rule_ja")
			}
			if lang == "en" {
				ch.Help = T(lang, "report_form.tlp_help."+c.Code)
			}
			out.TLP = append(out.TLP, ch)
		case "importance":
			out.Importance = append(out.Importance, ch)
		case "system_status":
			out.SystemStatus = append(out.SystemStatus, ch)
		case "outlook":
			out.Outlook = append(out.Outlook, ch)
		case "press":
			out.Press = append(out.Press, ch)
		case "event_class":
			// The form sets その他 apart from the events that occurred.
			key, name := rfData(c, "group_ja"), rfData(c, "group_ja")
			if lang == "en" {
				name = rfData(c, "group_en")
			}
			if c.Code == "other" {
				key, name = "other", T(lang, "report_form.event_group_other")
			}
			g := events[key]
			if g == nil {
				g = &rfChoiceGroup{Code: key, Label: name}
				if lang != "en" {
					g.Note = rfData(c, "group_note_ja")
				}
				events[key] = g
				eventOrder = append(eventOrder, key)
			}
			g.Choices = append(g.Choices, ch)
		case "cause_group":
			g := &rfChoiceGroup{Code: c.Code, Label: rfClassLabel(c, lang)}
			causes[c.Code] = g
		case "cause":
			if g := causes[c.Group]; g != nil {
				g.Choices = append(g.Choices, ch)
			}
		}
	}
	// "other" last, as on the form.
	slices.SortStableFunc(eventOrder, func(a, b string) int {
		return rfBoolInt(a == "other") - rfBoolInt(b == "other")
	})
	for _, k := range eventOrder {
		out.Events = append(out.Events, *events[k])
	}
	for _, c := range cs {
		if c.Kind == "cause_group" {
			out.Causes = append(out.Causes, *causes[c.Code])
		}
	}
	out.sectors, err = h.db.Sectors(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range out.sectors {
		out.Sectors = append(out.Sectors, rfChoice{Code: s.Code, Label: rfSectorName(s, lang)})
	}
	return out, nil
}

func rfBoolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func rfSectorName(s kyoyu.Sector, lang string) string {
	if lang == "en" && s.NameEN != "" {
		return s.NameEN
	}
	return s.NameJA
}

// rfSuggestion is one service of the chosen sector with the verdict on
// its service-maintenance level, as advice beside ⑥.
type rfSuggestion struct {
	Service string
	Level   string
	Verdict string // a locale key
	Breach  bool
}

// rfSuggestions compares the figures typed with the service levels of the
// form's sector (report.SuggestServiceLevel); the reporter still decides.
func (fc *rfChoices) rfSuggestions(f kyoyu.ReportForm, lang string) []rfSuggestion {
	var out []rfSuggestion
	for _, s := range fc.sectors {
		if s.Code != f.Sector {
			continue
		}
		for _, sg := range report.SuggestServiceLevel(s, f) {
			row := rfSuggestion{Service: sg.Service.NameJA, Level: sg.Service.ServiceLevelJA, Verdict: "report_form.sl_unknown"}
			if lang == "en" {
				row.Service, row.Level = rfOrElse(sg.Service.NameEN, row.Service), rfOrElse(sg.Service.ServiceLevelEN, row.Level)
			}
			if sg.Breached != nil {
				row.Breach = *sg.Breached
				row.Verdict = map[bool]string{true: "report_form.sl_breached", false: "report_form.sl_kept"}[row.Breach]
			}
			out = append(out, row)
		}
	}
	return out
}

func rfOrElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
