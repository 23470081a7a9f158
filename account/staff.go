package account

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"kyoyu"
	"kyoyu/audit"
	"kyoyu/store"
)

// roleForKind is the working role each kind of organisation has; kinds
// without one (agencies, vendors …) can only have administrators until
// their flows exist.
var roleForKind = map[kyoyu.OrgKind]kyoyu.Role{
	kyoyu.KindNISC:             kyoyu.RoleNISCAnalyst,
	kyoyu.KindMinistry:         kyoyu.RoleMinistryLiaison,
	kyoyu.KindSecurityMinistry: kyoyu.RoleMinistryLiaison,
	kyoyu.KindResponseMinistry: kyoyu.RoleMinistryLiaison,
	kyoyu.KindDisasterMinistry: kyoyu.RoleMinistryLiaison,
	kyoyu.KindCEPTOAR:          kyoyu.RoleCEPTOARSecretariat,
	kyoyu.KindOperator:         kyoyu.RoleOperatorReporter,
}

// AllowedRoles returns the roles someone with actorRole may give to staff
// of org, in the order forms show them: the working role of each of the
// organisation's kinds and org_admin; system_admin only inside NISC and
// only from a system admin. Anyone else may give no role at all.
func AllowedRoles(actorRole kyoyu.Role, org *kyoyu.Organisation) []kyoyu.Role {
	if org == nil || (actorRole != kyoyu.RoleOrgAdmin && actorRole != kyoyu.RoleSystemAdmin) {
		return nil
	}
	ok := map[kyoyu.Role]bool{kyoyu.RoleOrgAdmin: true}
	for _, k := range org.Kinds {
		if r, found := roleForKind[k]; found {
			ok[r] = true
		}
	}
	if actorRole == kyoyu.RoleSystemAdmin && org.Has(kyoyu.KindNISC) {
		ok[kyoyu.RoleSystemAdmin] = true
	}
	var out []kyoyu.Role
	for _, r := range kyoyu.Roles {
		if ok[r] {
			out = append(out, r)
		}
	}
	return out
}

// CanManageStaff reports whether pr may open the staff pages at all.
func CanManageStaff(pr *Principal) bool {
	return pr != nil && (pr.Person.Role == kyoyu.RoleOrgAdmin || pr.Person.Role == kyoyu.RoleSystemAdmin)
}

// canManage reports whether pr may manage people of organisation orgID.
func canManage(pr *Principal, orgID int64) bool {
	if pr == nil {
		return false
	}
	switch pr.Person.Role {
	case kyoyu.RoleSystemAdmin:
		return true
	case kyoyu.RoleOrgAdmin:
		return pr.Organisation != nil && pr.Organisation.ID == orgID
	}
	return false
}

// errStaffNotFound answers every request about staff the caller may not
// manage, so the answer never confirms that a person or organisation exists.
var errStaffNotFound = &kyoyu.Error{Code: kyoyu.ENOTFOUND, Message: "error.not_found"}

// Staff lists the people pr manages: their own organisation's for an org
// admin, everyone's for a system admin (of one organisation when orgID is
// not 0).
func (s *Service) Staff(ctx context.Context, pr *Principal, orgID int64) ([]*kyoyu.Person, error) {
	if !CanManageStaff(pr) {
		return nil, errStaffNotFound
	}
	if pr.Person.Role != kyoyu.RoleSystemAdmin {
		orgID = pr.Organisation.ID
	}
	return s.DB.People(ctx, orgID)
}

// NewStaff is the add-staff form.
type NewStaff struct {
	OrganisationID   int64
	Email            string
	Name             string
	Role             kyoyu.Role
	HandlesIncidents bool
	Password         string // empty: generate one
}

// AddStaff creates an account in an organisation the caller manages and
// returns it with its initial password (generated when none was given),
// to be shown once. Field problems come back together as one EINVALID.
func (s *Service) AddStaff(ctx context.Context, pr *Principal, in NewStaff, ip string) (*kyoyu.Person, string, error) {
	if !canManage(pr, in.OrganisationID) {
		return nil, "", s.refuse(ctx, pr, ip, "staff.add", "organisation", fmt.Sprint(in.OrganisationID))
	}
	org, err := s.DB.Organisation(ctx, in.OrganisationID)
	if errors.Is(err, kyoyu.ErrNotFound) {
		return nil, "", errStaffNotFound
	} else if err != nil {
		return nil, "", err
	}
	fields := map[string]string{}
	email := store.NormaliseEmail(in.Email)
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || !strings.Contains(email[strings.LastIndex(email, "@"):], ".") {
		fields["email"] = "invalid_email"
	}
	if strings.TrimSpace(in.Name) == "" {
		fields["name"] = "required"
	}
	allowed := false
	for _, r := range AllowedRoles(pr.Person.Role, org) {
		allowed = allowed || r == in.Role
	}
	if !allowed {
		fields["role"] = "role_not_allowed"
	}
	password := in.Password
	if password == "" {
		password = GeneratePassword()
	} else if len([]rune(password)) < MinPasswordLength {
		fields["password"] = "too_short"
	}
	if len(fields) > 0 {
		return nil, "", &kyoyu.Error{Code: kyoyu.EINVALID, Message: "staff.invalid", Fields: fields}
	}
	hash, err := s.Argon2.HashPassword(password)
	if err != nil {
		return nil, "", fmt.Errorf("add staff: %w", err)
	}
	p := &kyoyu.Person{OrganisationID: org.ID, Email: email, Name: strings.TrimSpace(in.Name), Role: in.Role,
		HandlesIncidents: in.HandlesIncidents, PasswordHash: hash}
	if err := s.DB.CreatePerson(ctx, pr.Actor(ip), p); err != nil {
		return nil, "", err
	}
	return p, password, nil
}

// managed loads a person pr may manage, or refuses (audited) as not found.
// Org admins may not touch system admins, who sit above them.
func (s *Service) managed(ctx context.Context, pr *Principal, personID int64, ip, action string) (*kyoyu.Person, error) {
	p, err := s.DB.Person(ctx, personID)
	if err != nil && !errors.Is(err, kyoyu.ErrNotFound) {
		return nil, err
	}
	if err != nil || !canManage(pr, p.OrganisationID) ||
		(p.Role == kyoyu.RoleSystemAdmin && pr.Person.Role != kyoyu.RoleSystemAdmin) {
		return nil, s.refuse(ctx, pr, ip, action, "person", fmt.Sprint(personID))
	}
	return p, nil
}

// RemoveStaff takes a person out of service: no sign-in, sessions ended,
// tokens revoked. Nobody removes themselves, so an organisation cannot
// lose its last administrator by a slip.
func (s *Service) RemoveStaff(ctx context.Context, pr *Principal, personID int64, ip string) error {
	p, err := s.managed(ctx, pr, personID, ip, "staff.remove")
	if err != nil {
		return err
	}
	if p.ID == pr.Person.ID {
		return &kyoyu.Error{Code: kyoyu.EINVALID, Message: "staff.cannot_remove_self"}
	}
	if p.DisabledAt != nil {
		return nil
	}
	return s.DB.DisablePerson(ctx, pr.Actor(ip), p.ID)
}

// SetHandlesIncidents marks whether a person is 事案情報取扱者 (need to
// know), which AMBER material requires.
func (s *Service) SetHandlesIncidents(ctx context.Context, pr *Principal, personID int64, on bool, ip string) error {
	p, err := s.managed(ctx, pr, personID, ip, "staff.set_handles_incidents")
	if err != nil {
		return err
	}
	if p.HandlesIncidents == on {
		return nil
	}
	return s.DB.SetHandlesIncidents(ctx, pr.Actor(ip), p.ID, on)
}

// refuse audits a refused staff action and returns the not-found answer.
func (s *Service) refuse(ctx context.Context, pr *Principal, ip, action, objType, objID string) error {
	e := store.EntryFor(pr.Actor(ip), action, objType, objID, audit.Denied, "not permitted")
	if err := s.DB.Audit(ctx, e); err != nil {
		return err
	}
	return errStaffNotFound
}
