package report

import (
	"fmt"
	"strings"
	"time"

	"kyoyu"
)

// Change is one field that differs between two versions.
type Change struct {
	Field string `json:"field"` // a form field name, e.g. description, timeline
	Old   string `json:"old"`
	New   string `json:"new"`
}

// Diff lists the fields that differ between two versions of a report, in
// form order.
func Diff(a, b kyoyu.ReportForm) []Change {
	fa, fb := flatten(a), flatten(b)
	var out []Change
	for i, f := range fa {
		if f.value != fb[i].value {
			out = append(out, Change{Field: f.name, Old: f.value, New: fb[i].value})
		}
	}
	return out
}

type field struct{ name, value string }

func ts(t *time.Time) string {
	if t == nil {
		return ""
	}
	return kyoyu.FormatJST(*t)
}

func yn(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "yes"
	}
	return "no"
}

func num(n *int) string {
	if n == nil {
		return ""
	}
	return fmt.Sprint(*n)
}

func ids(list []int64) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}

// flatten lists a form's fields in form order as text.
func flatten(f kyoyu.ReportForm) []field {
	var tl []string
	for _, r := range f.Timeline {
		tl = append(tl, r.At+"　"+r.Event)
	}
	return []field{
		{"reported_at", ts(f.ReportedAt)},
		{"reporter.organisation", f.Reporter.Organisation}, {"reporter.department", f.Reporter.Department},
		{"reporter.name", f.Reporter.Name}, {"reporter.phone", f.Reporter.Phone}, {"reporter.fax", f.Reporter.Fax},
		{"reporter.email", f.Reporter.Email},
		{"tlp", f.TLP}, {"tlp_note", f.TLPNote}, {"importance", f.Importance},
		{"event_class", f.EventClass}, {"causes", strings.Join(f.Causes, ", ")},
		{"sector", f.Sector}, {"operator_name", f.OperatorName},
		{"discovered_at", ts(f.DiscoveredAt)}, {"occurred_at", ts(f.OccurredAt)},
		{"affected_system", f.AffectedSystem}, {"description", f.Description}, {"system_status", f.SystemStatus},
		{"service_level_deviation", yn(f.ServiceLevelDeviation)}, {"spillover_possible", yn(f.SpilloverPossible)},
		{"impact.users_affected", num(f.Impact.UsersAffected)}, {"impact.duration_minutes", num(f.Impact.DurationMinutes)},
		{"impact.kw_lost", num(f.Impact.KWLost)}, {"impact.households_cut", num(f.Impact.HouseholdsCut)},
		{"timeline", strings.Join(tl, "\n")}, {"supplementary", f.Supplementary},
		{"press", f.Press}, {"press_at", ts(f.PressAt)}, {"press_title", f.PressTitle},
		{"other_bodies_notified", f.OtherBodiesNotified}, {"outlook", f.Outlook}, {"lessons", f.Lessons},
		{"concerned_sectors", strings.Join(f.ConcernedSectors, ", ")},
		{"recipients", ids(f.Recipients)}, {"excluded", ids(f.Excluded)},
	}
}
