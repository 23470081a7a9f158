package store_test

import (
	"context"
	"testing"

	"kyoyu/account"
	"kyoyu/bench"
	"kyoyu/demo"
	"kyoyu/gen"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

// A list's total stops at store.TotalBound unless an exact count is asked
// for, and says so; below the bound it is exact either way. Both are held
// to a walk of every page, which is what the viewer can actually read.
func TestListTotalBound(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		argon := account.Argon2{Memory: 1024, Time: 1, Threads: 1}
		if err := gen.PrepareDirectory(ctx, db); err != nil {
			t.Fatal(err)
		}
		if _, err := demo.Load(ctx, db, argon); err != nil {
			t.Fatal(err)
		}
		hash, err := argon.HashPassword(demo.Password)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gen.Generate(ctx, db, gen.Options{Seed: 5, Orgs: 120, People: 240, Reports: store.TotalBound + 300, PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{bench.NISCAnalyst, bench.Operator} {
			v, err := bench.Viewer(ctx, db, who)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []store.CaseFilter{{}, {Sector: "electricity"}, {Query: "侵入"}} {
				walked := 0
				page := f
				page.Limit = 200
				for {
					p, err := db.ListCases(ctx, v, page)
					if err != nil {
						t.Fatal(err)
					}
					walked += len(p.Cases)
					if p.NextAt == nil {
						break
					}
					page.BeforeAt, page.BeforeID = p.NextAt, p.NextID
				}
				bounded, err := db.ListCases(ctx, v, f)
				if err != nil {
					t.Fatal(err)
				}
				exact := f
				exact.ExactTotal = true
				counted, err := db.ListCases(ctx, v, exact)
				if err != nil {
					t.Fatal(err)
				}
				if counted.Total != walked || counted.TotalCapped {
					t.Errorf("%s %+v: exact total %d (capped %v), pages hold %d", who, f, counted.Total, counted.TotalCapped, walked)
				}
				wantCapped := walked >= store.TotalBound
				want := min(walked, store.TotalBound)
				if bounded.Total != want || bounded.TotalCapped != wantCapped {
					t.Errorf("%s %+v: bounded total %d (capped %v), want %d (capped %v) of %d", who, f, bounded.Total, bounded.TotalCapped, want, wantCapped, walked)
				}
			}
		}
	})
}
