package report

import "kyoyu"

// Suggestion says whether the impact figures given on the form reach a
// service's maintenance level (table 2 of the handbook). It is advice: the
// reporter decides and ticks ⑥ themselves.
type Suggestion struct {
	Service kyoyu.Service `json:"service"`
	// Breached is nil when the figures the level needs are not given.
	Breached *bool `json:"breached"`
}

// SuggestServiceLevel compares the form's impact with each service of the
// sector. Sectors without figures count any outage as a deviation.
func SuggestServiceLevel(sector kyoyu.Sector, f kyoyu.ReportForm) []Suggestion {
	var out []Suggestion
	for _, sv := range sector.Services {
		out = append(out, Suggestion{Service: sv, Breached: breached(sv.Threshold, f)})
	}
	return out
}

func breached(th map[string]any, f kyoyu.ReportForm) *bool {
	at := func(key string) (int, bool) {
		v, ok := th[key].(float64)
		return int(v), ok
	}
	yes, no := true, false
	verdict := func(b bool) *bool {
		if b {
			return &yes
		}
		return &no
	}
	need := func(n *int) (int, bool) {
		if n == nil {
			return 0, false
		}
		return *n, true
	}
	if any, _ := th["any_outage"].(bool); any {
		switch {
		case f.SystemStatus == "stopped" || f.SystemStatus == "partial":
			return verdict(true)
		case f.Impact.DurationMinutes != nil:
			return verdict(*f.Impact.DurationMinutes > 0)
		}
		return nil
	}
	result := true
	checked := false
	for _, c := range []struct {
		key   string
		given *int
	}{{"users", f.Impact.UsersAffected}, {"kw", f.Impact.KWLost}, {"households", f.Impact.HouseholdsCut}, {"minutes", f.Impact.DurationMinutes}} {
		limit, ok := at(c.key)
		if !ok {
			continue
		}
		v, given := need(c.given)
		if !given {
			return nil
		}
		checked = true
		result = result && v >= limit
	}
	if !checked {
		return nil
	}
	return verdict(result)
}
