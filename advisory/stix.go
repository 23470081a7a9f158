package advisory

import (
	"context"
	"fmt"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/audit"
	"kyoyu/policy"
	"kyoyu/stix"
	"kyoyu/store"
)

// ExportSTIX exports the latest published version (第N報) of an advisory as
// the person may see it, as a STIX 2.1 bundle (stix.ExportAdvisory): read
// through Open, so the sharing range decides whether it is found and RED
// and AMBER reads are audited, and marked with the narrower of the
// advisory's current range (a forward may have narrowed it) and the
// version's. tlpVersion is 1 (TLP 1.0 ids, also for 0) or 2 (TLP 2.0). An
// advisory never published has nothing to export and is not found.
func (s *Service) ExportSTIX(ctx context.Context, pr *account.Principal, ip string, id int64, tlpVersion int) (*stix.Bundle, error) {
	tv, err := stixTLPVersion(tlpVersion)
	if err != nil {
		return nil, err
	}
	a, err := s.Open(ctx, pr, ip, id)
	if err != nil {
		return nil, err
	}
	if a.Status != "published" {
		return nil, notFound("published advisory")
	}
	in := stix.AdvisoryInput{Advisory: a, TLPVersion: tv, TLP: policy.Narrower(policy.TLP(a.TLP), policy.TLP(a.Form.TLP))}
	// The issuer is NISC, known to all; still, it is named only to those
	// the rule lets know an item's source, as every other export does.
	it, err := s.DB.ItemState(ctx, a.ItemID)
	if err != nil {
		return nil, err
	}
	if policy.Decide(viewer(pr), it).SeeSource {
		if in.Issuer, err = s.DB.Organisation(ctx, a.IssuerOrgID); err != nil {
			return nil, fmt.Errorf("advisory %d: issuer: %w", id, err)
		}
	}
	for _, r := range a.Form.Recipients {
		m, err := s.DB.Organisation(ctx, r.MinistryID)
		if err != nil {
			return nil, fmt.Errorf("advisory %d: recipient: %w", id, err)
		}
		in.Recipients = append(in.Recipients, stix.AdvisoryRecipient{Ministry: m.NameJA, MinistryCode: m.Code, Sector: r.Sector})
	}
	if in.VersionPublishedAt, err = s.DB.AdvisoryVersionPublishedAt(ctx, a.VersionID); err != nil {
		return nil, err
	}
	if in.Source, err = s.DB.STIXNamespace(ctx); err != nil {
		return nil, err
	}
	b, err := stix.ExportAdvisory(in)
	if err != nil {
		return nil, err
	}
	if in.TLP == policy.Red || in.TLP == policy.Amber {
		e := store.EntryFor(pr.Actor(ip), "advisory.export_stix", "item", fmt.Sprint(a.ItemID), audit.OK, "tlp="+string(in.TLP))
		if err := s.DB.Audit(ctx, e); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func stixTLPVersion(v int) (int, error) {
	switch v {
	case 0, 1:
		return 1, nil
	case 2:
		return 2, nil
	}
	return 0, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "tlp must be 1 (TLP 1.0) or 2 (TLP 2.0)", Fields: map[string]string{"tlp": "invalid_choice"}}
}
