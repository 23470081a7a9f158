package advisory

import (
	"context"
	"fmt"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/stix"
)

// MaterialiseSTIX stores the STIX export of a published version (第N報) of
// an advisory among its item's STIX objects, where the TAXII advisories
// collection serves it to whoever the advisory's range admits (the store
// filters every read by the sharing-range rule, and relabels to the range
// as it is then — a forward that narrowed it included).
//
// What is stored is fit for every reader: the published version only, and
// the issuer named unless the item's source is withheld from anyone (an
// advisory is never anonymised, so in practice it is named). A follow-up
// stores new versions of the same STIX ids. It returns how many objects
// were new; storing a version twice changes nothing.
func (s *Service) MaterialiseSTIX(ctx context.Context, advisoryID, versionID int64) (int, error) {
	a, err := s.DB.PublishedAdvisoryVersion(ctx, advisoryID, versionID)
	if err != nil {
		return 0, err
	}
	it, err := s.DB.ItemState(ctx, a.ItemID)
	if err != nil {
		return 0, err
	}
	in := stix.AdvisoryInput{Advisory: a, TLPVersion: 1, TLP: policy.Narrower(policy.TLP(a.TLP), policy.TLP(a.Form.TLP))}
	if !it.Anonymised {
		if in.Issuer, err = s.DB.Organisation(ctx, a.IssuerOrgID); err != nil {
			return 0, fmt.Errorf("advisory %d: issuer: %w", advisoryID, err)
		}
	}
	for _, r := range a.Form.Recipients {
		m, err := s.DB.Organisation(ctx, r.MinistryID)
		if err != nil {
			return 0, fmt.Errorf("advisory %d: recipient: %w", advisoryID, err)
		}
		in.Recipients = append(in.Recipients, stix.AdvisoryRecipient{Ministry: m.NameJA, MinistryCode: m.Code, Sector: r.Sector})
	}
	if in.VersionPublishedAt, err = s.DB.AdvisoryVersionPublishedAt(ctx, a.VersionID); err != nil {
		return 0, err
	}
	if in.Source, err = s.DB.STIXNamespace(ctx); err != nil {
		return 0, err
	}
	b, err := stix.ExportAdvisory(in)
	if err != nil {
		// The same input fails the same way: not worth retrying.
		return 0, &kyoyu.Error{Code: kyoyu.EINVALID, Message: fmt.Sprintf("advisory %d version %d: no STIX export", advisoryID, versionID), Err: err}
	}
	objects, err := report.StoredSTIXObjects(b)
	if err != nil {
		return 0, fmt.Errorf("advisory %d: %w", advisoryID, err)
	}
	return s.DB.StoreItemSTIX(ctx, kyoyu.Actor{IP: "system"}, a.ItemID,
		fmt.Sprintf("advisory=%d version=%d report=%d", advisoryID, a.VersionID, a.ReportNumber), objects)
}
