package account_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/demo"
	"kyoyu/directory"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

var fast = account.Argon2{Memory: 1024, Time: 1, Threads: 1}

func TestAllowedRoles(t *testing.T) {
	op := &kyoyu.Organisation{Kinds: []kyoyu.OrgKind{kyoyu.KindOperator}}
	cep := &kyoyu.Organisation{Kinds: []kyoyu.OrgKind{kyoyu.KindCEPTOAR}}
	min := &kyoyu.Organisation{Kinds: []kyoyu.OrgKind{kyoyu.KindMinistry, kyoyu.KindSecurityMinistry}}
	nisc := &kyoyu.Organisation{Kinds: []kyoyu.OrgKind{kyoyu.KindNISC}}
	agency := &kyoyu.Organisation{Kinds: []kyoyu.OrgKind{kyoyu.KindSecurityAgency}}
	both := &kyoyu.Organisation{Kinds: []kyoyu.OrgKind{kyoyu.KindOperator, kyoyu.KindCEPTOAR}}
	R := func(rs ...kyoyu.Role) []kyoyu.Role { return rs }
	for _, c := range []struct {
		name  string
		actor kyoyu.Role
		org   *kyoyu.Organisation
		want  []kyoyu.Role
	}{
		{"operator", kyoyu.RoleOrgAdmin, op, R(kyoyu.RoleOperatorReporter, kyoyu.RoleOrgAdmin)},
		{"ceptoar", kyoyu.RoleOrgAdmin, cep, R(kyoyu.RoleCEPTOARSecretariat, kyoyu.RoleOrgAdmin)},
		{"ministry", kyoyu.RoleOrgAdmin, min, R(kyoyu.RoleMinistryLiaison, kyoyu.RoleOrgAdmin)},
		{"nisc by org admin", kyoyu.RoleOrgAdmin, nisc, R(kyoyu.RoleNISCAnalyst, kyoyu.RoleOrgAdmin)},
		{"nisc by system admin", kyoyu.RoleSystemAdmin, nisc, R(kyoyu.RoleNISCAnalyst, kyoyu.RoleOrgAdmin, kyoyu.RoleSystemAdmin)},
		{"operator by system admin", kyoyu.RoleSystemAdmin, op, R(kyoyu.RoleOperatorReporter, kyoyu.RoleOrgAdmin)},
		{"agency has only admins", kyoyu.RoleOrgAdmin, agency, R(kyoyu.RoleOrgAdmin)},
		{"several kinds", kyoyu.RoleOrgAdmin, both, R(kyoyu.RoleCEPTOARSecretariat, kyoyu.RoleOperatorReporter, kyoyu.RoleOrgAdmin)},
		{"reporter may give none", kyoyu.RoleOperatorReporter, op, nil},
		{"analyst may give none", kyoyu.RoleNISCAnalyst, nisc, nil},
		{"no organisation", kyoyu.RoleSystemAdmin, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := account.AllowedRoles(c.actor, c.org); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("AllowedRoles(%s) = %v, want %v", c.actor, got, c.want)
			}
		})
	}
}

// community loads the directory and the demo accounts and returns the
// service and a principal maker.
func community(t *testing.T, db *store.DB) (*account.Service, func(email string) *account.Principal) {
	t.Helper()
	ctx := context.Background()
	if err := directory.LoadBase(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, db, fast); err != nil {
		t.Fatal(err)
	}
	svc := account.New(db, kyoyu.Config{SessionTTL: 8 * time.Hour})
	svc.Argon2 = fast
	return svc, func(email string) *account.Principal {
		t.Helper()
		p, err := db.PersonByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		org, err := db.Organisation(ctx, p.OrganisationID)
		if err != nil {
			t.Fatal(err)
		}
		return &account.Principal{Person: p, Organisation: org}
	}
}

func fieldsOf(err error) map[string]string {
	var ke *kyoyu.Error
	if errors.As(err, &ke) {
		return ke.Fields
	}
	return nil
}

func TestAddStaff(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, who := community(t, db)
		admin := who("admin@operator.demo.kyoyu.jp")
		sys := who("sysadmin@nisc.demo.kyoyu.jp")
		reporter := who("reporter@operator.demo.kyoyu.jp")
		nisc, err := db.OrganisationByCode(ctx, "nisc")
		if err != nil {
			t.Fatal(err)
		}

		p, pw, err := svc.AddStaff(ctx, admin, account.NewStaff{OrganisationID: admin.Organisation.ID,
			Email: " New.Person@Operator.demo.kyoyu.jp ", Name: "新 職員", Role: kyoyu.RoleOperatorReporter, HandlesIncidents: true}, "192.0.2.1")
		if err != nil {
			t.Fatalf("org admin adds a reporter: %v", err)
		}
		if p.Email != "new.person@operator.demo.kyoyu.jp" || p.OrganisationID != admin.Organisation.ID || !p.HandlesIncidents {
			t.Fatalf("created %+v", p)
		}
		if len(pw) < account.MinPasswordLength {
			t.Fatalf("generated password %q too short", pw)
		}
		if _, err := svc.SignIn(ctx, p.Email, pw, "192.0.2.1"); err != nil {
			t.Fatalf("the new account cannot sign in with its generated password: %v", err)
		}
		entries, err := db.AuditEntries(ctx, store.AuditFilter{Action: "person.create", PersonID: admin.Person.ID})
		if err != nil || len(entries) != 1 {
			t.Fatalf("person.create by the admin: %d entries, %v", len(entries), err)
		}

		// Field problems come back together.
		_, _, err = svc.AddStaff(ctx, admin, account.NewStaff{OrganisationID: admin.Organisation.ID,
			Email: "not-an-address", Name: " ", Role: kyoyu.RoleNISCAnalyst, Password: "short"}, "")
		want := map[string]string{"email": "invalid_email", "name": "required", "role": "role_not_allowed", "password": "too_short"}
		if kyoyu.ErrorCode(err) != kyoyu.EINVALID || !reflect.DeepEqual(fieldsOf(err), want) {
			t.Fatalf("bad form: %v %v", err, fieldsOf(err))
		}
		// A taken address is a conflict on the e-mail field.
		_, _, err = svc.AddStaff(ctx, admin, account.NewStaff{OrganisationID: admin.Organisation.ID,
			Email: "reporter@operator.demo.kyoyu.jp", Name: "重複", Role: kyoyu.RoleOperatorReporter}, "")
		if kyoyu.ErrorCode(err) != kyoyu.ECONFLICT || fieldsOf(err)["email"] != "taken" {
			t.Fatalf("duplicate e-mail: %v", err)
		}
		// An org admin cannot add to another organisation, nor can a reporter add at all.
		for _, c := range []struct {
			pr  *account.Principal
			org int64
		}{{admin, nisc.ID}, {reporter, reporter.Organisation.ID}, {admin, 999999}} {
			_, _, err = svc.AddStaff(ctx, c.pr, account.NewStaff{OrganisationID: c.org, Email: "x@nisc.demo.kyoyu.jp", Name: "x", Role: kyoyu.RoleOrgAdmin}, "")
			if kyoyu.ErrorCode(err) != kyoyu.ENOTFOUND {
				t.Fatalf("%s adding to organisation %d: %v, want not found", c.pr.Person.Email, c.org, err)
			}
		}
		if _, err := db.PersonByEmail(ctx, "x@nisc.demo.kyoyu.jp"); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("a refused add created the account: %v", err)
		}
		denied, _ := db.AuditEntries(ctx, store.AuditFilter{Action: "staff.add"})
		if len(denied) != 3 {
			t.Fatalf("refusals audited: %d, want 3", len(denied))
		}
		// A system admin may add anywhere, system admins only in NISC.
		if _, _, err := svc.AddStaff(ctx, sys, account.NewStaff{OrganisationID: nisc.ID, Email: "root2@nisc.demo.kyoyu.jp", Name: "二人目",
			Role: kyoyu.RoleSystemAdmin, Password: "a-long-enough-password"}, ""); err != nil {
			t.Fatalf("system admin adds a system admin to NISC: %v", err)
		}
		_, _, err = svc.AddStaff(ctx, sys, account.NewStaff{OrganisationID: admin.Organisation.ID, Email: "root3@operator.demo.kyoyu.jp", Name: "x", Role: kyoyu.RoleSystemAdmin}, "")
		if fieldsOf(err)["role"] != "role_not_allowed" {
			t.Fatalf("system admin in an operator: %v", err)
		}
	})
}

func TestRemoveAndHandles(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, who := community(t, db)
		admin := who("admin@operator.demo.kyoyu.jp")
		reporter := who("reporter@operator.demo.kyoyu.jp")
		analyst := who("analyst@nisc.demo.kyoyu.jp")
		sys := who("sysadmin@nisc.demo.kyoyu.jp")

		if err := svc.SetHandlesIncidents(ctx, admin, reporter.Person.ID, false, ""); err != nil {
			t.Fatal(err)
		}
		if p, _ := db.Person(ctx, reporter.Person.ID); p.HandlesIncidents {
			t.Fatal("handles_incidents still set")
		}
		// Someone in another organisation is "not found", and unchanged.
		if err := svc.SetHandlesIncidents(ctx, admin, analyst.Person.ID, false, ""); kyoyu.ErrorCode(err) != kyoyu.ENOTFOUND {
			t.Fatalf("org admin on another organisation's person: %v", err)
		}
		if p, _ := db.Person(ctx, analyst.Person.ID); !p.HandlesIncidents {
			t.Fatal("another organisation's person was changed")
		}
		if err := svc.RemoveStaff(ctx, admin, 999999, ""); kyoyu.ErrorCode(err) != kyoyu.ENOTFOUND {
			t.Fatalf("unknown person: %v", err)
		}
		if err := svc.RemoveStaff(ctx, reporter, admin.Person.ID, ""); kyoyu.ErrorCode(err) != kyoyu.ENOTFOUND {
			t.Fatalf("reporter removing: %v", err)
		}
		if err := svc.RemoveStaff(ctx, admin, admin.Person.ID, ""); kyoyu.ErrorCode(err) != kyoyu.EINVALID {
			t.Fatalf("removing oneself: %v", err)
		}

		secret, _, err := svc.CreateToken(ctx, reporter.Actor(""), reporter.Person.ID, "ci")
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.RemoveStaff(ctx, admin, reporter.Person.ID, "192.0.2.7"); err != nil {
			t.Fatal(err)
		}
		if p, _ := db.Person(ctx, reporter.Person.ID); p.DisabledAt == nil {
			t.Fatal("not disabled")
		}
		if _, err := svc.AuthenticateToken(ctx, secret, ""); kyoyu.ErrorCode(err) != kyoyu.EUNAUTHORIZED {
			t.Fatalf("token of a removed person: %v", err)
		}
		if _, err := svc.SignIn(ctx, reporter.Person.Email, demo.Password, ""); kyoyu.ErrorCode(err) != kyoyu.EUNAUTHORIZED {
			t.Fatalf("sign-in of a removed person: %v", err)
		}
		e, _ := db.AuditEntries(ctx, store.AuditFilter{Action: "person.disable"})
		if len(e) != 1 || e[0].PersonID != admin.Person.ID || e[0].IP != "192.0.2.7" {
			t.Fatalf("person.disable audit: %+v", e)
		}
		// The system admin manages anyone; the list follows the role.
		if err := svc.SetHandlesIncidents(ctx, sys, analyst.Person.ID, false, ""); err != nil {
			t.Fatal(err)
		}
		all, _ := svc.Staff(ctx, sys, 0)
		own, _ := svc.Staff(ctx, admin, 0)
		if len(all) != len(demo.Accounts) || len(own) != 2 {
			t.Fatalf("staff lists: system admin %d, org admin %d", len(all), len(own))
		}
		if _, err := svc.Staff(ctx, analyst, 0); kyoyu.ErrorCode(err) != kyoyu.ENOTFOUND {
			t.Fatalf("analyst listing staff: %v", err)
		}
	})
}
