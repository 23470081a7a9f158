package report

import (
	"context"
	"slices"
	"time"
	"unicode/utf8"

	"kyoyu"
	"kyoyu/policy"
)

// Size limits. A draft over them is refused field by field; the writer's
// text stays in the browser and the last good save on the server.
const (
	shortText  = 200
	mediumText = 2000
	longText   = 20000
	maxRows    = 200
	maxListLen = 100
)

// checkDraft refuses only what no draft may hold: oversized text.
func (s *Service) checkDraft(f kyoyu.ReportForm) error {
	p := map[string]string{}
	limit := func(field, v string, n int) {
		if utf8.RuneCountInString(v) > n {
			p[field] = "too_long"
		}
	}
	for field, v := range map[string]string{
		"reporter.organisation": f.Reporter.Organisation, "reporter.department": f.Reporter.Department,
		"reporter.name": f.Reporter.Name, "reporter.phone": f.Reporter.Phone, "reporter.fax": f.Reporter.Fax,
		"reporter.email": f.Reporter.Email, "operator_name": f.OperatorName, "press_title": f.PressTitle,
		"tlp": f.TLP, "importance": f.Importance, "event_class": f.EventClass, "sector": f.Sector,
		"system_status": f.SystemStatus, "press": f.Press, "outlook": f.Outlook,
	} {
		limit(field, v, shortText)
	}
	for field, v := range map[string]string{"tlp_note": f.TLPNote, "affected_system": f.AffectedSystem, "other_bodies_notified": f.OtherBodiesNotified} {
		limit(field, v, mediumText)
	}
	for field, v := range map[string]string{"description": f.Description, "supplementary": f.Supplementary, "lessons": f.Lessons} {
		limit(field, v, longText)
	}
	if len(f.Timeline) > maxRows {
		p["timeline"] = "too_many"
	}
	for _, r := range f.Timeline {
		if utf8.RuneCountInString(r.At) > shortText || utf8.RuneCountInString(r.Event) > mediumText {
			p["timeline"] = "too_long"
		}
	}
	if len(f.Causes) > maxListLen || len(f.Recipients) > maxListLen || len(f.Excluded) > maxListLen || len(f.ConcernedSectors) > maxListLen {
		p["form"] = "too_many"
	}
	if len(p) > 0 {
		return &kyoyu.Error{Code: kyoyu.EINVALID, Message: "report.too_large", Fields: p}
	}
	return nil
}

// validate returns every problem a submission of f would meet, as field →
// locale key. received is what a forwarder got, which bounds its range.
func (s *Service) validate(ctx context.Context, f kyoyu.ReportForm, received *kyoyu.ReportVersion) map[string]string {
	p := map[string]string{}
	if f.TLP == "" {
		p["tlp"] = "required"
	} else if !policy.TLP(f.TLP).Valid() {
		p["tlp"] = "invalid_choice"
	}
	if f.Reporter.Organisation == "" {
		p["reporter.organisation"] = "required"
	}
	if f.Reporter.Name == "" {
		p["reporter.name"] = "required"
	}
	if f.Reporter.Phone == "" && f.Reporter.Email == "" {
		p["reporter.phone"] = "phone_or_email"
	}
	codes, err := s.codes(ctx, f.ClassificationVersion)
	if err != nil {
		p["form"] = "internal"
		return p
	}
	one := func(field, kind, v string) {
		if v != "" && !codes[kind][v] {
			p[field] = "invalid_choice"
		}
	}
	one("importance", "importance", f.Importance)
	one("event_class", "event_class", f.EventClass)
	one("system_status", "system_status", f.SystemStatus)
	one("outlook", "outlook", f.Outlook)
	one("press", "press", f.Press)
	one("sector", "sector", f.Sector)
	for _, c := range f.Causes {
		one("causes", "cause", c)
	}
	for _, c := range f.ConcernedSectors {
		one("concerned_sectors", "sector", c)
	}
	now := s.DB.Now()
	future := now.Add(time.Hour)
	when := func(field string, t *time.Time) {
		switch {
		case t == nil:
		case t.After(future):
			p[field] = "in_future"
		case t.Year() < 1990:
			p[field] = "too_old"
		}
	}
	when("discovered_at", f.DiscoveredAt)
	when("occurred_at", f.OccurredAt)
	when("reported_at", f.ReportedAt)
	if f.OccurredAt != nil && f.DiscoveredAt != nil && f.OccurredAt.After(*f.DiscoveredAt) {
		p["occurred_at"] = "after_discovered"
	}
	if f.PressAt != nil && f.PressAt.Year() < 1990 {
		p["press_at"] = "too_old"
	}
	if f.Press == "none" && (f.PressAt != nil || f.PressTitle != "") {
		p["press"] = "none_with_details"
	}
	for field, n := range map[string]*int{"impact.users_affected": f.Impact.UsersAffected, "impact.duration_minutes": f.Impact.DurationMinutes,
		"impact.kw_lost": f.Impact.KWLost, "impact.households_cut": f.Impact.HouseholdsCut} {
		if n != nil && *n < 0 {
			p[field] = "negative"
		}
	}
	if received != nil {
		in := received.Form
		// What the item's range already allows is not widening: the range
		// as received, or wider where the originator consented since
		// (consent.go). Without a grant the item is never wider than what
		// was received, since each submission can only narrow it.
		item, err := s.itemOf(ctx, received.CaseID)
		if err != nil {
			p["form"] = "internal"
			return p
		}
		if tlp := policy.TLP(f.TLP); tlp.Valid() && policy.Widens(policy.TLP(in.TLP), tlp) && policy.Widens(item.TLP, tlp) {
			p["tlp"] = "widens"
		}
		for _, r := range f.Recipients {
			if !slices.Contains(in.Recipients, r) && !slices.Contains(item.Recipients, r) {
				p["recipients"] = "widens"
			}
		}
		for _, x := range in.Excluded {
			if !slices.Contains(f.Excluded, x) {
				p["excluded"] = "lifts_exclusion"
			}
		}
		had := append(append([]string{in.Sector}, in.ConcernedSectors...), item.Sectors...)
		if f.Sector != "" && !slices.Contains(had, f.Sector) {
			p["sector"] = "widens"
		}
		for _, cs := range f.ConcernedSectors {
			if !slices.Contains(had, cs) {
				p["concerned_sectors"] = "widens"
			}
		}
	}
	return p
}

// itemOf reads the item of a case as the rule sees it.
func (s *Service) itemOf(ctx context.Context, caseID int64) (policy.Item, error) {
	ref, err := s.DB.CaseRef(ctx, caseID)
	if err != nil {
		return policy.Item{}, err
	}
	return s.DB.ItemState(ctx, ref.ItemID)
}

// codes returns the valid codes of each classification kind of a version,
// and the sectors.
func (s *Service) codes(ctx context.Context, version string) (map[string]map[string]bool, error) {
	if version == "" {
		version = ClassificationVersion
	}
	cs, err := s.DB.Classifications(ctx, version)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]bool{"sector": {}}
	for _, c := range cs {
		if out[c.Kind] == nil {
			out[c.Kind] = map[string]bool{}
		}
		out[c.Kind][c.Code] = true
	}
	sectors, err := s.DB.Sectors(ctx)
	if err != nil {
		return nil, err
	}
	for _, sec := range sectors {
		out["sector"][sec.Code] = true
	}
	return out, nil
}
