package web

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"kyoyu"
)

// The draft form's field names are the domain's (kyoyu.Error.Fields and
// report problems use the same), so a problem lands next to its field.
// Timeline rows come as parallel lists; their problems are under "timeline".

// rfDatetimeLocal is the value format of <input type="datetime-local">.
const rfDatetimeLocal = "2006-01-02T15:04"

// rfInput is the draft form as typed: the values as the browser sent
// them (or as stored, on first display) and each field's problem as a
// locale key, shown next to the field in the page's language.
type rfInput struct {
	lang     string
	Values   url.Values
	Problems map[string]string
}

// Value is what was typed into a field.
func (in *rfInput) Value(name string) string { return in.Values.Get(name) }

// Has reports whether a checkbox, radio or option with value v is chosen.
func (in *rfInput) Has(name, v string) bool {
	for _, x := range in.Values[name] {
		if x == v {
			return true
		}
	}
	return false
}

// rfFieldError is a problem as a template shows it, with the element id
// the field's aria-describedby points at.
type rfFieldError struct{ ID, Msg string }

// Err is the problem with a field, translated, or an empty Msg.
func (in *rfInput) Err(name string) rfFieldError {
	fe := rfFieldError{ID: rfErrorID(name)}
	if k := in.Problems[name]; k != "" {
		fe.Msg = T(in.lang, "field_error."+k)
	}
	return fe
}

// Invalid reports whether any field has a problem.
func (in *rfInput) Invalid() bool { return len(in.Problems) > 0 }

// rfErrorID is the id of a field's error element: dots are awkward in ids.
func rfErrorID(name string) string { return strings.ReplaceAll(name, ".", "-") + "-error" }

// rfFormValues turns a stored form into the values the page shows.
func rfFormValues(f kyoyu.ReportForm) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	setTime := func(k string, t *time.Time) {
		if t != nil {
			v.Set(k, t.In(kyoyu.JST).Format(rfDatetimeLocal))
		}
	}
	setInt := func(k string, n *int) {
		if n != nil {
			v.Set(k, strconv.Itoa(*n))
		}
	}
	setBool := func(k string, b *bool) {
		if b != nil {
			v.Set(k, map[bool]string{true: "yes", false: "no"}[*b])
		}
	}
	setTime("reported_at", f.ReportedAt)
	set("reporter.organisation", f.Reporter.Organisation)
	set("reporter.department", f.Reporter.Department)
	set("reporter.name", f.Reporter.Name)
	set("reporter.phone", f.Reporter.Phone)
	set("reporter.fax", f.Reporter.Fax)
	set("reporter.email", f.Reporter.Email)
	set("tlp", f.TLP)
	set("tlp_note", f.TLPNote)
	set("importance", f.Importance)
	set("event_class", f.EventClass)
	v["causes"] = append([]string(nil), f.Causes...)
	set("sector", f.Sector)
	set("operator_name", f.OperatorName)
	setTime("discovered_at", f.DiscoveredAt)
	setTime("occurred_at", f.OccurredAt)
	set("affected_system", f.AffectedSystem)
	set("description", f.Description)
	set("system_status", f.SystemStatus)
	setBool("service_level_deviation", f.ServiceLevelDeviation)
	setBool("spillover_possible", f.SpilloverPossible)
	setInt("impact.users_affected", f.Impact.UsersAffected)
	setInt("impact.duration_minutes", f.Impact.DurationMinutes)
	setInt("impact.kw_lost", f.Impact.KWLost)
	setInt("impact.households_cut", f.Impact.HouseholdsCut)
	for _, r := range f.Timeline {
		v.Add("timeline_at", r.At)
		v.Add("timeline_event", r.Event)
	}
	set("supplementary", f.Supplementary)
	set("press", f.Press)
	setTime("press_at", f.PressAt)
	set("press_title", f.PressTitle)
	set("other_bodies_notified", f.OtherBodiesNotified)
	set("outlook", f.Outlook)
	set("lessons", f.Lessons)
	v["concerned_sectors"] = append([]string(nil), f.ConcernedSectors...)
	for _, id := range f.Recipients {
		v.Add("recipients", strconv.FormatInt(id, 10))
	}
	for _, id := range f.Excluded {
		v.Add("excluded", strconv.FormatInt(id, 10))
	}
	return v
}

// rfParseForm reads the posted form. Text is kept as typed (line ends
// normalised); what cannot be read (a malformed date or number) is left
// empty in the result and named in the problems, while the page shows the
// typed text again so nothing is lost.
func rfParseForm(v url.Values) (kyoyu.ReportForm, map[string]string) {
	problems := map[string]string{}
	line := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	text := func(k string) string { return strings.ReplaceAll(v.Get(k), "\r\n", "\n") }
	when := func(k string) *time.Time {
		s := line(k)
		if s == "" {
			return nil
		}
		for _, layout := range []string{rfDatetimeLocal, "2006-01-02T15:04:05"} {
			if t, err := time.ParseInLocation(layout, s, kyoyu.JST); err == nil {
				t = t.UTC()
				return &t
			}
		}
		problems[k] = "invalid_datetime"
		return nil
	}
	number := func(k string) *int {
		s := line(k)
		if s == "" {
			return nil
		}
		n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
		if err != nil {
			problems[k] = "invalid_number"
			return nil
		}
		return &n
	}
	yesNo := func(k string) *bool {
		switch line(k) {
		case "yes":
			b := true
			return &b
		case "no":
			b := false
			return &b
		case "":
			return nil
		}
		problems[k] = "invalid_choice"
		return nil
	}
	ids := func(k string) []int64 {
		var out []int64
		for _, s := range v[k] {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil || id <= 0 {
				problems[k] = "invalid_choice"
				continue
			}
			out = append(out, id)
		}
		return out
	}
	list := func(k string) []string {
		out := []string{}
		for _, s := range v[k] {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	f := kyoyu.ReportForm{
		ReportedAt: when("reported_at"),
		Reporter: kyoyu.Contact{Organisation: line("reporter.organisation"), Department: line("reporter.department"),
			Name: line("reporter.name"), Phone: line("reporter.phone"), Fax: line("reporter.fax"), Email: line("reporter.email")},
		TLP: line("tlp"), TLPNote: text("tlp_note"), Importance: line("importance"), EventClass: line("event_class"),
		Causes: list("causes"), Sector: line("sector"), OperatorName: line("operator_name"),
		DiscoveredAt: when("discovered_at"), OccurredAt: when("occurred_at"),
		AffectedSystem: text("affected_system"), Description: text("description"), SystemStatus: line("system_status"),
		ServiceLevelDeviation: yesNo("service_level_deviation"), SpilloverPossible: yesNo("spillover_possible"),
		Impact: kyoyu.Impact{UsersAffected: number("impact.users_affected"), DurationMinutes: number("impact.duration_minutes"),
			KWLost: number("impact.kw_lost"), HouseholdsCut: number("impact.households_cut")},
		Timeline:      rfTimelineRows(v),
		Supplementary: text("supplementary"), Press: line("press"), PressAt: when("press_at"), PressTitle: line("press_title"),
		OtherBodiesNotified: text("other_bodies_notified"), Outlook: line("outlook"), Lessons: text("lessons"),
		ConcernedSectors: list("concerned_sectors"), Recipients: ids("recipients"), Excluded: ids("excluded"),
	}
	return f, problems
}

// rfTimelineRows pairs the posted row lists, dropping rows left empty (the
// page always offers spare ones).
func rfTimelineRows(v url.Values) []kyoyu.TimelineRow {
	at, ev := v["timeline_at"], v["timeline_event"]
	rows := []kyoyu.TimelineRow{}
	for i := 0; i < max(len(at), len(ev)); i++ {
		var r kyoyu.TimelineRow
		if i < len(at) {
			r.At = strings.TrimSpace(at[i])
		}
		if i < len(ev) {
			r.Event = strings.TrimSpace(strings.ReplaceAll(ev[i], "\r\n", "\n"))
		}
		if r.At != "" || r.Event != "" {
			rows = append(rows, r)
		}
	}
	return rows
}

// rfSpareRows is how many empty rows the page adds, so that without
// scripts there is always room to write more.
const rfSpareRows = 3

// rfTimelineView is the rows the page shows: those typed, then spare ones.
func rfTimelineView(v url.Values) []kyoyu.TimelineRow {
	rows := rfTimelineRows(v)
	for range rfSpareRows {
		rows = append(rows, kyoyu.TimelineRow{})
	}
	return rows
}

// rfMerge adds the problems of b to a copy of a; b wins, being the
// more specific (a field that could not be read).
func rfMerge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
