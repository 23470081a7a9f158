package report

import (
	"context"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/misp"
	"kyoyu/policy"
	"kyoyu/stix"
)

// MISPImportOptions are a MISP import's settings.
type MISPImportOptions struct {
	// Range may narrow the range the events' distribution and tags give,
	// never widen it; it is required for an event that gives none.
	Range  policy.TLP
	Via    string // api, cli or ui: how the file came, kept in the audit entry
	Limits misp.Limits
	// Progress, if set, is told how far the import is: events converted,
	// then objects stored.
	Progress func(stage string, done, total int)
}

// ImportMISP stores the events of a MISP file, each as one shared item of
// the importer's organisation (like a STIX bundle: the event becomes STIX
// objects, see misp.ToSTIX), under the narrowest range its distribution,
// its tlp: tags and those of its attributes give (misp.Range). The whole
// file is refused if anything is wrong with any event, and its events are
// stored in one transaction: nothing is half imported. Events the
// organisation already holds unchanged are not stored again.
func (s *Service) ImportMISP(ctx context.Context, pr *account.Principal, ip string, data []byte, opt MISPImportOptions) (*misp.Account, error) {
	if err := mayImport(pr); err != nil {
		return nil, err
	}
	evs, err := misp.Parse(data, opt.Limits)
	if err != nil {
		return nil, err
	}
	acc := &misp.Account{Events: []*misp.EventAccount{}}
	var preps []*preparedImport
	var stored []*misp.EventAccount
	for n, ev := range evs {
		if opt.Progress != nil {
			opt.Progress("converting", n, len(evs))
		}
		plan, err := misp.Range(ev, opt.Range)
		if err != nil {
			return nil, err
		}
		conv, err := misp.ToSTIX(ev, plan)
		if err != nil {
			return nil, err
		}
		b, err := stix.Parse(conv.Bundle, stix.Limits{})
		if err != nil {
			// Our own conversion must always parse; if it does not, the
			// event is refused rather than stored half.
			return nil, kyoyu.Errorf(kyoyu.EINVALID, "event %s could not be converted: %v", ev.UUID, err)
		}
		prep, err := s.prepareSTIX(ctx, pr, b, plan.TLP)
		if err != nil {
			return nil, err
		}
		ea := misp.NewEventAccount(ev, plan, conv, prep.acc)
		acc.Events = append(acc.Events, ea)
		if len(prep.objects) == 0 {
			acc.Unchanged++
			ea.Notes = append(ea.Notes, "nothing new: your organisation already holds this event as it is; nothing was stored")
			continue
		}
		prep.acc.Notes = append(prep.acc.Notes, "from MISP event "+ev.UUID)
		preps = append(preps, prep)
		stored = append(stored, ea)
	}
	if len(preps) == 0 {
		return acc, nil
	}
	var progress func(done, total int)
	if opt.Progress != nil {
		progress = func(done, total int) { opt.Progress("storing", done, total) }
	}
	ids, err := s.storeSTIX(ctx, pr, ip, preps, "misp", opt.Via, progress)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		stored[i].ItemID, stored[i].STIX.ItemID = id, id
	}
	acc.Stored = len(ids)
	return acc, nil
}

// ExportCaseMISP exports a case as a MISP event, as the person may see it:
// it is the case's STIX export (so the sharing range decides everything
// in it, and the operator is named only to those who may know the source)
// given in MISP's format, with the distribution and tlp: tag of the range.
func (s *Service) ExportCaseMISP(ctx context.Context, pr *account.Principal, ip string, caseID int64, versionID int64) (*misp.Event, error) {
	b, tlp, err := s.exportCaseSTIX(ctx, pr, ip, caseID, STIXExportOptions{VersionID: versionID, TLPVersion: 1}, "case.export_misp")
	if err != nil {
		return nil, err
	}
	return misp.FromSTIX(b.Objects, tlp)
}

// ExportImportedMISP gives an imported item back as a MISP event, under
// the range it is shared under. An item the person may not see is not
// found.
func (s *Service) ExportImportedMISP(ctx context.Context, pr *account.Principal, ip string, itemID int64) (*misp.Event, error) {
	b, tlp, err := s.exportImported(ctx, pr, ip, itemID, 1)
	if err != nil {
		return nil, err
	}
	return misp.FromSTIX(b.Objects, tlp)
}
