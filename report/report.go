// Package report is the reporting flow (情報連絡, seed 003 §2): an operator,
// a CEPTOAR secretariat or a ministry writes a report, each hop may
// complete, anonymise or narrow it, and NISC numbers the case on receipt.
// It decides who may act and what each hop may change; what anyone may see
// is decided by the policy package, through the store's queries.
package report

import (
	"context"
	"fmt"
	"slices"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/policy"
	"kyoyu/store"
)

// Service runs the reporting flow.
type Service struct {
	DB  *store.DB
	Cfg kyoyu.Config
}

// New returns the reporting service.
func New(db *store.DB, cfg kyoyu.Config) *Service { return &Service{DB: db, Cfg: cfg} }

// ClassificationVersion is the version of the form's classifications new
// reports use.
const ClassificationVersion = "2017-handbook"

func actor(pr *account.Principal, ip string) kyoyu.Actor { return pr.Actor(ip) }

func viewer(pr *account.Principal) policy.Viewer {
	return policy.ViewerOf(pr.Person, pr.Organisation)
}

// notFound answers every refusal on a case the same way as a missing one.
func notFound(what string) error { return fmt.Errorf("%s: %w", what, kyoyu.ErrNotFound) }

// StartInput opens a new case.
type StartInput struct {
	// Route is ministry or ceptoar for an operator, ministry_origin for a ministry.
	Route kyoyu.Route
	// For a ministry's own report: the operator concerned, if registered,
	// or its name as given, and how the report came in.
	OperatorOrgID int64
	OperatorName  string
	Channel       string // web, email, phone, fax
	TakenBy       string
	Form          kyoyu.ReportForm
}

// Start opens a case with the draft of its first report. Operators choose
// the route through their ministry or their CEPTOAR; ministries originate
// reports themselves, also for an operator who phoned or faxed.
func (s *Service) Start(ctx context.Context, pr *account.Principal, ip string, in StartInput) (*kyoyu.Case, *kyoyu.ReportVersion, error) {
	org := pr.Organisation
	c := &kyoyu.Case{Route: in.Route, OriginatorOrgID: org.ID, Channel: "web"}
	item := policy.Item{Kind: policy.Report, TLP: policy.Red, Originator: org.ID}
	stage := kyoyu.StageOperator
	switch in.Route {
	case kyoyu.RouteMinistry, kyoyu.RouteCEPTOAR:
		if !org.Has(kyoyu.KindOperator) || !slices.Contains([]kyoyu.Role{kyoyu.RoleOperatorReporter, kyoyu.RoleOrgAdmin}, pr.Person.Role) {
			return nil, nil, kyoyu.Errorf(kyoyu.EFORBIDDEN, "report.only_operators")
		}
		ministry, err := s.competentMinistry(ctx, org, in.Form.Sector)
		if err != nil {
			return nil, nil, err
		}
		c.MinistryOrgID, c.OperatorOrgID, c.OperatorName = ministry.ID, org.ID, org.NameJA
		if in.Route == kyoyu.RouteCEPTOAR {
			sec, err := s.secretariat(ctx, org)
			if err != nil {
				return nil, nil, err
			}
			c.SecretariatOrgID = sec.ID
			item.Anonymised, item.SourceOrgs = true, []int64{sec.ID}
		}
	case kyoyu.RouteMinistryOrigin:
		if !org.Has(kyoyu.KindMinistry) || pr.Person.Role != kyoyu.RoleMinistryLiaison {
			return nil, nil, kyoyu.Errorf(kyoyu.EFORBIDDEN, "report.only_ministries")
		}
		stage = kyoyu.StageMinistry
		c.MinistryOrgID, c.Channel, c.TakenBy = org.ID, in.Channel, in.TakenBy
		if c.Channel == "" {
			c.Channel = "web"
		}
		if !slices.Contains([]string{"web", "email", "phone", "fax"}, c.Channel) {
			return nil, nil, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "report.invalid", Fields: map[string]string{"channel": "invalid_choice"}}
		}
		if in.OperatorOrgID != 0 {
			op, err := s.DB.Organisation(ctx, in.OperatorOrgID)
			if err != nil || !op.Has(kyoyu.KindOperator) {
				return nil, nil, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "report.invalid", Fields: map[string]string{"operator": "unknown_operator"}}
			}
			c.OperatorOrgID, c.OperatorName = op.ID, op.NameJA
			// The operator that phoned in follows its own report.
			item.Holders = []int64{op.ID}
		} else {
			c.OperatorName = in.OperatorName
		}
	default:
		return nil, nil, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "report.invalid", Fields: map[string]string{"route": "invalid_choice"}}
	}
	f := in.Form
	f.ClassificationVersion = ClassificationVersion
	if f.OperatorName == "" {
		f.OperatorName = c.OperatorName
	}
	if f.Reporter.Organisation == "" {
		f.Reporter = kyoyu.Contact{Organisation: org.NameJA, Name: pr.Person.Name, Email: pr.Person.Email}
	}
	if err := s.checkDraft(f); err != nil {
		return nil, nil, err
	}
	v := &kyoyu.ReportVersion{Stage: stage, OrgID: org.ID, AuthorID: pr.Person.ID, SourceOnly: item.Anonymised, Form: f}
	if err := s.DB.CreateCase(ctx, actor(pr, ip), store.NewCase{Case: c, Item: item, Draft: v}); err != nil {
		return nil, nil, err
	}
	return c, v, nil
}

// competentMinistry is the ministry that oversees the operator's sector:
// the form's sector if the operator is in it, else the operator's first.
func (s *Service) competentMinistry(ctx context.Context, org *kyoyu.Organisation, sector string) (*kyoyu.Organisation, error) {
	if sector == "" || !slices.Contains(org.Sectors, sector) {
		if len(org.Sectors) == 0 {
			return nil, kyoyu.Errorf(kyoyu.EINVALID, "report.operator_without_sector")
		}
		sector = org.Sectors[0]
	}
	sectors, err := s.DB.Sectors(ctx)
	if err != nil {
		return nil, err
	}
	for _, sec := range sectors {
		if sec.Code == sector {
			return s.DB.OrganisationByCode(ctx, sec.MinistryCode)
		}
	}
	return nil, kyoyu.Errorf(kyoyu.EINVALID, "report.unknown_sector")
}

// secretariat is the CEPTOAR secretariat the operator reports through.
func (s *Service) secretariat(ctx context.Context, org *kyoyu.Organisation) (*kyoyu.Organisation, error) {
	if len(org.CEPTOARs) == 0 {
		return nil, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "report.not_ceptoar_member", Fields: map[string]string{"route": "not_ceptoar_member"}}
	}
	cs, err := s.DB.CEPTOARs(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Code == org.CEPTOARs[0] {
			return s.DB.Organisation(ctx, c.OrganisationID)
		}
	}
	return nil, kyoyu.Errorf(kyoyu.EINVALID, "report.not_ceptoar_member")
}

// SaveDraft stores the form of a draft as it is typed. It keeps whatever
// was typed (only sizes are limited, so nothing is lost) and returns the
// problems a submission would meet, for the form to show.
func (s *Service) SaveDraft(ctx context.Context, pr *account.Principal, ip string, versionID int64, f kyoyu.ReportForm) (problems map[string]string, err error) {
	ver, err := s.DB.Version(ctx, viewer(pr), versionID)
	if err != nil {
		return nil, err
	}
	if ver.Status != kyoyu.VersionDraft || ver.OrgID != pr.Organisation.ID {
		return nil, notFound("draft")
	}
	f.ClassificationVersion = ver.Form.ClassificationVersion
	if err := s.checkDraft(f); err != nil {
		return nil, err
	}
	if err := s.DB.SaveDraft(ctx, actor(pr, ip), versionID, pr.Organisation.ID, f); err != nil {
		return nil, err
	}
	return s.validate(ctx, f, nil), nil
}

// TakeUp gives the next hop its own draft of the report waiting for it:
// the secretariat's (to anonymise) or the ministry's (to review, complete
// or narrow). The draft starts as a copy of what was received.
func (s *Service) TakeUp(ctx context.Context, pr *account.Principal, ip string, versionID int64) (*kyoyu.ReportVersion, error) {
	v := viewer(pr)
	in, err := s.DB.Version(ctx, v, versionID)
	if err != nil {
		return nil, err
	}
	if in.Status != kyoyu.VersionSubmitted || in.ToOrgID != pr.Organisation.ID || in.Released {
		return nil, notFound("report version")
	}
	ref, err := s.DB.CaseRef(ctx, in.CaseID)
	if err != nil {
		return nil, err
	}
	// Taken up once: a second take-up of the same version answers with the
	// draft already made rather than a twin.
	vers, err := s.DB.Versions(ctx, v, in.CaseID)
	if err != nil {
		return nil, err
	}
	for _, w := range vers {
		if w.OrgID == pr.Organisation.ID && w.ReportNumber == in.ReportNumber && w.Revision > in.Revision {
			if w.Status == kyoyu.VersionDraft {
				return w, nil
			}
			return nil, &kyoyu.Error{Code: kyoyu.ECONFLICT, Message: "report.already_taken_up"}
		}
	}
	out := &kyoyu.ReportVersion{CaseID: in.CaseID, ReportNumber: in.ReportNumber, OrgID: pr.Organisation.ID, AuthorID: pr.Person.ID, Form: in.Form}
	switch {
	case pr.Organisation.ID == ref.Secretariat && ref.Route == string(kyoyu.RouteCEPTOAR):
		if pr.Person.Role != kyoyu.RoleCEPTOARSecretariat {
			return nil, kyoyu.Errorf(kyoyu.EFORBIDDEN, "report.only_secretariat")
		}
		out.Stage = kyoyu.StageSecretariat
		label := ref.Label
		if label == "" {
			label, err = s.suggestLabel(ctx, ref, in.Form.Sector)
			if err != nil {
				return nil, err
			}
		}
		ids, err := s.identifiers(ctx, ref)
		if err != nil {
			return nil, err
		}
		out.Form = Anonymise(in.Form, ids.withContact(in.Form.Reporter), label)
		// The anonymised draft is still the secretariat's own until sent.
		out.SourceOnly = false
	case pr.Organisation.ID == ref.Ministry:
		if pr.Person.Role != kyoyu.RoleMinistryLiaison {
			return nil, kyoyu.Errorf(kyoyu.EFORBIDDEN, "report.only_ministries")
		}
		out.Stage = kyoyu.StageMinistry
		out.SourceOnly = in.SourceOnly
	default:
		return nil, notFound("report version")
	}
	// The sender block is the person writing at this hop.
	out.Form.Reporter = kyoyu.Contact{Organisation: pr.Organisation.NameJA, Name: pr.Person.Name, Email: pr.Person.Email}
	out.Form.ReportedAt = nil
	if err := s.DB.AddVersion(ctx, actor(pr, ip), out); err != nil {
		return nil, err
	}
	return out, nil
}

// FollowUp opens the next report (第N報) of a case, started from the
// latest version the originator wrote.
func (s *Service) FollowUp(ctx context.Context, pr *account.Principal, ip string, caseID int64) (*kyoyu.ReportVersion, error) {
	v := viewer(pr)
	c, _, err := s.DB.Case(ctx, v, caseID)
	if err != nil {
		return nil, err
	}
	if c.OriginatorOrgID != pr.Organisation.ID || c.CaseNumber == "" {
		return nil, notFound("case")
	}
	vers, err := s.DB.Versions(ctx, v, caseID)
	if err != nil {
		return nil, err
	}
	var last *kyoyu.ReportVersion
	maxNumber := 0
	for _, ver := range vers {
		maxNumber = max(maxNumber, ver.ReportNumber)
		if ver.OrgID == pr.Organisation.ID {
			if ver.Status == kyoyu.VersionDraft {
				return nil, &kyoyu.Error{Code: kyoyu.ECONFLICT, Message: "report.draft_open"}
			}
			last = ver
		}
	}
	if last == nil {
		return nil, notFound("case")
	}
	f := last.Form
	f.ReportedAt = nil
	// Start from the case's range as it stands now — widened with consent,
	// or narrowed by a forwarder — not from the originator's last form, so
	// a follow-up neither undoes a consent nor silently widens again.
	ref, err := s.DB.CaseRef(ctx, caseID)
	if err != nil {
		return nil, err
	}
	item, err := s.DB.ItemState(ctx, ref.ItemID)
	if err != nil {
		return nil, err
	}
	f.TLP, f.Recipients = string(item.TLP), item.Recipients
	f.ConcernedSectors = nil
	for _, sec := range item.Sectors {
		if sec != f.Sector {
			f.ConcernedSectors = append(f.ConcernedSectors, sec)
		}
	}
	out := &kyoyu.ReportVersion{CaseID: caseID, ReportNumber: maxNumber + 1, Stage: last.Stage, OrgID: pr.Organisation.ID,
		AuthorID: pr.Person.ID, SourceOnly: last.SourceOnly, Form: f}
	if err := s.DB.AddVersion(ctx, actor(pr, ip), out); err != nil {
		return nil, err
	}
	return out, nil
}

// Submit sends a draft to the next hop after full validation: an operator's
// to its ministry or CEPTOAR secretariat, a secretariat's to the ministry,
// a ministry's to NISC — which numbers the case and shares it under its range.
func (s *Service) Submit(ctx context.Context, pr *account.Principal, ip string, versionID int64) (*kyoyu.ReportVersion, string, error) {
	v := viewer(pr)
	ver, err := s.DB.Version(ctx, v, versionID)
	if err != nil {
		return nil, "", err
	}
	if ver.Status != kyoyu.VersionDraft || ver.OrgID != pr.Organisation.ID {
		return nil, "", notFound("draft")
	}
	ref, err := s.DB.CaseRef(ctx, ver.CaseID)
	if err != nil {
		return nil, "", err
	}
	item, err := s.DB.ItemState(ctx, ref.ItemID)
	if err != nil {
		return nil, "", err
	}
	received, err := s.received(ctx, v, ver)
	if err != nil {
		return nil, "", err
	}
	if ver.Form.ReportedAt == nil {
		// 情報連絡日時 is the moment it is sent, unless the writer set it.
		now := s.DB.Now()
		ver.Form.ReportedAt = &now
		if err := s.DB.SaveDraft(ctx, actor(pr, ip), ver.ID, pr.Organisation.ID, ver.Form); err != nil {
			return nil, "", err
		}
	}
	if problems := s.validate(ctx, ver.Form, received); len(problems) > 0 {
		return nil, "", &kyoyu.Error{Code: kyoyu.EINVALID, Message: "report.invalid", Fields: problems}
	}
	sub := store.Submission{VersionID: ver.ID, OrgID: pr.Organisation.ID, NumberFormat: s.Cfg.FormatCaseNumber}
	switch ver.Stage {
	case kyoyu.StageOperator:
		if ref.Route == string(kyoyu.RouteCEPTOAR) {
			sub.ToOrgID, sub.Status = ref.Secretariat, kyoyu.CaseAtCEPTOAR
		} else {
			sub.ToOrgID, sub.Status = ref.Ministry, kyoyu.CaseAtMinistry
		}
	case kyoyu.StageSecretariat:
		ids, err := s.identifiers(ctx, ref)
		if err != nil {
			return nil, "", err
		}
		if received != nil {
			ids = ids.withContact(received.Form.Reporter)
		}
		leaks := Leaks(ver.Form, ids)
		// File names go up with the report too: 東和電力_報道発表.pdf names its source.
		atts, err := s.DB.Attachments(ctx, v, ver.ID)
		if err != nil {
			return nil, "", err
		}
		for _, a := range atts {
			if names := Leaks(kyoyu.ReportForm{Description: a.Filename}, ids); len(names) > 0 {
				leaks["attachments"] = "identifies_source"
			}
		}
		if len(leaks) > 0 {
			return nil, "", &kyoyu.Error{Code: kyoyu.EINVALID, Message: "report.not_anonymised", Fields: leaks}
		}
		sub.ToOrgID, sub.Status, sub.Label = ref.Ministry, kyoyu.CaseAtMinistry, ver.Form.OperatorName
	case kyoyu.StageMinistry:
		nisc, err := s.DB.OrganisationByCode(ctx, "nisc")
		if err != nil {
			return nil, "", err
		}
		sub.ToOrgID, sub.Status, sub.Release = nisc.ID, kyoyu.CaseAtNISC, true
		if FollowUpExpected(ver.Form.Outlook) {
			due := s.DB.Now().Add(s.Cfg.FollowUpWait)
			sub.FollowUpDue = &due
		}
	}
	sub.Item = s.nextItem(item, ver, sub)
	sub.Notify, err = s.notifications(ctx, ref, ver, sub)
	if err != nil {
		return nil, "", err
	}
	number, err := s.DB.Submit(ctx, actor(pr, ip), sub)
	if err != nil {
		return nil, "", err
	}
	return ver, number, nil
}

// received is the version this draft was made from at this hop (for a
// forwarder), which bounds how far it may change the range.
func (s *Service) received(ctx context.Context, v policy.Viewer, ver *kyoyu.ReportVersion) (*kyoyu.ReportVersion, error) {
	if ver.Stage == kyoyu.StageOperator {
		return nil, nil
	}
	vers, err := s.DB.Versions(ctx, v, ver.CaseID)
	if err != nil {
		return nil, err
	}
	var in *kyoyu.ReportVersion
	for _, w := range vers {
		if w.ReportNumber == ver.ReportNumber && w.Status == kyoyu.VersionSubmitted && w.ToOrgID == ver.OrgID && w.Revision < ver.Revision {
			in = w
		}
	}
	return in, nil
}

// nextItem is the item after this submission: the narrower of the case's
// range and this version's, the new holder, and the relations the form names.
func (s *Service) nextItem(it policy.Item, ver *kyoyu.ReportVersion, sub store.Submission) policy.Item {
	tlp := policy.TLP(ver.Form.TLP)
	if it.Shared || len(it.Holders) > 0 {
		tlp = policy.Narrower(it.TLP, tlp)
	}
	it.TLP = tlp
	if !slices.Contains(it.Holders, sub.ToOrgID) {
		it.Holders = append(it.Holders, sub.ToOrgID)
	}
	if sub.Release {
		it.Shared = true
	}
	sectors := []string{}
	if ver.Form.Sector != "" {
		sectors = append(sectors, ver.Form.Sector)
	}
	for _, cs := range ver.Form.ConcernedSectors {
		if !slices.Contains(sectors, cs) {
			sectors = append(sectors, cs)
		}
	}
	it.Sectors = sectors
	it.Recipients = ver.Form.Recipients
	for _, x := range ver.Form.Excluded {
		if !slices.Contains(it.Excluded, x) {
			it.Excluded = append(it.Excluded, x)
		}
	}
	return it
}

// notifications tells the receiving organisation that a report is waiting,
// and on release tells the originator and the sending ministry the case
// number — each person only if the rule lets them see the item.
func (s *Service) notifications(ctx context.Context, ref *store.CaseRef, ver *kyoyu.ReportVersion, sub store.Submission) ([]store.Notification, error) {
	link := fmt.Sprintf("/cases/%d", ref.ID)
	targets := map[int64]string{}
	if sub.Release {
		targets[ref.Originator] = "notify.case_received"
		targets[ref.Ministry] = "notify.case_received"
	} else {
		targets[sub.ToOrgID] = "notify.report_waiting"
	}
	var out []store.Notification
	for orgID, kind := range targets {
		org, err := s.DB.Organisation(ctx, orgID)
		if err != nil {
			return nil, err
		}
		people, err := s.DB.People(ctx, orgID)
		if err != nil {
			return nil, err
		}
		for _, p := range people {
			if p.DisabledAt != nil || !policy.Decide(policy.ViewerOf(p, org), sub.Item).See {
				continue
			}
			out = append(out, store.Notification{PersonID: p.ID, Kind: kind, Link: link,
				Params: map[string]string{"report_number": fmt.Sprint(ver.ReportNumber)}})
		}
	}
	return out, nil
}

// FollowUpExpected reports whether an outlook promises a follow-up report.
func FollowUpExpected(outlook string) bool { return outlook == "ongoing" || outlook == "investigating" }
