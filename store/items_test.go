package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"kyoyu"
	"kyoyu/directory"
	"kyoyu/internal/testkit"
	"kyoyu/policy"
	"kyoyu/store"
)

// TestWhereMatchesDecide holds the SQL condition of policy.Where to the pure
// rule policy.Decide on random organisations, people and items, on each
// database: lists filtered in the query must be exactly what the rule allows.
func TestWhereMatchesDecide(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := directory.LoadBase(ctx, db); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(42, 7))
		orgs := randomOrganisations(t, ctx, db, rng)
		var ids []int64
		for _, o := range orgs {
			ids = append(ids, o.ID)
		}
		items := map[int64]policy.Item{}
		for range 400 {
			it := RandomItem(rng, ids, testSectors)
			id, err := db.CreateItem(ctx, it)
			if err != nil {
				t.Fatal(err)
			}
			items[id] = it
		}
		viewers := []policy.Viewer{policy.Anonymous}
		for _, o := range orgs {
			for _, ntk := range []bool{true, false} {
				viewers = append(viewers, policy.ViewerOf(&kyoyu.Person{ID: 1, HandlesIncidents: ntk}, o))
			}
		}
		for _, v := range viewers {
			got, err := db.VisibleItemIDs(ctx, v, "")
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for id, it := range items {
				if policy.Decide(v, it).See {
					want = append(want, id)
				}
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("viewer %+v:\n SQL sees  %v\n rule sees %v", v, got, want)
			}
			// Detail access, and whether the source shows, for a sample.
			for _, id := range got[:min(len(got), 15)] {
				d, err := db.ItemAccess(ctx, v, id)
				if err != nil {
					t.Fatal(err)
				}
				if want := policy.Decide(v, items[id]); d != want {
					t.Fatalf("viewer %+v item %d: SQL %+v, rule %+v", v, id, d, want)
				}
			}
		}
	})
}

var testSectors = []string{"electricity", "gas", "finance", "water"}

// randomOrganisations makes organisations of every kind, in a few sectors,
// some CEPTOAR members and some not.
func randomOrganisations(t *testing.T, ctx context.Context, db *store.DB, rng *rand.Rand) []*kyoyu.Organisation {
	t.Helper()
	ceptoarOf := map[string]string{"electricity": "electricity_ceptoar", "gas": "gas_ceptoar", "finance": "bank_ceptoar", "water": "water_ceptoar"}
	var out []*kyoyu.Organisation
	for i := range 40 {
		k := kyoyu.OrgKinds[i%len(kyoyu.OrgKinds)]
		o := &kyoyu.Organisation{NameJA: fmt.Sprintf("試験組織%02d", i), Kinds: []kyoyu.OrgKind{k}}
		if rng.IntN(5) == 0 { // some hold two kinds, like 総務省
			o.Kinds = append(o.Kinds, kyoyu.OrgKinds[rng.IntN(len(kyoyu.OrgKinds))])
		}
		for _, s := range testSectors {
			if rng.IntN(3) == 0 {
				o.Sectors = append(o.Sectors, s)
			}
		}
		if slices.Contains(o.Kinds, kyoyu.KindOperator) && len(o.Sectors) > 0 && rng.IntN(4) != 0 {
			o.CEPTOARs = []string{ceptoarOf[o.Sectors[0]]}
		}
		if err := db.CreateOrganisation(ctx, kyoyu.Actor{}, o); err != nil {
			t.Fatal(err)
		}
		full, err := db.Organisation(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, full)
	}
	return out
}

// RandomItem draws an item of any kind, range, route, sector set, extra
// recipients, partners and exclusions among the given organisations.
func RandomItem(rng *rand.Rand, orgs []int64, sectors []string) policy.Item {
	pick := func(max int) []int64 {
		var out []int64
		for range rng.IntN(max + 1) {
			out = append(out, orgs[rng.IntN(len(orgs))])
		}
		return out
	}
	it := policy.Item{
		Kind:       []policy.Kind{policy.Report, policy.Advisory}[rng.IntN(2)],
		TLP:        policy.TLPs[rng.IntN(len(policy.TLPs))],
		Originator: orgs[rng.IntN(len(orgs))],
		Shared:     rng.IntN(4) != 0,
		Holders:    pick(3),
		Recipients: pick(1),
		Partners:   pick(1),
		Excluded:   pick(2),
		Anonymised: rng.IntN(3) == 0,
	}
	for _, s := range sectors {
		if rng.IntN(3) == 0 {
			it.Sectors = append(it.Sectors, s)
		}
	}
	if it.Kind == policy.Advisory {
		it.RecipientMinistries = pick(2)
	}
	if it.Anonymised {
		it.SourceOrgs = pick(1)
	}
	return it
}
