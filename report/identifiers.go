package report

import (
	"context"

	"kyoyu"
	"kyoyu/account"
)

// Identifiers returns what identifies the operator behind a secretariat's
// draft: exactly what Submit checks before the draft may leave, so the
// anonymisation page flags the same strings that block sending. Only the
// secretariat writing the draft may ask; for anyone else it is not found,
// since the answer names the source.
func (s *Service) Identifiers(ctx context.Context, pr *account.Principal, versionID int64) (Identifiers, error) {
	v := viewer(pr)
	ver, err := s.DB.Version(ctx, v, versionID)
	if err != nil {
		return Identifiers{}, err
	}
	if ver.Status != kyoyu.VersionDraft || ver.OrgID != pr.Organisation.ID || ver.Stage != kyoyu.StageSecretariat {
		return Identifiers{}, notFound("draft")
	}
	ref, err := s.DB.CaseRef(ctx, ver.CaseID)
	if err != nil {
		return Identifiers{}, err
	}
	ids, err := s.identifiers(ctx, ref)
	if err != nil {
		return Identifiers{}, err
	}
	received, err := s.received(ctx, v, ver)
	if err != nil {
		return Identifiers{}, err
	}
	if received != nil {
		ids = ids.withContact(received.Form.Reporter)
	}
	return ids, nil
}
