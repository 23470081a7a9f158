package gen

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"kyoyu"
	"kyoyu/store"
)

// operator is an organisation that reports, with where its reports go.
type operator struct {
	id          int64
	name        string
	sector      string
	ceptoar     string // empty for operators outside every CEPTOAR
	secretariat int64
	ministry    int64
}

// world is the community cases are generated in.
type world struct {
	sectors     []kyoyu.Sector
	sectorName  map[string]string
	ministryOf  map[string]*kyoyu.Organisation // by sector
	ceptoars    []kyoyu.CEPTOAR                // the 18 that have members
	secretariat map[string]int64               // by CEPTOAR code
	nisc        int64
	partners    []int64 // security agencies NISC engages for analysis
	orgs        []*kyoyu.Organisation
	names       map[string]bool
	operators   []*operator
	bySector    map[string][]*operator
	liaisons    map[int64][]*kyoyu.Person // ministry people, by organisation
}

// ceptoarWithoutMembers links the four finance CEPTOARs; its members are
// CEPTOARs, not operators, and it is not one of the 18.
const ceptoarWithoutMembers = "finance_ceptoar_liaison"

func loadWorld(ctx context.Context, db *store.DB) (*world, error) {
	w := &world{sectorName: map[string]string{}, ministryOf: map[string]*kyoyu.Organisation{}, secretariat: map[string]int64{},
		names: map[string]bool{}, bySector: map[string][]*operator{}, liaisons: map[int64][]*kyoyu.Person{}}
	var err error
	if w.sectors, err = db.Sectors(ctx); err != nil {
		return nil, err
	}
	cs, err := db.CEPTOARs(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Code != ceptoarWithoutMembers && c.MemberCount != nil && len(c.Sectors) > 0 {
			w.ceptoars = append(w.ceptoars, c)
		}
		w.secretariat[c.Code] = c.OrganisationID
	}
	if w.orgs, err = db.Organisations(ctx, store.OrganisationFilter{}); err != nil {
		return nil, err
	}
	byCode := map[string]*kyoyu.Organisation{}
	for _, o := range w.orgs {
		w.names[o.NameJA] = true
		if o.Code != "" {
			byCode[o.Code] = o
		}
	}
	for _, s := range w.sectors {
		w.sectorName[s.Code] = s.NameJA
		m := byCode[s.MinistryCode]
		if m == nil {
			return nil, fmt.Errorf("generate: sector %s has no ministry %q in the directory", s.Code, s.MinistryCode)
		}
		w.ministryOf[s.Code] = m
	}
	nisc := byCode["nisc"]
	if nisc == nil {
		return nil, fmt.Errorf("generate: the directory has no NISC; load it first")
	}
	w.nisc = nisc.ID
	for _, code := range []string{"jpcert", "ipa"} {
		if o := byCode[code]; o != nil {
			w.partners = append(w.partners, o.ID)
		}
	}
	for _, o := range w.orgs {
		if o.Has(kyoyu.KindOperator) {
			w.addOperator(o)
		}
	}
	return w, nil
}

func (w *world) addOperator(o *kyoyu.Organisation) {
	if len(o.Sectors) == 0 {
		return
	}
	op := &operator{id: o.ID, name: o.NameJA, sector: o.Sectors[0], ministry: w.ministryOf[o.Sectors[0]].ID}
	if len(o.CEPTOARs) > 0 {
		op.ceptoar = o.CEPTOARs[0]
		op.secretariat = w.secretariat[op.ceptoar]
	}
	w.operators = append(w.operators, op)
	w.bySector[op.sector] = append(w.bySector[op.sector], op)
}

// nonMemberWeights spread the operators outside every CEPTOAR: mostly the
// water utilities the water CEPTOAR relays to (1,361 in seed 001),
// hospitals, new electricity retailers, and the sectors with no CEPTOAR.
var nonMemberWeights = map[string]float64{
	"water": 1361, "medical": 300, "info_comm": 120, "finance": 100, "logistics": 100, "port": 60, "gas": 60, "electricity": 80,
	"airport": 40, "railway": 30, "chemical": 30, "credit": 30, "petroleum": 20, "aviation": 10, "government": 20,
}

// memberShare is the part of operators that belong to a CEPTOAR.
const memberShare = 0.72

// planOrganisations makes the organisations that bring the directory to
// total: a few security vendors and event organisations, CEPTOAR members
// in proportion to each CEPTOAR's member count, and other operators.
func (w *world) planOrganisations(r *rand.Rand, total int, lastID int64) []*kyoyu.Organisation {
	n := total - len(w.orgs)
	if n <= 0 {
		return nil
	}
	var out []*kyoyu.Organisation
	add := func(o *kyoyu.Organisation) {
		lastID++
		o.ID, o.Code = lastID, fmt.Sprintf("gen_%d", lastID)
		out = append(out, o)
	}
	others := n / 100
	for i := range others {
		kind, suffix, en := kyoyu.KindCyberVendor, "セキュリティ株式会社", "security vendor"
		if i%10 == 9 {
			kind, suffix, en = kyoyu.KindEventOrg, "国際大会組織委員会", "event organisation"
		}
		add(&kyoyu.Organisation{NameJA: uniqueName(r, w.names, func() string { return companyPlace(r) + suffix }),
			NameEN: "Generated " + en, Kinds: []kyoyu.OrgKind{kind}})
	}
	operators := n - others
	members := int(math.Round(memberShare * float64(operators)))
	weights := make([]float64, len(w.ceptoars))
	for i, c := range w.ceptoars {
		weights[i] = float64(*c.MemberCount)
	}
	for i, k := range apportion(members, weights) {
		c := w.ceptoars[i]
		sector := c.Sectors[0]
		for j := range k {
			var name string
			if c.Code == "lg_ceptoar" {
				if j < len(prefectures) && !w.names[prefectures[j]] {
					name = prefectures[j]
					w.names[name] = true
				} else {
					name = uniqueName(r, w.names, func() string { return municipality(r) })
				}
			} else {
				suffixes := ceptoarSuffixes[c.Code]
				if len(suffixes) == 0 {
					suffixes = sectorSuffixes[sector]
				}
				name = uniqueName(r, w.names, func() string { return companyPlace(r) + pickFirst(r, suffixes) })
			}
			add(&kyoyu.Organisation{NameJA: name, NameEN: fmt.Sprintf("Generated %s operator", sector),
				Kinds: []kyoyu.OrgKind{kyoyu.KindOperator}, Sectors: []string{sector}, CEPTOARs: []string{c.Code}})
		}
	}
	var sectors []string
	var sw []float64
	for _, s := range w.sectors {
		if wt, ok := nonMemberWeights[s.Code]; ok {
			sectors, sw = append(sectors, s.Code), append(sw, wt)
		}
	}
	for i, k := range apportion(operators-members, sw) {
		sector := sectors[i]
		for range k {
			name := uniqueName(r, w.names, func() string { return companyPlace(r) + pickFirst(r, sectorSuffixes[sector]) })
			add(&kyoyu.Organisation{NameJA: name, NameEN: fmt.Sprintf("Generated %s operator", sector),
				Kinds: []kyoyu.OrgKind{kyoyu.KindOperator}, Sectors: []string{sector}})
		}
	}
	for _, o := range out {
		w.orgs = append(w.orgs, o)
		if o.Has(kyoyu.KindOperator) {
			w.addOperator(o)
		}
	}
	return out
}

// pickFirst favours the first, most common form of a name.
func pickFirst(r *rand.Rand, xs []string) string {
	if r.IntN(2) == 0 {
		return xs[0]
	}
	return pick(r, xs)
}

// apportion splits n in proportion to weights (largest remainder), so the
// parts always add up to n.
func apportion(n int, weights []float64) []int {
	out := make([]int, len(weights))
	total := 0.0
	for _, wt := range weights {
		total += wt
	}
	if n <= 0 || total == 0 {
		return out
	}
	type rem struct {
		i int
		f float64
	}
	var rems []rem
	given := 0
	for i, wt := range weights {
		exact := float64(n) * wt / total
		out[i] = int(exact)
		given += out[i]
		rems = append(rems, rem{i, exact - float64(out[i])})
	}
	slices.SortStableFunc(rems, func(a, b rem) int {
		switch {
		case a.f > b.f:
			return -1
		case a.f < b.f:
			return 1
		}
		return 0
	})
	for j := 0; given < n; j++ {
		out[rems[j%len(rems)].i]++
		given++
	}
	return out
}

// planPeople makes n accounts: analysts at NISC, liaisons at the competent
// ministries, secretariat staff at each CEPTOAR, two at every other body,
// and the rest at operators, at least one each while they last. About a
// third handle incident information (need to know).
func (w *world) planPeople(r *rand.Rand, n int, lastID int64, hash string) []*kyoyu.Person {
	if n <= 0 {
		return nil
	}
	type slot struct {
		org     *kyoyu.Organisation
		role    kyoyu.Role
		handles bool
	}
	var fixed []slot
	secretariats := map[int64]bool{}
	for _, id := range w.secretariat {
		secretariats[id] = true
	}
	for _, o := range w.orgs {
		switch {
		case o.Has(kyoyu.KindNISC):
			for range max(2, n/250) {
				fixed = append(fixed, slot{o, kyoyu.RoleNISCAnalyst, true})
			}
		case o.Has(kyoyu.KindMinistry):
			for range max(2, n/500) {
				fixed = append(fixed, slot{o, kyoyu.RoleMinistryLiaison, true})
			}
		case secretariats[o.ID]:
			for range 3 {
				fixed = append(fixed, slot{o, kyoyu.RoleCEPTOARSecretariat, true})
			}
		case !o.Has(kyoyu.KindOperator):
			fixed = append(fixed, slot{o, kyoyu.RoleOrgAdmin, true}, slot{o, kyoyu.RoleOrgAdmin, false})
		}
	}
	if len(fixed) > n {
		fixed = fixed[:n]
	}
	rest := n - len(fixed)
	handlesFixed := len(fixed)
	// Operators' share of need-to-know people, so the whole is about a third.
	pOp := 0.0
	if rest > 0 {
		pOp = min(1, max(0, (float64(n)/3-float64(handlesFixed))/float64(rest)))
	}
	var ops []*kyoyu.Organisation
	for _, o := range w.orgs {
		if o.Has(kyoyu.KindOperator) {
			ops = append(ops, o)
		}
	}
	count := map[int64]int{}
	var slots []slot
	for i := 0; i < rest && len(ops) > 0; i++ {
		var o *kyoyu.Organisation
		if i < len(ops) {
			o = ops[i]
		} else {
			o = ops[skewed(r, len(ops))] // bigger operators have more staff
		}
		role := kyoyu.RoleOperatorReporter
		if count[o.ID] == 1 {
			role = kyoyu.RoleOrgAdmin
		}
		count[o.ID]++
		slots = append(slots, slot{o, role, r.Float64() < pOp})
	}
	slots = append(fixed, slots...)
	out := make([]*kyoyu.Person, 0, len(slots))
	for _, s := range slots {
		lastID++
		domain := strings.ReplaceAll(s.org.Code, "_", "-")
		if domain == "" {
			domain = fmt.Sprintf("org%d", s.org.ID)
		}
		p := &kyoyu.Person{ID: lastID, OrganisationID: s.org.ID, Email: fmt.Sprintf("p%d@%s.gen.kyoyu.jp", lastID, domain),
			Name: personName(r), Role: s.role, HandlesIncidents: s.handles, PasswordHash: hash}
		out = append(out, p)
	}
	w.addPeople(out)
	return out
}

// addPeople remembers the ministries' liaisons, who write the versions
// that reach NISC.
func (w *world) addPeople(ps []*kyoyu.Person) {
	for _, p := range ps {
		if p.Role == kyoyu.RoleMinistryLiaison && !slices.ContainsFunc(w.liaisons[p.OrganisationID], func(q *kyoyu.Person) bool { return q.ID == p.ID }) {
			w.liaisons[p.OrganisationID] = append(w.liaisons[p.OrganisationID], p)
		}
	}
}

// skewed picks an index in [0, n) favouring small ones: a few
// organisations report (and employ) much more than most.
func skewed(r *rand.Rand, n int) int {
	u := r.Float64()
	return min(n-1, int(float64(n)*u*u*u))
}
