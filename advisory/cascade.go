package advisory

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/policy"
	"kyoyu/store"
)

// ForwardInput is one hop down the chain.
type ForwardInput struct {
	// AllCEPTOARs: a ministry passes it to every CEPTOAR secretariat of its
	// recipient sectors, in one action.
	AllCEPTOARs bool
	// Operators a ministry passes it to directly; a secretariat passes it to
	// its members with AllMembers.
	Operators  []int64
	AllMembers bool
	// TLP may narrow the range for everyone below; empty keeps it.
	TLP string
}

// Forward passes a received advisory one hop down: a ministry to the
// CEPTOAR secretariats of its sectors and/or straight to operators, a
// secretariat to its members. Only organisations the range reaches receive
// it; a forward may narrow the range, never widen it.
func (s *Service) Forward(ctx context.Context, pr *account.Principal, ip string, advisoryID int64, in ForwardInput) (int, error) {
	v := viewer(pr)
	a, err := s.DB.Advisory(ctx, v, advisoryID)
	if err != nil {
		return 0, err
	}
	mine, err := s.DB.DeliveryTo(ctx, advisoryID, pr.Organisation.ID)
	if errors.Is(err, kyoyu.ErrNotFound) {
		return 0, kyoyu.Errorf(kyoyu.EFORBIDDEN, "advisory.not_received")
	} else if err != nil {
		return 0, err
	}
	item, err := s.DB.ItemState(ctx, a.ItemID)
	if err != nil {
		return 0, err
	}
	if in.TLP != "" {
		t := policy.TLP(in.TLP)
		if !t.Valid() {
			return 0, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "advisory.invalid", Fields: map[string]string{"tlp": "invalid_choice"}}
		}
		if policy.Widens(item.TLP, t) {
			return 0, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "advisory.invalid", Fields: map[string]string{"tlp": "widens"}}
		}
		item.TLP = t
	}
	var targets []int64
	var stage string
	switch mine.Stage {
	case "ministry":
		if pr.Person.Role != kyoyu.RoleMinistryLiaison {
			return 0, kyoyu.Errorf(kyoyu.EFORBIDDEN, "advisory.only_liaison")
		}
		if in.AllCEPTOARs {
			cs, err := s.DB.CEPTOARs(ctx)
			if err != nil {
				return 0, err
			}
			for _, c := range cs {
				for _, sec := range c.Sectors {
					if slices.Contains(item.Sectors, sec) && slices.Contains(pr.Organisation.Sectors, sec) && !slices.Contains(targets, c.OrganisationID) {
						targets = append(targets, c.OrganisationID)
					}
				}
			}
			stage = "ceptoar"
		}
		if len(in.Operators) > 0 {
			if stage == "ceptoar" {
				// Two kinds of hop at once: record each with its stage.
				n1, err := s.forward(ctx, pr, ip, a, item, targets, "ceptoar")
				if err != nil {
					return 0, err
				}
				n2, err := s.forward(ctx, pr, ip, a, item, in.Operators, "operator")
				return n1 + n2, err
			}
			targets, stage = in.Operators, "operator"
		}
	case "ceptoar":
		if pr.Person.Role != kyoyu.RoleCEPTOARSecretariat {
			return 0, kyoyu.Errorf(kyoyu.EFORBIDDEN, "advisory.only_secretariat")
		}
		if in.AllMembers {
			cs, err := s.DB.CEPTOARs(ctx)
			if err != nil {
				return 0, err
			}
			var codes []string
			for _, c := range cs {
				if c.OrganisationID == pr.Organisation.ID {
					codes = append(codes, c.Code)
				}
			}
			if targets, err = s.DB.CEPTOARMembers(ctx, codes); err != nil {
				return 0, err
			}
		}
		stage = "operator"
	default:
		return 0, kyoyu.Errorf(kyoyu.EFORBIDDEN, "advisory.cannot_forward")
	}
	if len(targets) == 0 {
		return 0, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "advisory.invalid", Fields: map[string]string{"targets": "required"}}
	}
	return s.forward(ctx, pr, ip, a, item, targets, stage)
}

// forward records deliveries to the organisations the range reaches (an
// organisation outside it is refused, naming none).
func (s *Service) forward(ctx context.Context, pr *account.Principal, ip string, a *kyoyu.Advisory, item policy.Item, targets []int64, stage string) (int, error) {
	orgs, err := s.DB.Organisations(ctx, store.OrganisationFilter{IDs: targets})
	if err != nil {
		return 0, err
	}
	var ds []kyoyu.Delivery
	var reached []int64
	for _, o := range orgs {
		// The organisation's incident handlers are who an advisory reaches.
		if !policy.Decide(policy.Viewer{OrgID: o.ID, Kinds: o.Kinds, Sectors: o.Sectors, CEPTOARs: o.CEPTOARs, NeedToKnow: true, PersonID: -1}, item).See {
			return 0, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "advisory.outside_range", Fields: map[string]string{"targets": "outside_range"}}
		}
		ds = append(ds, kyoyu.Delivery{OrgID: o.ID, Stage: stage, FromOrgID: pr.Organisation.ID, TLP: string(item.TLP)})
		reached = append(reached, o.ID)
	}
	if len(ds) != len(targets) {
		return 0, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "advisory.invalid", Fields: map[string]string{"targets": "unknown_organisation"}}
	}
	ns, links, err := s.tell(ctx, a.ID, item, reached, "notify.advisory_received", true)
	if err != nil {
		return 0, err
	}
	return len(ds), s.DB.Forward(ctx, pr.Actor(ip), a.ID, item, ds, links, ns)
}

// Acknowledge confirms receipt for the principal's organisation (one click).
func (s *Service) Acknowledge(ctx context.Context, pr *account.Principal, ip string, advisoryID int64) (bool, error) {
	if _, err := s.DB.Advisory(ctx, viewer(pr), advisoryID); err != nil {
		return false, err
	}
	d, err := s.DB.DeliveryTo(ctx, advisoryID, pr.Organisation.ID)
	if err != nil {
		return false, err
	}
	return s.DB.Acknowledge(ctx, pr.Actor(ip), d.ID, pr.Person.ID, "ui")
}

// AckByLink confirms receipt through the single-use link of an e-mail.
// The link is spent first, so a forged, replayed or expired link
// acknowledges nothing; the person must still be active and able to see
// the advisory.
func (s *Service) AckByLink(ctx context.Context, nonce, ip string) (*kyoyu.Delivery, error) {
	deliveryID, personID, err := s.DB.UseAckLink(ctx, nonce)
	if err != nil {
		return nil, err
	}
	p, err := s.DB.Person(ctx, personID)
	if err != nil {
		return nil, err
	}
	org, err := s.DB.Organisation(ctx, p.OrganisationID)
	if err != nil {
		return nil, err
	}
	d, err := s.DB.DeliveryByID(ctx, deliveryID)
	if err != nil {
		return nil, err
	}
	if p.DisabledAt != nil || d.OrgID != org.ID {
		return nil, notFound("link")
	}
	if _, err := s.DB.Advisory(ctx, policy.ViewerOf(p, org), d.AdvisoryID); err != nil {
		return nil, notFound("link")
	}
	if _, err := s.DB.Acknowledge(ctx, kyoyu.Actor{Person: p, Organisation: org, IP: ip}, deliveryID, p.ID, "email"); err != nil {
		return nil, err
	}
	return s.DB.DeliveryByID(ctx, deliveryID)
}

// StageRate is the acknowledgement picture of one stage of the cascade.
type StageRate struct {
	Stage        string            `json:"stage"`
	Delivered    int               `json:"delivered"`
	Acknowledged int               `json:"acknowledged"`
	Rate         float64           `json:"rate"` // 疎通確認率, 0–1
	MedianAck    time.Duration     `json:"median_ack_ns"`
	Silent       []*kyoyu.Delivery `json:"silent"`
}

// Rates gives the issuer, per stage (ministry, CEPTOAR, operator), the
// confirmation rate, the median time to acknowledge and who is still silent.
func (s *Service) Rates(ctx context.Context, pr *account.Principal, advisoryID int64) ([]StageRate, error) {
	a, err := s.DB.Advisory(ctx, viewer(pr), advisoryID)
	if err != nil {
		return nil, err
	}
	if a.IssuerOrgID != pr.Organisation.ID {
		return nil, notFound("advisory")
	}
	ds, err := s.DB.Deliveries(ctx, advisoryID)
	if err != nil {
		return nil, err
	}
	var out []StageRate
	for _, stage := range []string{"ministry", "ceptoar", "operator"} {
		r := StageRate{Stage: stage}
		var waits []time.Duration
		for _, d := range ds {
			if d.Stage != stage {
				continue
			}
			r.Delivered++
			if d.AcknowledgedAt != nil {
				r.Acknowledged++
				waits = append(waits, d.AcknowledgedAt.Sub(d.DeliveredAt))
			} else {
				r.Silent = append(r.Silent, d)
			}
		}
		if r.Delivered > 0 {
			r.Rate = float64(r.Acknowledged) / float64(r.Delivered)
		}
		if len(waits) > 0 {
			sort.Slice(waits, func(i, j int) bool { return waits[i] < waits[j] })
			r.MedianAck = waits[len(waits)/2]
		}
		out = append(out, r)
	}
	return out, nil
}

// RemindSilent reminds the organisations that have not acknowledged within
// the configured wait; each is reminded once.
func (s *Service) RemindSilent(ctx context.Context) (int, error) {
	return s.DB.RemindSilent(ctx, s.DB.Now().Add(-s.Cfg.AckWait), func(d *kyoyu.Delivery, itemID int64) ([]store.Notification, []store.AckLink, error) {
		item, err := s.DB.ItemState(ctx, itemID)
		if err != nil {
			return nil, nil, err
		}
		return s.tell(ctx, d.AdvisoryID, item, []int64{d.OrgID}, "notify.advisory_ack_reminder", true)
	})
}
