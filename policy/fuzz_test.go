package policy

import (
	"slices"
	"testing"

	"kyoyu"
)

// decode builds a viewer and an item from fuzz bytes, over five
// organisations (ids 1–5) and three sectors, so that collisions between
// the viewer and the item's relations are frequent.
func decode(b []byte) (Viewer, Item) {
	next := func() byte {
		if len(b) == 0 {
			return 0
		}
		c := b[0]
		b = b[1:]
		return c
	}
	sectors := []string{"electricity", "gas", "water"}
	orgs := func() []int64 {
		m := next()
		var out []int64
		for i := int64(0); i < 5; i++ {
			if m&(1<<i) != 0 {
				out = append(out, i+1)
			}
		}
		return out
	}
	secs := func() []string {
		m := next()
		var out []string
		for i, s := range sectors {
			if m&(1<<i) != 0 {
				out = append(out, s)
			}
		}
		return out
	}
	f := next()
	v := Viewer{Anonymous: f&1 != 0, OrgID: int64(f>>1)%5 + 1, PersonID: 1, NeedToKnow: f&64 != 0}
	km := uint16(next()) | uint16(next())<<8
	for i, k := range kyoyu.OrgKinds {
		if km&(1<<i) != 0 {
			v.Kinds = append(v.Kinds, k)
		}
	}
	v.Sectors = secs()
	if next()&1 != 0 {
		v.CEPTOARs = []string{"electricity_ceptoar"}
	}
	g := next()
	it := Item{
		Kind: []Kind{Report, Advisory}[g&1], TLP: TLPs[(g>>1)&3], Shared: g&8 != 0, Anonymised: g&16 != 0,
		Originator: int64(next())%5 + 1,
	}
	it.Holders, it.Recipients, it.Partners, it.Excluded, it.RecipientMinistries, it.SourceOrgs = orgs(), orgs(), orgs(), orgs(), orgs(), orgs()
	it.Sectors = secs()
	if v.Anonymous {
		v = Anonymous
	}
	return v, it
}

// FuzzDecide checks properties any correct sharing-range rule has,
// whatever the inputs.
func FuzzDecide(f *testing.F) {
	f.Add([]byte{0x42, 0xff, 0x0f, 0x03, 1, 0x0a, 2, 1, 2, 4, 8, 16, 31, 5})
	f.Add([]byte{0x01, 0, 0, 0, 0, 0x0e, 3})
	f.Add([]byte{0x40, 0x01, 0x00, 0x07, 0, 0x02, 1, 0, 0, 0, 0, 0, 0, 7})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, it := decode(b)
		d := Decide(v, it)
		own := !v.Anonymous && v.OrgID == it.Originator
		if d.SeeSource && !d.See {
			t.Fatalf("source shown without the item: %+v %+v", v, it)
		}
		if own && !(d.See && d.SeeSource) {
			t.Fatalf("originator cannot see its own item: %+v %+v", v, it)
		}
		if !own && !v.Anonymous && slices.Contains(it.Excluded, v.OrgID) && d.See {
			t.Fatalf("excluded organisation sees the item: %+v %+v", v, it)
		}
		if v.Anonymous && d.See != (it.TLP == White && it.Shared) {
			t.Fatalf("anonymous visitor: see=%v for %+v", d.See, it)
		}
		if !own && !it.Shared && d.See && !slices.Contains(it.Holders, v.OrgID) {
			t.Fatalf("unshared item seen off its route: %+v %+v", v, it)
		}
		if !own && (it.TLP == Red || it.TLP == Amber) && !v.NeedToKnow && d.See {
			t.Fatalf("RED/AMBER seen without need to know: %+v %+v", v, it)
		}
		if it.Anonymised && d.SeeSource && !own && !slices.Contains(it.SourceOrgs, v.OrgID) {
			t.Fatalf("anonymised source revealed: %+v %+v", v, it)
		}
		// Narrowing the range never lets anyone more see it.
		for _, narrower := range TLPs[:slices.Index(TLPs, it.TLP)] {
			n := it
			n.TLP = narrower
			if Decide(v, n).See && !d.See {
				t.Fatalf("narrowing %s→%s widened: %+v %+v", it.TLP, narrower, v, it)
			}
		}
		// Excluding one more organisation never lets anyone more see it.
		x := it
		x.Excluded = append(slices.Clone(it.Excluded), 1, 2)
		if Decide(v, x).See && !d.See {
			t.Fatalf("an exclusion widened: %+v %+v", v, it)
		}
	})
}

func TestNarrower(t *testing.T) {
	if Narrower(Green, Amber) != Amber || Narrower(White, Red) != Red || Narrower("bogus", White) != Red {
		t.Fatal("Narrower")
	}
	if !Widens(Amber, Green) || Widens(Green, Amber) || !Widens(Amber, "bogus") {
		t.Fatal("Widens")
	}
}
