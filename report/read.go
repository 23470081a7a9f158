package report

import (
	"context"
	"fmt"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/audit"
	"kyoyu/policy"
	"kyoyu/store"
)

// Open returns a case for reading, as the principal may see it, and
// records every read of RED or AMBER material in the audit log. Pages and
// API answers that show a case's content open it here.
func (s *Service) Open(ctx context.Context, pr *account.Principal, ip string, caseID int64) (*kyoyu.Case, policy.Decision, error) {
	c, d, err := s.DB.Case(ctx, viewer(pr), caseID)
	if err != nil {
		return nil, d, err
	}
	if err := s.auditRead(ctx, pr, ip, "case.read", "case", caseID, c.TLP); err != nil {
		return nil, d, err
	}
	return c, d, nil
}

// OpenVersion returns one version for reading and audits RED and AMBER reads.
func (s *Service) OpenVersion(ctx context.Context, pr *account.Principal, ip string, versionID int64) (*kyoyu.ReportVersion, error) {
	v, err := s.DB.Version(ctx, viewer(pr), versionID)
	if err != nil {
		return nil, err
	}
	if err := s.auditRead(ctx, pr, ip, "report.read", "report_version", versionID, v.Form.TLP); err != nil {
		return nil, err
	}
	return v, nil
}

// auditRead records a read of RED or AMBER material (GREEN and WHITE
// reads are not recorded: they are meant to travel).
func (s *Service) auditRead(ctx context.Context, pr *account.Principal, ip, action, objType string, id int64, tlp string) error {
	if tlp != string(policy.Red) && tlp != string(policy.Amber) {
		return nil
	}
	e := store.EntryFor(pr.Actor(ip), action, objType, fmt.Sprint(id), audit.OK, "tlp="+tlp)
	return s.DB.Audit(ctx, e)
}
