package advisory

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/audit"
	"kyoyu/policy"
	"kyoyu/store"
)

// AckLinkTTL is how long an acknowledgement link in an e-mail stays valid.
const AckLinkTTL = 14 * 24 * time.Hour

// Publish publishes a draft version: the first publication numbers the
// advisory (e.g. T2026-0001) and delivers it to every recipient ministry;
// a later version (第N報) tells everyone it already reached.
func (s *Service) Publish(ctx context.Context, pr *account.Principal, ip string, versionID int64) (string, error) {
	if !isNISC(pr) {
		return "", notFound("advisory draft")
	}
	a, err := s.DB.AdvisoryDraft(ctx, versionID, pr.Organisation.ID)
	if err != nil {
		return "", err
	}
	problems, err := s.validate(ctx, pr, a.Form)
	if err != nil {
		return "", err
	}
	if len(problems) > 0 {
		return "", &kyoyu.Error{Code: kyoyu.EINVALID, Message: "advisory.invalid", Fields: problems}
	}
	item, err := s.DB.ItemState(ctx, a.ItemID)
	if err != nil {
		return "", err
	}
	f := a.Form
	tlp := policy.TLP(f.TLP)
	if item.Shared {
		// A later version never widens what was published.
		tlp = policy.Narrower(item.TLP, tlp)
	}
	item.TLP, item.Shared = tlp, true
	item.RecipientMinistries, item.Sectors = nil, nil
	for _, r := range f.Recipients {
		if !slices.Contains(item.RecipientMinistries, r.MinistryID) {
			item.RecipientMinistries = append(item.RecipientMinistries, r.MinistryID)
		}
		if !slices.Contains(item.Sectors, r.Sector) {
			item.Sectors = append(item.Sectors, r.Sector)
		}
	}
	item.Recipients = f.ExtraRecipients
	item.Excluded = union(item.Excluded, f.Excluded)
	pub := store.Publication{VersionID: versionID, OrgID: pr.Organisation.ID, Item: item, NumberFormat: s.Cfg.FormatAdvisoryNumber}
	var targets []int64
	if a.Status == "draft" {
		for _, m := range item.RecipientMinistries {
			pub.Deliveries = append(pub.Deliveries, kyoyu.Delivery{OrgID: m, Stage: "ministry", FromOrgID: pr.Organisation.ID, TLP: string(tlp)})
		}
		targets = item.RecipientMinistries
	} else {
		ds, err := s.DB.Deliveries(ctx, a.ID)
		if err != nil {
			return "", err
		}
		for _, d := range ds {
			targets = append(targets, d.OrgID)
		}
	}
	kind := "notify.advisory_received"
	if a.Status != "draft" {
		kind = "notify.advisory_updated"
	}
	pub.Notify, pub.AckLinks, err = s.tell(ctx, a.ID, item, targets, kind, a.Status == "draft")
	if err != nil {
		return "", err
	}
	return s.DB.PublishAdvisory(ctx, pr.Actor(ip), pub)
}

// tell builds the notifications for the people of the given organisations
// who may see the item — with, for a new delivery, a single-use
// acknowledgement link each (the link is what the e-mail carries).
func (s *Service) tell(ctx context.Context, advisoryID int64, item policy.Item, orgs []int64, kind string, withAck bool) ([]store.Notification, []store.AckLink, error) {
	var ns []store.Notification
	var links []store.AckLink
	expires := s.DB.Now().Add(AckLinkTTL)
	// The organisations and their people in a few queries, whatever their
	// number: an advisory may reach thousands at once.
	list, err := s.DB.Organisations(ctx, store.OrganisationFilter{IDs: orgs})
	if err != nil {
		return nil, nil, err
	}
	byID := map[int64]*kyoyu.Organisation{}
	for _, o := range list {
		byID[o.ID] = o
	}
	for _, id := range orgs {
		if byID[id] == nil {
			return nil, nil, fmt.Errorf("organisation %d: %w", id, kyoyu.ErrNotFound)
		}
	}
	people, err := s.DB.PeopleOf(ctx, orgs)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range people {
		org := byID[p.OrganisationID]
		if p.DisabledAt != nil || !policy.Decide(policy.ViewerOf(p, org), item).See {
			continue
		}
		link := fmt.Sprintf("/advisories/%d", advisoryID)
		if withAck {
			nonce := newNonce()
			links = append(links, store.AckLink{Nonce: nonce, OrgID: org.ID, PersonID: p.ID, ExpiresAt: expires})
			link = "/ack/" + nonce
		}
		ns = append(ns, store.Notification{PersonID: p.ID, OrgID: org.ID, Kind: kind, Link: link})
	}
	return ns, links, nil
}

func newNonce() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// FollowUp opens the next version (第N報) of a published advisory, from its latest.
func (s *Service) FollowUp(ctx context.Context, pr *account.Principal, ip string, advisoryID int64) (int64, int, error) {
	if !isNISC(pr) {
		return 0, 0, notFound("advisory")
	}
	a, err := s.DB.Advisory(ctx, viewer(pr), advisoryID)
	if err != nil {
		return 0, 0, err
	}
	if a.IssuerOrgID != pr.Organisation.ID || a.Status != "published" {
		return 0, 0, notFound("advisory")
	}
	return s.DB.NewAdvisoryVersion(ctx, pr.Actor(ip), advisoryID, pr.Person.ID, a.Form)
}

// Open returns an advisory as the principal may see it, recording reads of
// RED and AMBER advisories in the audit log (as for cases).
func (s *Service) Open(ctx context.Context, pr *account.Principal, ip string, id int64) (*kyoyu.Advisory, error) {
	a, err := s.DB.Advisory(ctx, viewer(pr), id)
	if err != nil {
		return nil, err
	}
	if a.TLP == string(policy.Red) || a.TLP == string(policy.Amber) {
		e := store.EntryFor(pr.Actor(ip), "advisory.read", "item", fmt.Sprint(a.ItemID), audit.OK, "tlp="+a.TLP)
		if err := s.DB.Audit(ctx, e); err != nil {
			return nil, err
		}
	}
	return a, nil
}
