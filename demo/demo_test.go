package demo_test

import (
	"context"
	"testing"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/demo"
	"kyoyu/directory"
	"kyoyu/internal/testkit"
	"kyoyu/policy"
	"kyoyu/store"
)

// The demo loads on both databases, and its reports reach NISC on every route.
func TestDemoLoads(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := directory.LoadBase(ctx, db); err != nil {
			t.Fatal(err)
		}
		fast := account.Argon2{Memory: 1024, Time: 1, Threads: 1}
		accounts, err := demo.Load(ctx, db, fast)
		if err != nil || len(accounts) != len(kyoyu.Roles) {
			t.Fatalf("accounts %v %v", accounts, err)
		}
		if err := demo.LoadCases(ctx, db, kyoyu.Config{}, fast); err != nil {
			t.Fatal(err)
		}
		p, _ := db.PersonByEmail(ctx, "analyst@nisc.demo.kyoyu.jp")
		o, _ := db.Organisation(ctx, p.OrganisationID)
		page, err := db.ListCases(ctx, policy.ViewerOf(p, o), store.CaseFilter{})
		if err != nil || page.Total != 3 {
			t.Fatalf("NISC sees %v cases (%v)", page, err)
		}
		again, err := demo.Load(ctx, db, fast)
		if err != nil || again != nil {
			t.Fatalf("second load: %v %v", again, err)
		}
	})
}
