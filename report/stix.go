package report

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/policy"
	"kyoyu/stix"
	"kyoyu/store"
)

// STIXExportOptions choose what a case export holds.
type STIXExportOptions struct {
	// VersionID exports one version the person may see; 0 the newest
	// released one (or, before release, the newest the person may see).
	VersionID int64
	// TLPVersion is 1 (TLP 1.0 ids, the default) or 2 (TLP 2.0).
	TLPVersion int
}

func tlpVersion(v int) (int, error) {
	switch v {
	case 0, 1:
		return 1, nil
	case 2:
		return 2, nil
	}
	return 0, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "tlp must be 1 (TLP 1.0) or 2 (TLP 2.0)", Fields: map[string]string{"tlp": "invalid_choice"}}
}

// ExportCaseSTIX exports a case as the person may see it, as a STIX 2.1
// bundle: read through Open and the store's version reads (so the sharing
// range decides everything in it, and RED and AMBER reads are audited),
// marked with the narrower of the case's range and the version's.
func (s *Service) ExportCaseSTIX(ctx context.Context, pr *account.Principal, ip string, caseID int64, opt STIXExportOptions) (*stix.Bundle, error) {
	b, _, err := s.exportCaseSTIX(ctx, pr, ip, caseID, opt, "case.export_stix")
	return b, err
}

// exportCaseSTIX is ExportCaseSTIX, audited as action, also giving the
// range the bundle is marked with.
func (s *Service) exportCaseSTIX(ctx context.Context, pr *account.Principal, ip string, caseID int64, opt STIXExportOptions, action string) (*stix.Bundle, policy.TLP, error) {
	b, tlp, err := s.caseBundle(ctx, pr, ip, caseID, opt)
	if err != nil {
		return nil, "", err
	}
	if err := s.auditRead(ctx, pr, ip, action, "case", caseID, string(tlp)); err != nil {
		return nil, "", err
	}
	return b, tlp, nil
}

func (s *Service) caseBundle(ctx context.Context, pr *account.Principal, ip string, caseID int64, opt STIXExportOptions) (*stix.Bundle, policy.TLP, error) {
	tv, err := tlpVersion(opt.TLPVersion)
	if err != nil {
		return nil, "", err
	}
	c, d, err := s.Open(ctx, pr, ip, caseID)
	if err != nil {
		return nil, "", err
	}
	v := viewer(pr)
	vers, err := s.DB.Versions(ctx, v, caseID)
	if err != nil {
		return nil, "", err
	}
	ver := exportedVersion(vers, opt.VersionID)
	if ver == nil {
		return nil, "", notFound("report version")
	}
	atts, err := s.DB.Attachments(ctx, v, ver.ID)
	if err != nil {
		return nil, "", err
	}
	in := stix.CaseInput{Case: c, SeeSource: d.SeeSource, Version: ver, TLPVersion: tv,
		TLP: policy.Narrower(policy.TLP(c.TLP), policy.TLP(ver.Form.TLP))}
	for _, a := range atts {
		in.Attachments = append(in.Attachments, stix.Attachment{Filename: a.Filename, SHA256: a.SHA256, Size: a.Size})
	}
	if in.Source, err = s.DB.STIXNamespace(ctx); err != nil {
		return nil, "", err
	}
	// The organisation that wrote the version, unless naming it would name
	// the source of an anonymised case to someone not entitled to it.
	ref, err := s.DB.CaseRef(ctx, caseID)
	if err != nil {
		return nil, "", err
	}
	if d.SeeSource || (ver.OrgID != ref.Originator && ver.OrgID != ref.Operator) {
		if in.Author, err = s.DB.Organisation(ctx, ver.OrgID); err != nil {
			return nil, "", err
		}
	}
	// The store gives the operator's id only to those entitled to it.
	if c.OperatorOrgID != 0 && d.SeeSource {
		if in.Operator, err = s.DB.Organisation(ctx, c.OperatorOrgID); err != nil {
			return nil, "", err
		}
	}
	b, err := stix.ExportCase(in)
	if err != nil {
		return nil, "", err
	}
	return b, in.TLP, nil
}

// exportedVersion picks the version to export among those visible.
func exportedVersion(vers []*kyoyu.ReportVersion, id int64) *kyoyu.ReportVersion {
	if id != 0 {
		i := slices.IndexFunc(vers, func(v *kyoyu.ReportVersion) bool { return v.ID == id })
		if i < 0 {
			return nil
		}
		return vers[i]
	}
	var last, released *kyoyu.ReportVersion
	for _, v := range vers {
		last = v
		if v.Released {
			released = v
		}
	}
	if released != nil {
		return released
	}
	return last
}

// STIXImportOptions are an import's settings.
type STIXImportOptions struct {
	// Range is the range the importer gives: required when the bundle has
	// no TLP marking, and it may narrow the markings' range, never widen it.
	Range  policy.TLP
	Source string // api, cli, ui or taxii
	Limits stix.Limits
	// Progress, if set, is told how many objects are stored so far.
	Progress func(done, total int)
}

// ImportSTIX stores a STIX 2.1 bundle as one shared item of the importer's
// organisation, held by NISC, under the range its markings give (see
// stix.PlanImport); from then on the sharing-range rule decides who reads
// its objects. A bad bundle is refused whole. Objects the organisation
// already imported from the same bundle, under a range at least as wide,
// are skipped; if nothing is new, nothing is stored. Only people who handle incident information import.
func (s *Service) ImportSTIX(ctx context.Context, pr *account.Principal, ip string, data []byte, opt STIXImportOptions) (*stix.Account, error) {
	if err := mayImport(pr); err != nil {
		return nil, err
	}
	lim := opt.Limits
	if lim == (stix.Limits{}) {
		lim = stix.DefaultLimits
	}
	b, err := stix.Parse(data, lim)
	if err != nil {
		return nil, err
	}
	prep, err := s.prepareSTIX(ctx, pr, b, opt.Range)
	if err != nil {
		return nil, err
	}
	if len(prep.objects) == 0 {
		return prep.acc, nil
	}
	ids, err := s.storeSTIX(ctx, pr, ip, []*preparedImport{prep}, opt.Source, "", opt.Progress)
	if err != nil {
		return nil, err
	}
	prep.acc.ItemID = ids[0]
	return prep.acc, nil
}

// mayImport: only people who handle incident information import.
func mayImport(pr *account.Principal) error {
	if pr == nil || pr.Person == nil || pr.Organisation == nil || !pr.Person.HandlesIncidents {
		return kyoyu.Errorf(kyoyu.EFORBIDDEN, "stix.import_needs_incident_handler")
	}
	return nil
}

// preparedImport is a parsed bundle ready to store: its account and the
// objects that are new.
type preparedImport struct {
	bundleID string
	plan     *stix.Plan
	acc      *stix.Account
	objects  []store.STIXObject
	sectors  []string // the item's sectors
}

// prepareSTIX plans a parsed bundle's import and finds what is new to the
// organisation; it stores nothing.
func (s *Service) prepareSTIX(ctx context.Context, pr *account.Principal, b *stix.ParsedBundle, rng policy.TLP) (*preparedImport, error) {
	plan, err := stix.PlanImport(b, stix.ImportOptions{Range: rng})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, o := range b.Objects {
		ids = append(ids, o.ID)
	}
	slices.Sort(ids)
	held, err := s.DB.HeldSTIXVersions(ctx, pr.Organisation.ID, b.ID, slices.Compact(ids))
	if err != nil {
		return nil, err
	}
	// Importing a bundle again skips what the organisation already shares
	// from it at least as widely; a wider range stores it anew.
	skipped := map[int]string{}
	var objects []store.STIXObject
	for _, o := range b.Objects {
		if i := slices.IndexFunc(held[o.ID+" "+o.Version()], func(h store.HeldSTIX) bool { return !policy.Widens(h.TLP, plan.TLP) }); i >= 0 {
			skipped[o.Index] = fmt.Sprintf("already imported by your organisation from this bundle (item %d)", held[o.ID+" "+o.Version()][i].ItemID)
			continue
		}
		objects = append(objects, store.STIXObject{ID: o.ID, Type: o.Type, SpecVersion: o.SpecVersion,
			Created: o.Created, Modified: o.Version(), JSON: o.Raw})
	}
	// Standard TLP definitions alone are nothing new: everyone has them.
	if !slices.ContainsFunc(objects, func(o store.STIXObject) bool { _, tlp := stix.KnownMarking(o.ID); return !tlp }) {
		for _, o := range b.Objects {
			if _, done := skipped[o.Index]; !done {
				skipped[o.Index] = "a standard TLP marking, and nothing else in the bundle is new"
			}
		}
		objects = nil
	}
	acc := stix.NewAccount(plan, skipped)
	if len(objects) == 0 {
		acc.Notes = append(acc.Notes, "nothing new: every object was already imported by your organisation; nothing was stored")
	}
	return &preparedImport{bundleID: b.ID, plan: plan, acc: acc, objects: objects,
		sectors: importSectors(pr.Organisation.Sectors, stix.AdvisorySectors(b))}, nil
}

// storeSTIX stores prepared imports, each as one shared item of the
// importer's organisation held by NISC, all in one transaction.
func (s *Service) storeSTIX(ctx context.Context, pr *account.Principal, ip string, preps []*preparedImport, source, via string, progress func(done, total int)) ([]int64, error) {
	nisc, err := s.DB.OrganisationByCode(ctx, "nisc")
	if err != nil {
		return nil, err
	}
	var imps []store.STIXImport
	for _, p := range preps {
		raw, err := json.Marshal(p.acc)
		if err != nil {
			return nil, err
		}
		item := policy.Item{Kind: policy.Report, TLP: p.plan.TLP, Originator: pr.Organisation.ID, Shared: true,
			Holders: []int64{nisc.ID}, Sectors: p.sectors}
		imps = append(imps, store.STIXImport{Item: item, BundleID: p.bundleID, PersonID: pr.Person.ID,
			Source: source, Via: via, Objects: p.objects, Account: raw, Progress: progress})
	}
	return s.DB.ImportSTIXBatch(ctx, pr.Actor(ip), imps)
}

// STIXObjects lists the imported objects the person may see (the store
// filters by the sharing-range rule), each labelled with the range it is
// shared under, and audits reads of RED and AMBER items.
func (s *Service) STIXObjects(ctx context.Context, pr *account.Principal, ip string, f store.STIXFilter, tlpVer int) (*store.STIXPage, error) {
	tv, err := tlpVersion(tlpVer)
	if err != nil {
		return nil, err
	}
	page, err := s.DB.STIXObjects(ctx, viewer(pr), f)
	if err != nil {
		return nil, err
	}
	read := map[int64]bool{}
	for i, o := range page.Objects {
		if page.Objects[i].JSON, err = stix.Relabel(o.JSON, o.TLP, tv); err != nil {
			return nil, err
		}
		if !read[o.ItemID] {
			read[o.ItemID] = true
			if err := s.auditRead(ctx, pr, ip, "stix.read", "item", o.ItemID, string(o.TLP)); err != nil {
				return nil, err
			}
		}
	}
	return page, nil
}

// ExportImportedSTIX gives back an imported bundle as the person may see
// it: every version of its objects, labelled with the range it is shared
// under. An item the person may not see is not found.
func (s *Service) ExportImportedSTIX(ctx context.Context, pr *account.Principal, ip string, itemID int64, tlpVer int) (*stix.Bundle, error) {
	b, _, err := s.exportImported(ctx, pr, ip, itemID, tlpVer)
	return b, err
}

func (s *Service) exportImported(ctx context.Context, pr *account.Principal, ip string, itemID int64, tlpVer int) (*stix.Bundle, policy.TLP, error) {
	tv, err := tlpVersion(tlpVer)
	if err != nil {
		return nil, "", err
	}
	v := viewer(pr)
	rec, err := s.DB.STIXImport(ctx, v, itemID)
	if err != nil {
		return nil, "", err
	}
	var raws []json.RawMessage
	f := store.STIXFilter{ItemID: itemID, Versions: []string{"all"}, Limit: 1000}
	for {
		page, err := s.DB.STIXObjects(ctx, v, f)
		if err != nil {
			return nil, "", err
		}
		for _, o := range page.Objects {
			raws = append(raws, o.JSON)
		}
		if !page.More {
			break
		}
		f.After = page.Next
	}
	b, err := stix.ExportStored(raws, rec.TLP, tv)
	if err != nil {
		return nil, "", err
	}
	if err := s.auditRead(ctx, pr, ip, "stix.read", "item", itemID, string(rec.TLP)); err != nil {
		return nil, "", err
	}
	return b, rec.TLP, nil
}

// STIXImportAccount returns the account of an imported bundle, if the
// person may see it (what a TAXII status resource answers).
func (s *Service) STIXImportAccount(ctx context.Context, pr *account.Principal, itemID int64) (*stix.Account, error) {
	rec, err := s.DB.STIXImport(ctx, viewer(pr), itemID)
	if err != nil {
		return nil, err
	}
	var acc stix.Account
	if err := json.Unmarshal(rec.Account, &acc); err != nil {
		return nil, fmt.Errorf("stix import %d: account: %w", itemID, err)
	}
	acc.ItemID = rec.ItemID
	return &acc, nil
}

// importSectors are the sectors an imported item concerns: the importer's,
// narrowed to the recipient sectors of an advisory the bundle carries (an
// advisory's export imported again never reaches sectors it was not issued
// for); never widened.
func importSectors(importer, advisory []string) []string {
	var both []string
	for _, s := range importer {
		if slices.Contains(advisory, s) {
			both = append(both, s)
		}
	}
	if len(both) == 0 {
		return importer
	}
	return both
}
