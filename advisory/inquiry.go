package advisory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/store"
)

// Ask adds a ministry's message to its own inquiry thread (問合せ) about an
// advisory. Only ministries inside the range may ask (seed 003 §3.2).
func (s *Service) Ask(ctx context.Context, pr *account.Principal, ip string, advisoryID int64, body string) (*store.InquiryMessage, error) {
	a, err := s.DB.Advisory(ctx, viewer(pr), advisoryID)
	if err != nil {
		return nil, err
	}
	if !pr.Organisation.Has(kyoyu.KindMinistry) || pr.Person.Role != kyoyu.RoleMinistryLiaison {
		return nil, kyoyu.Errorf(kyoyu.EFORBIDDEN, "advisory.only_ministries_ask")
	}
	return s.post(ctx, pr, ip, a, pr.Organisation.ID, body, a.IssuerOrgID)
}

// Reply adds NISC's answer to one ministry's thread.
func (s *Service) Reply(ctx context.Context, pr *account.Principal, ip string, advisoryID, ministryID int64, body string) (*store.InquiryMessage, error) {
	a, err := s.DB.Advisory(ctx, viewer(pr), advisoryID)
	if err != nil {
		return nil, err
	}
	if !isNISC(pr) || a.IssuerOrgID != pr.Organisation.ID {
		return nil, notFound("advisory")
	}
	thread, err := s.DB.InquiryThread(ctx, advisoryID, ministryID)
	if err != nil {
		return nil, err
	}
	if len(thread) == 0 {
		return nil, notFound("inquiry")
	}
	return s.post(ctx, pr, ip, a, ministryID, body, ministryID)
}

func (s *Service) post(ctx context.Context, pr *account.Principal, ip string, a *kyoyu.Advisory, ministryID int64, body string, tellOrg int64) (*store.InquiryMessage, error) {
	body = strings.TrimSpace(body)
	if body == "" || utf8.RuneCountInString(body) > 10000 {
		return nil, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "advisory.invalid", Fields: map[string]string{"body": map[bool]string{true: "required", false: "too_long"}[body == ""]}}
	}
	item, err := s.DB.ItemState(ctx, a.ItemID)
	if err != nil {
		return nil, err
	}
	ns, _, err := s.tell(ctx, a.ID, item, []int64{tellOrg}, "notify.advisory_inquiry", false)
	if err != nil {
		return nil, err
	}
	for i := range ns {
		ns[i].Link = fmt.Sprintf("/advisories/%d", a.ID)
	}
	m := &store.InquiryMessage{AdvisoryID: a.ID, MinistryID: ministryID, FromOrgID: pr.Organisation.ID, PersonID: pr.Person.ID, Body: body}
	return m, s.DB.AddInquiryMessage(ctx, pr.Actor(ip), m, ns)
}

// Threads returns what the principal may read of the inquiries: NISC every
// thread of its advisory, a ministry its own, anyone else nothing.
func (s *Service) Threads(ctx context.Context, pr *account.Principal, advisoryID int64) ([]store.InquiryMessage, error) {
	a, err := s.DB.Advisory(ctx, viewer(pr), advisoryID)
	if err != nil {
		return nil, err
	}
	switch {
	case a.IssuerOrgID == pr.Organisation.ID:
		return s.DB.InquiryThread(ctx, advisoryID, 0)
	case pr.Organisation.Has(kyoyu.KindMinistry):
		return s.DB.InquiryThread(ctx, advisoryID, pr.Organisation.ID)
	}
	return nil, nil
}

// FeedbackAnswers are the answers a recipient may give.
var FeedbackAnswers = []string{"useful", "already_known", "seen_here", "not_applicable"}

// GiveFeedback records a receiving organisation's answer to an advisory.
func (s *Service) GiveFeedback(ctx context.Context, pr *account.Principal, ip string, advisoryID int64, answer, comment string) error {
	if _, err := s.DB.Advisory(ctx, viewer(pr), advisoryID); err != nil {
		return err
	}
	if _, err := s.DB.DeliveryTo(ctx, advisoryID, pr.Organisation.ID); err != nil {
		return kyoyu.Errorf(kyoyu.EFORBIDDEN, "advisory.not_received")
	}
	if !slices.Contains(FeedbackAnswers, answer) {
		return &kyoyu.Error{Code: kyoyu.EINVALID, Message: "advisory.invalid", Fields: map[string]string{"answer": "invalid_choice"}}
	}
	if utf8.RuneCountInString(comment) > 5000 {
		return &kyoyu.Error{Code: kyoyu.EINVALID, Message: "advisory.invalid", Fields: map[string]string{"comment": "too_long"}}
	}
	return s.DB.SetFeedback(ctx, pr.Actor(ip), &store.Feedback{AdvisoryID: advisoryID, OrgID: pr.Organisation.ID, PersonID: pr.Person.ID, Answer: answer, Comment: comment})
}

// FeedbackView is what one person may know of an advisory's feedback: the
// issuer every answer; the reporters whose cases fed it the counts only.
type FeedbackView struct {
	Counts  map[string]int   `json:"counts"`
	Answers []store.Feedback `json:"answers,omitempty"`
}

// Feedback returns the feedback as the principal may see it; others see nothing.
func (s *Service) Feedback(ctx context.Context, pr *account.Principal, advisoryID int64) (*FeedbackView, error) {
	a, err := s.DB.Advisory(ctx, viewer(pr), advisoryID)
	if err != nil {
		return nil, err
	}
	fs, err := s.DB.AdvisoryFeedback(ctx, advisoryID)
	if err != nil {
		return nil, err
	}
	view := &FeedbackView{Counts: map[string]int{}}
	for _, f := range fs {
		view.Counts[f.Answer]++
	}
	if a.IssuerOrgID == pr.Organisation.ID {
		view.Answers = fs
		return view, nil
	}
	// The originators of source cases hear, anonymously, how their report helped.
	sources, err := s.DB.AdvisorySources(ctx, advisoryID)
	if err != nil {
		return nil, err
	}
	for _, id := range sources {
		c, _, err := s.DB.Case(ctx, viewer(pr), id)
		if err == nil && c.OriginatorOrgID == pr.Organisation.ID {
			return view, nil
		}
	}
	return nil, notFound("feedback")
}

// FeedbackForCase lists, for the originator of a case, the anonymous
// feedback counts of every advisory that used it.
func (s *Service) FeedbackForCase(ctx context.Context, pr *account.Principal, caseID int64) (map[int64]map[string]int, error) {
	c, _, err := s.DB.Case(ctx, viewer(pr), caseID)
	if err != nil {
		return nil, err
	}
	if c.OriginatorOrgID != pr.Organisation.ID {
		return nil, notFound("case")
	}
	ids, err := s.DB.AdvisoriesFromCases(ctx, caseID)
	if err != nil {
		return nil, err
	}
	out := map[int64]map[string]int{}
	for _, id := range ids {
		fs, err := s.DB.AdvisoryFeedback(ctx, id)
		if err != nil {
			return nil, err
		}
		counts := map[string]int{}
		for _, f := range fs {
			counts[f.Answer]++
		}
		out[id] = counts
	}
	return out, nil
}
