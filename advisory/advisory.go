// Package advisory is the way back down (情報提供, seed 003 §3): NISC
// drafts an advisory — from scratch or from cases, never identifying their
// sources and never wider than they allowed — publishes it to the recipient
// ministries, and it cascades to CEPTOAR secretariats and operators, every
// hop recorded and acknowledged. Who may see an advisory is decided by the
// policy package, through the store's queries.
package advisory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/store"
)

// Service runs the advisory flow.
type Service struct {
	DB  *store.DB
	Cfg kyoyu.Config
}

// New returns the advisory service.
func New(db *store.DB, cfg kyoyu.Config) *Service { return &Service{DB: db, Cfg: cfg} }

func viewer(pr *account.Principal) policy.Viewer { return policy.ViewerOf(pr.Person, pr.Organisation) }

func notFound(what string) error { return fmt.Errorf("%s: %w", what, kyoyu.ErrNotFound) }

// isNISC reports whether the principal drafts and publishes advisories.
func isNISC(pr *account.Principal) bool {
	return pr.Organisation.Has(kyoyu.KindNISC) && pr.Person.Role == kyoyu.RoleNISCAnalyst
}

// Draft opens an advisory. With source cases, the draft starts from what
// NISC may read of them: the sectors, the narrowest of their ranges, their
// exclusions; the text is NISC's to write — what it copies is checked for
// identifying details before publication.
func (s *Service) Draft(ctx context.Context, pr *account.Principal, ip string, f kyoyu.AdvisoryForm) (*kyoyu.Advisory, error) {
	if !isNISC(pr) {
		return nil, kyoyu.Errorf(kyoyu.EFORBIDDEN, "advisory.only_nisc")
	}
	bounds, err := s.sourceBounds(ctx, pr, f.SourceCases)
	if err != nil {
		return nil, err
	}
	if f.TLP == "" {
		f.TLP = string(bounds.tlp)
	}
	f.Excluded = union(f.Excluded, bounds.excluded)
	if f.Contact.Organisation == "" {
		f.Contact = kyoyu.Contact{Organisation: pr.Organisation.NameJA, Name: pr.Person.Name, Email: pr.Person.Email}
	}
	if err := checkSizes(f); err != nil {
		return nil, err
	}
	it := policy.Item{Kind: policy.Advisory, TLP: policy.Red, Originator: pr.Organisation.ID}
	return s.DB.CreateAdvisory(ctx, pr.Actor(ip), it, pr.Person.ID, f)
}

// bounds are what the source cases allow: the narrowest range and every
// organisation a source excluded.
type bounds struct {
	tlp      policy.TLP
	excluded []int64
	sectors  []string
	idents   []string // what would identify a source: operator names or labels, case numbers
}

// sourceBounds reads each source case as the principal may see it; a case
// they may not see is not found.
func (s *Service) sourceBounds(ctx context.Context, pr *account.Principal, cases []int64) (bounds, error) {
	b := bounds{tlp: policy.White}
	for _, id := range cases {
		c, _, err := s.DB.Case(ctx, viewer(pr), id)
		if err != nil {
			return b, err
		}
		it, err := s.DB.ItemState(ctx, c.ItemID)
		if err != nil {
			return b, err
		}
		b.tlp = policy.Narrower(b.tlp, it.TLP)
		b.excluded = union(b.excluded, it.Excluded)
		for _, sec := range it.Sectors {
			if !slices.Contains(b.sectors, sec) {
				b.sectors = append(b.sectors, sec)
			}
		}
		for _, x := range []string{c.Operator, c.OperatorLabel, c.CaseNumber} {
			if utf8.RuneCountInString(x) >= 2 && !slices.Contains(b.idents, x) {
				b.idents = append(b.idents, x)
			}
		}
	}
	return b, nil
}

func union(a, b []int64) []int64 {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// SaveDraft stores an open draft as typed (sizes are the only refusal).
func (s *Service) SaveDraft(ctx context.Context, pr *account.Principal, ip string, versionID int64, f kyoyu.AdvisoryForm) error {
	if !isNISC(pr) {
		return notFound("advisory draft")
	}
	if err := checkSizes(f); err != nil {
		return err
	}
	return s.DB.SaveAdvisoryDraft(ctx, pr.Actor(ip), versionID, pr.Organisation.ID, f)
}

func checkSizes(f kyoyu.AdvisoryForm) error {
	p := map[string]string{}
	for field, v := range map[string]string{"title": f.Title, "tlp_note": f.TLPNote} {
		if utf8.RuneCountInString(v) > 2000 {
			p[field] = "too_long"
		}
	}
	for field, v := range map[string]string{"summary": f.Summary, "targets": f.Targets, "actions": f.Actions, "other": f.Other} {
		if utf8.RuneCountInString(v) > 20000 {
			p[field] = "too_long"
		}
	}
	if len(f.Recipients) > 200 || len(f.SourceCases) > 200 || len(f.ExtraRecipients) > 200 {
		p["form"] = "too_many"
	}
	if len(p) > 0 {
		return &kyoyu.Error{Code: kyoyu.EINVALID, Message: "advisory.too_large", Fields: p}
	}
	return nil
}

// Highlights lists what in a draft's text may identify a source: the
// sources' operator names or labels and case numbers (blocking), and any
// e-mail address, URL, domain or phone number (to be checked and kept on
// purpose, through Resolved).
func (s *Service) Highlights(ctx context.Context, pr *account.Principal, f kyoyu.AdvisoryForm) ([]report.Finding, error) {
	b, err := s.sourceBounds(ctx, pr, f.SourceCases)
	if err != nil {
		return nil, err
	}
	asForm := kyoyu.ReportForm{Description: f.Summary, AffectedSystem: f.Targets, Lessons: f.Actions, Supplementary: f.Other, PressTitle: f.Title}
	found := report.Findings(asForm, report.Identifiers{Names: b.idents})
	names := map[string]string{"description": "summary", "affected_system": "targets", "lessons": "actions", "supplementary": "other", "press_title": "title"}
	for i := range found {
		found[i].Field = names[found[i].Field]
	}
	return found, nil
}

// validate returns every problem publishing f would meet.
func (s *Service) validate(ctx context.Context, pr *account.Principal, f kyoyu.AdvisoryForm) (map[string]string, error) {
	p := map[string]string{}
	if !f.Reason.Valid() {
		p["reason"] = "required"
	}
	if !policy.TLP(f.TLP).Valid() {
		p["tlp"] = "required"
	}
	if len(f.Recipients) == 0 {
		p["recipients"] = "required"
	}
	if strings.TrimSpace(f.Summary) == "" {
		p["summary"] = "required"
	}
	if f.Importance != "" && !slices.Contains([]string{"warning", "advisory", "info"}, f.Importance) {
		p["importance"] = "invalid_choice"
	}
	sectors, err := s.DB.Sectors(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range f.Recipients {
		ok := false
		for _, sec := range sectors {
			if sec.Code == r.Sector {
				m, err := s.DB.OrganisationByCode(ctx, sec.MinistryCode)
				ok = err == nil && m.ID == r.MinistryID
			}
		}
		if !ok {
			p["recipients"] = "not_competent_ministry"
		}
	}
	b, err := s.sourceBounds(ctx, pr, f.SourceCases)
	if err != nil {
		return nil, err
	}
	if policy.TLP(f.TLP).Valid() && policy.Widens(b.tlp, policy.TLP(f.TLP)) {
		p["tlp"] = "wider_than_sources"
	}
	for _, x := range b.excluded {
		if !slices.Contains(f.Excluded, x) {
			p["excluded"] = "lifts_exclusion"
		}
		for _, r := range f.Recipients {
			if r.MinistryID == x {
				p["recipients"] = "excluded_by_source"
			}
		}
		if slices.Contains(f.ExtraRecipients, x) {
			p["extra_recipients"] = "excluded_by_source"
		}
	}
	found, err := s.Highlights(ctx, pr, f)
	if err != nil {
		return nil, err
	}
	for _, fd := range found {
		if fd.Source || fd.Kind == "name" {
			p[fd.Field] = "identifies_source"
		} else if !slices.ContainsFunc(f.Resolved, func(r string) bool { return strings.Contains(r, fd.Text) }) {
			// Keeping an address on purpose keeps its domain too.
			if _, set := p[fd.Field]; !set {
				p[fd.Field] = "unresolved_highlight"
			}
		}
	}
	return p, nil
}
