package report

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/policy"
	"kyoyu/store"
)

// A forwarder may narrow a range but never widen it without the
// originator's agreement (seed 003: 情報発信者の同意なく…; seed 004: the
// provider sets the range). A holder asks, the originating organisation
// answers, and a grant changes the item's range, recipients and sectors:
// the data the sharing-range rule reads. The rule itself does not change.
// Analysis partners (※2) are NISC's choice, per item, among the security
// agencies.

// WideningRequest is what a holder asks the originator for. An empty
// ToTLP keeps the range and asks only for recipients or sectors.
type WideningRequest struct {
	ToTLP         string   `json:"to_tlp,omitempty"`
	AddRecipients []int64  `json:"add_recipients,omitempty"`
	AddSectors    []string `json:"add_sectors,omitempty"`
	Reason        string   `json:"reason"`
}

// ConsentRequests lists the requests about a case the principal may see:
// a case out of sight is not found; a viewer who is not a party to any
// request sees none.
func (s *Service) ConsentRequests(ctx context.Context, pr *account.Principal, caseID int64) ([]*store.ConsentRequest, error) {
	v := viewer(pr)
	if _, _, err := s.DB.Case(ctx, v, caseID); err != nil {
		return nil, err
	}
	return s.DB.ConsentRequests(ctx, v, caseID)
}

// ConsentRequest returns one request of a case; one of another case, or
// one the principal may not see, is not found.
func (s *Service) ConsentRequest(ctx context.Context, pr *account.Principal, caseID, requestID int64) (*store.ConsentRequest, error) {
	v := viewer(pr)
	if _, _, err := s.DB.Case(ctx, v, caseID); err != nil {
		return nil, err
	}
	r, err := s.DB.ConsentRequest(ctx, v, requestID)
	if err != nil {
		return nil, err
	}
	if r.CaseID != caseID {
		return nil, notFound("consent request")
	}
	return r, nil
}

// caseState reads the case as the principal may see it (not found
// otherwise) and the item as the rule sees it.
func (s *Service) caseState(ctx context.Context, pr *account.Principal, caseID int64) (*store.CaseRef, policy.Item, error) {
	if _, _, err := s.DB.Case(ctx, viewer(pr), caseID); err != nil {
		return nil, policy.Item{}, err
	}
	ref, err := s.DB.CaseRef(ctx, caseID)
	if err != nil {
		return nil, policy.Item{}, err
	}
	item, err := s.DB.ItemState(ctx, ref.ItemID)
	return ref, item, err
}

// mayAnswer reports whether a person of the originating organisation may
// give or refuse consent: the operator's reporters and administrators, or
// for a ministry's own report its liaisons.
func mayAnswer(p *kyoyu.Person, ref *store.CaseRef) bool {
	if ref.Route == string(kyoyu.RouteMinistryOrigin) {
		return p.Role == kyoyu.RoleMinistryLiaison
	}
	return p.Role == kyoyu.RoleOperatorReporter || p.Role == kyoyu.RoleOrgAdmin
}

// mayRequest reports whether the principal's organisation may ask for a
// wider range: one the case reached on its route, other than its source.
func mayRequest(pr *account.Principal, item policy.Item) bool {
	org := pr.Organisation.ID
	return org != item.Originator && slices.Contains(item.Holders, org) && pr.Person.Role != kyoyu.RoleSystemAdmin
}

// ConsentRoles is what a principal may do about a case's range, for pages
// to offer only what the service will accept.
type ConsentRoles struct {
	Request bool // ask the originator for a wider range
	Answer  bool // grant or refuse requests
	Engage  bool // choose analysis partners
}

// ConsentRolesFor tells what the principal may do about a case it may see.
func (s *Service) ConsentRolesFor(ctx context.Context, pr *account.Principal, caseID int64) (ConsentRoles, error) {
	ref, item, err := s.caseState(ctx, pr, caseID)
	if err != nil {
		return ConsentRoles{}, err
	}
	return ConsentRoles{Request: mayRequest(pr, item), Answer: pr.Organisation.ID == item.Originator && mayAnswer(pr.Person, ref),
		Engage: MayEngagePartners(pr)}, nil
}

// RequestWidening asks the originating organisation of a case to widen its
// range. Only an organisation the case reached on its route (a holder:
// the secretariat, the ministry, NISC) may ask, only for something wider
// than the range as it stands, and only once at a time.
func (s *Service) RequestWidening(ctx context.Context, pr *account.Principal, ip string, caseID int64, in WideningRequest) (*store.ConsentRequest, error) {
	ref, item, err := s.caseState(ctx, pr, caseID)
	if err != nil {
		return nil, err
	}
	org := pr.Organisation.ID
	if !mayRequest(pr, item) {
		return nil, kyoyu.Errorf(kyoyu.EFORBIDDEN, "consent.only_holders")
	}
	p := map[string]string{}
	reason := strings.TrimSpace(in.Reason)
	switch {
	case reason == "":
		p["reason"] = "required"
	case utf8.RuneCountInString(reason) > mediumText:
		p["reason"] = "too_long"
	}
	to := item.TLP
	if in.ToTLP != "" {
		to = policy.TLP(in.ToTLP)
		if !to.Valid() {
			p["to_tlp"] = "invalid_choice"
		} else if policy.Widens(to, item.TLP) {
			p["to_tlp"] = "consent_narrower"
		}
	}
	if len(in.AddRecipients) > maxListLen {
		p["add_recipients"] = "too_many"
	}
	var recipients []int64
	for _, id := range in.AddRecipients {
		// Holders and recipients see the item already. The originator does
		// too, but is kept like any other organisation, so that no answer
		// tells an anonymised report's requester which one is its source.
		if slices.Contains(item.Holders, id) || slices.Contains(item.Recipients, id) || slices.Contains(recipients, id) {
			continue
		}
		if _, err := s.DB.Organisation(ctx, id); errors.Is(err, kyoyu.ErrNotFound) {
			p["add_recipients"] = "invalid_choice"
			continue
		} else if err != nil {
			return nil, err
		}
		if slices.Contains(item.Excluded, id) {
			p["add_recipients"] = "consent_excluded"
			continue
		}
		recipients = append(recipients, id)
	}
	if len(in.AddSectors) > maxListLen {
		p["add_sectors"] = "too_many"
	}
	codes, err := s.codes(ctx, ClassificationVersion)
	if err != nil {
		return nil, err
	}
	var sectors []string
	for _, sec := range in.AddSectors {
		if !codes["sector"][sec] {
			p["add_sectors"] = "invalid_choice"
			continue
		}
		if !slices.Contains(item.Sectors, sec) && !slices.Contains(sectors, sec) {
			sectors = append(sectors, sec)
		}
	}
	if len(p) == 0 && !policy.Widens(item.TLP, to) && len(recipients) == 0 && len(sectors) == 0 {
		p["to_tlp"] = "consent_not_wider"
	}
	if len(p) > 0 {
		return nil, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "consent.invalid", Fields: p}
	}
	r := &store.ConsentRequest{ItemID: ref.ItemID, CaseID: caseID, RequestedByOrg: org, RequestedByPerson: pr.Person.ID,
		FromTLP: string(item.TLP), ToTLP: string(to), AddRecipients: recipients, AddSectors: sectors, Reason: reason}
	notes, err := s.tell(ctx, item.Originator, item, caseID, "notify.consent_requested", func(p *kyoyu.Person) bool { return mayAnswer(p, ref) })
	if err != nil {
		return nil, err
	}
	if err := s.DB.CreateConsentRequest(ctx, actor(pr, ip), r, notes); err != nil {
		return nil, err
	}
	return s.DB.ConsentRequest(ctx, viewer(pr), r.ID)
}

// AnswerConsent grants or refuses a pending request. Only people of the
// originating organisation who may answer for it do; to anyone else the
// request is not found. A grant widens the item in the same transaction
// that records it; the requester's people who may see the case are told.
func (s *Service) AnswerConsent(ctx context.Context, pr *account.Principal, ip string, requestID int64, grant bool, note string) (*store.ConsentRequest, error) {
	v := viewer(pr)
	r, err := s.DB.ConsentRequest(ctx, v, requestID)
	if err != nil {
		return nil, err
	}
	ref, item, err := s.caseState(ctx, pr, r.CaseID)
	if err != nil {
		return nil, err
	}
	if pr.Organisation.ID != item.Originator {
		return nil, notFound("consent request")
	}
	if !mayAnswer(pr.Person, ref) {
		return nil, kyoyu.Errorf(kyoyu.EFORBIDDEN, "consent.only_originator")
	}
	if r.Status != store.ConsentPending {
		return nil, &kyoyu.Error{Code: kyoyu.ECONFLICT, Message: "consent.already_answered"}
	}
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > mediumText {
		return nil, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "consent.invalid", Fields: map[string]string{"note": "too_long"}}
	}
	status, next := store.ConsentRefused, item
	if grant {
		status, next = store.ConsentGranted, widened(item, r)
	}
	notes, err := s.tell(ctx, r.RequestedByOrg, next, r.CaseID, "notify.consent_answered", func(*kyoyu.Person) bool { return true })
	if err != nil {
		return nil, err
	}
	if err := s.DB.AnswerConsent(ctx, actor(pr, ip), store.ConsentAnswer{RequestID: r.ID, Status: status, PersonID: pr.Person.ID,
		Note: note, Notify: notes}); err != nil {
		return nil, err
	}
	return s.DB.ConsentRequest(ctx, v, r.ID)
}

// WithdrawConsent takes back a pending request, by the organisation that
// made it.
func (s *Service) WithdrawConsent(ctx context.Context, pr *account.Principal, ip string, requestID int64) (*store.ConsentRequest, error) {
	v := viewer(pr)
	r, err := s.DB.ConsentRequest(ctx, v, requestID)
	if err != nil {
		return nil, err
	}
	if r.RequestedByOrg != pr.Organisation.ID || pr.Person.Role == kyoyu.RoleSystemAdmin {
		return nil, notFound("consent request")
	}
	if r.Status != store.ConsentPending {
		return nil, &kyoyu.Error{Code: kyoyu.ECONFLICT, Message: "consent.already_answered"}
	}
	if err := s.DB.AnswerConsent(ctx, actor(pr, ip), store.ConsentAnswer{RequestID: r.ID, Status: store.ConsentWithdrawn, PersonID: pr.Person.ID}); err != nil {
		return nil, err
	}
	return s.DB.ConsentRequest(ctx, v, r.ID)
}

// widened is the item as a grant of r leaves it (store.AnswerConsent makes
// the same change in the database).
func widened(it policy.Item, r *store.ConsentRequest) policy.Item {
	if to := policy.TLP(r.ToTLP); to.Valid() && it.TLP.Valid() && policy.Widens(it.TLP, to) {
		it.TLP = to
	}
	it.Recipients = append(slices.Clone(it.Recipients), r.AddRecipients...)
	it.Sectors = append(slices.Clone(it.Sectors), r.AddSectors...)
	return it
}

// tell builds a notification for each active person of an organisation
// whom who accepts and whom the rule lets see the item as it will be.
func (s *Service) tell(ctx context.Context, orgID int64, it policy.Item, caseID int64, kind string, who func(*kyoyu.Person) bool) ([]store.Notification, error) {
	org, err := s.DB.Organisation(ctx, orgID)
	if err != nil {
		return nil, err
	}
	people, err := s.DB.People(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var out []store.Notification
	for _, p := range people {
		if p.DisabledAt != nil || !who(p) || !policy.Decide(policy.ViewerOf(p, org), it).See {
			continue
		}
		out = append(out, store.Notification{PersonID: p.ID, Kind: kind, Link: fmt.Sprintf("/cases/%d", caseID)})
	}
	return out, nil
}

// PartnerChoices lists the security agencies (情報セキュリティ関係機関) NISC
// may engage as analysis partners.
func (s *Service) PartnerChoices(ctx context.Context) ([]*kyoyu.Organisation, error) {
	return s.DB.Organisations(ctx, store.OrganisationFilter{Kind: kyoyu.KindSecurityAgency})
}

// Partners lists the analysis partners engaged for a case the principal
// may see.
func (s *Service) Partners(ctx context.Context, pr *account.Principal, caseID int64) ([]*kyoyu.Organisation, error) {
	_, item, err := s.caseState(ctx, pr, caseID)
	if err != nil {
		return nil, err
	}
	if len(item.Partners) == 0 {
		return []*kyoyu.Organisation{}, nil
	}
	return s.DB.Organisations(ctx, store.OrganisationFilter{IDs: item.Partners})
}

// MayEngagePartners reports whether the principal chooses analysis
// partners: NISC's analysts.
func MayEngagePartners(pr *account.Principal) bool {
	return pr != nil && pr.Organisation.Has(kyoyu.KindNISC) && pr.Person.Role == kyoyu.RoleNISCAnalyst
}

// SetPartners opts a case in for exactly the chosen security agencies
// (※2 of table 4: あらかじめ連携を要請した情報セキュリティ関係機関), and out
// for the others. Only NISC's analysts do; the newly engaged agencies'
// people who may see the case are told. It returns the partners engaged.
func (s *Service) SetPartners(ctx context.Context, pr *account.Principal, ip string, caseID int64, partners []int64) ([]*kyoyu.Organisation, error) {
	_, item, err := s.caseState(ctx, pr, caseID)
	if err != nil {
		return nil, err
	}
	if !MayEngagePartners(pr) {
		return nil, kyoyu.Errorf(kyoyu.EFORBIDDEN, "consent.only_nisc")
	}
	if len(partners) > maxListLen {
		return nil, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "consent.invalid", Fields: map[string]string{"partners": "too_many"}}
	}
	var chosen []int64
	p := map[string]string{}
	for _, id := range partners {
		if slices.Contains(chosen, id) {
			continue
		}
		o, err := s.DB.Organisation(ctx, id)
		if errors.Is(err, kyoyu.ErrNotFound) || (err == nil && !o.Has(kyoyu.KindSecurityAgency)) {
			p["partners"] = "invalid_choice"
			continue
		} else if err != nil {
			return nil, err
		}
		if slices.Contains(item.Excluded, id) {
			p["partners"] = "consent_excluded"
			continue
		}
		chosen = append(chosen, id)
	}
	if len(p) > 0 {
		return nil, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "consent.invalid", Fields: p}
	}
	next := item
	next.Partners = chosen
	notify := map[int64][]store.Notification{}
	for _, id := range chosen {
		if slices.Contains(item.Partners, id) {
			continue
		}
		if notify[id], err = s.tell(ctx, id, next, caseID, "notify.partner_engaged", func(*kyoyu.Person) bool { return true }); err != nil {
			return nil, err
		}
	}
	if _, _, err := s.DB.SetPartners(ctx, actor(pr, ip), caseID, chosen, notify); err != nil {
		return nil, err
	}
	return s.Partners(ctx, pr, caseID)
}
