package report

import (
	"context"
	"fmt"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/stix"
	"kyoyu/store"
)

// MaterialiseCaseSTIX stores the STIX export of a released version of a
// case among the case item's STIX objects, where TAXII collections serve
// it to whoever the case's range admits (the store filters every read by
// the sharing-range rule, so the objects follow the case's range as it is
// at read time, not as it was now).
//
// What is stored must be fit for every reader of the case, so it is the
// export as a reader who is neither the originator nor the secretariat
// that anonymised it sees it — NISC, which holds every released case: the
// released version only, and for an anonymised case the label, never the
// operator's real name or identity. A follow-up stores new versions of the
// same STIX ids (its incident's modified is the follow-up's). It returns
// how many objects were new; storing a version twice changes nothing.
func (s *Service) MaterialiseCaseSTIX(ctx context.Context, caseID, versionID int64) (int, error) {
	nisc, err := s.DB.OrganisationByCode(ctx, "nisc")
	if err != nil {
		return 0, fmt.Errorf("materialise case %d: %w", caseID, err)
	}
	v := policy.Viewer{OrgID: nisc.ID, Kinds: nisc.Kinds, Sectors: nisc.Sectors, CEPTOARs: nisc.CEPTOARs, NeedToKnow: true}
	c, d, err := s.DB.Case(ctx, v, caseID)
	if err != nil {
		return 0, fmt.Errorf("materialise case %d: %w", caseID, err)
	}
	ref, err := s.DB.CaseRef(ctx, caseID)
	if err != nil {
		return 0, err
	}
	// Only the originator and the anonymising secretariat may know the
	// source of an anonymised case. NISC is neither — unless it wrote the
	// report itself — so the label is put in plainly whoever reads here.
	seeSource := d.SeeSource && !c.Anonymised
	if c.Anonymised {
		c.Operator, c.OperatorOrgID = ref.Label, 0
	}
	vers, err := s.DB.Versions(ctx, v, caseID)
	if err != nil {
		return 0, err
	}
	var ver *kyoyu.ReportVersion
	for _, x := range vers {
		if x.ID == versionID {
			ver = x
		}
	}
	if ver == nil || !ver.Released {
		return 0, fmt.Errorf("materialise case %d: version %d is not a released version: %w", caseID, versionID, kyoyu.ErrNotFound)
	}
	atts, err := s.DB.Attachments(ctx, v, ver.ID)
	if err != nil {
		return 0, err
	}
	in := stix.CaseInput{Case: c, SeeSource: seeSource, Version: ver, TLPVersion: 1,
		TLP: policy.Narrower(policy.TLP(c.TLP), policy.TLP(ver.Form.TLP))}
	for _, a := range atts {
		in.Attachments = append(in.Attachments, stix.Attachment{Filename: a.Filename, SHA256: a.SHA256, Size: a.Size})
	}
	if in.Source, err = s.DB.STIXNamespace(ctx); err != nil {
		return 0, err
	}
	if seeSource || (ver.OrgID != ref.Originator && ver.OrgID != ref.Operator) {
		if in.Author, err = s.DB.Organisation(ctx, ver.OrgID); err != nil {
			return 0, err
		}
	}
	if c.OperatorOrgID != 0 && seeSource {
		if in.Operator, err = s.DB.Organisation(ctx, c.OperatorOrgID); err != nil {
			return 0, err
		}
	}
	b, err := stix.ExportCase(in)
	if err != nil {
		// The same input fails the same way: not worth retrying.
		return 0, &kyoyu.Error{Code: kyoyu.EINVALID, Message: fmt.Sprintf("case %d version %d: no STIX export", caseID, versionID), Err: err}
	}
	objects, err := StoredSTIXObjects(b)
	if err != nil {
		return 0, fmt.Errorf("materialise case %d: %w", caseID, err)
	}
	return s.DB.StoreItemSTIX(ctx, kyoyu.Actor{IP: "system"}, c.ItemID,
		fmt.Sprintf("case=%d version=%d report=%d", caseID, ver.ID, ver.ReportNumber), objects)
}

// StoredSTIXObjects reads an exported bundle back as the store keeps objects
// (the same parsing as an import, so version keys are computed alike).
func StoredSTIXObjects(b *stix.Bundle) ([]store.STIXObject, error) {
	raw, err := b.JSON()
	if err != nil {
		return nil, err
	}
	parsed, err := stix.Parse(raw, stix.Limits{MaxBytes: int64(len(raw)) + 1, MaxObjects: len(b.Objects) + 1})
	if err != nil {
		return nil, err
	}
	var out []store.STIXObject
	for _, o := range parsed.Objects {
		out = append(out, store.STIXObject{ID: o.ID, Type: o.Type, SpecVersion: o.SpecVersion,
			Created: o.Created, Modified: o.Version(), JSON: o.Raw})
	}
	return out, nil
}
