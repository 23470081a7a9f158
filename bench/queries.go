package bench

import (
	"context"
	"fmt"
	"time"

	"kyoyu/policy"
	"kyoyu/store"
)

// Demo accounts the scenarios read as: NISC sees nearly everything, the
// operator (a CEPTOAR member in the electricity sector) a small part.
const (
	NISCAnalyst = "analyst@nisc.demo.kyoyu.jp"
	Operator    = "reporter@operator.demo.kyoyu.jp"
)

// Scenario is one read the way a list page makes it.
type Scenario struct {
	Name   string
	Viewer string // e-mail of the person reading; empty: not signed in
	Filter store.CaseFilter
	// SecondPage reads the page after the first (keyset paging).
	SecondPage bool
}

// Scenarios are the reads the targets name — the first page of the list
// with a sector filter, and Japanese full-text search — for a NISC analyst
// and an operator, with a few neighbours for context.
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "list, sector=finance, NISC", Viewer: NISCAnalyst, Filter: store.CaseFilter{Sector: "finance", Limit: 50}},
		{Name: "list, sector=electricity, operator", Viewer: Operator, Filter: store.CaseFilter{Sector: "electricity", Limit: 50}},
		{Name: "list, no filter, NISC", Viewer: NISCAnalyst, Filter: store.CaseFilter{Limit: 50}},
		{Name: "list, no filter, operator", Viewer: Operator, Filter: store.CaseFilter{Limit: 50}},
		{Name: "list, sector=finance, page 2, NISC", Viewer: NISCAnalyst, Filter: store.CaseFilter{Sector: "finance", Limit: 50}, SecondPage: true},
		{Name: "list, event_class=intrusion, NISC", Viewer: NISCAnalyst, Filter: store.CaseFilter{EventClass: "intrusion", Limit: 50}},
		{Name: "search 侵入, NISC", Viewer: NISCAnalyst, Filter: store.CaseFilter{Query: "侵入", Limit: 50}},
		{Name: "search 侵入, operator", Viewer: Operator, Filter: store.CaseFilter{Query: "侵入", Limit: 50}},
		{Name: "search ランサムウェア, NISC", Viewer: NISCAnalyst, Filter: store.CaseFilter{Query: "ランサムウェア", Limit: 50}},
		{Name: "search 漏えい (= 漏洩), NISC", Viewer: NISCAnalyst, Filter: store.CaseFilter{Query: "漏えい", Limit: 50}},
		{Name: "search VPN装置 侵入, NISC", Viewer: NISCAnalyst, Filter: store.CaseFilter{Query: "VPN装置 侵入", Limit: 50}},
		{Name: "search 侵入, sector=finance, NISC", Viewer: NISCAnalyst, Filter: store.CaseFilter{Query: "侵入", Sector: "finance", Limit: 50}},
		{Name: "public page (WHITE), anonymous", Filter: store.CaseFilter{Shared: true, Limit: 100}},
	}
}

// Result is a scenario's timings and what it found.
type Result struct {
	Scenario
	Stats
	Total, Rows int
}

// Viewer reads a person as the sharing-range rule sees them.
func Viewer(ctx context.Context, db *store.DB, email string) (policy.Viewer, error) {
	if email == "" {
		return policy.Anonymous, nil
	}
	p, err := db.PersonByEmail(ctx, email)
	if err != nil {
		return policy.Viewer{}, err
	}
	o, err := db.Organisation(ctx, p.OrganisationID)
	if err != nil {
		return policy.Viewer{}, err
	}
	return policy.ViewerOf(p, o), nil
}

// Queries times each scenario runs times against the store, round-robin
// (every round runs each scenario once, so none has the cache to itself),
// after warm rounds that are not counted.
func Queries(ctx context.Context, db *store.DB, scenarios []Scenario, runs, warm int) ([]Result, error) {
	viewers := map[string]policy.Viewer{}
	for _, s := range scenarios {
		if _, ok := viewers[s.Viewer]; !ok {
			v, err := Viewer(ctx, db, s.Viewer)
			if err != nil {
				return nil, fmt.Errorf("viewer %s: %w", s.Viewer, err)
			}
			viewers[s.Viewer] = v
		}
	}
	// The second page starts where the first ended.
	for i, s := range scenarios {
		if !s.SecondPage {
			continue
		}
		first, err := db.ListCases(ctx, viewers[s.Viewer], s.Filter)
		if err != nil {
			return nil, err
		}
		scenarios[i].Filter.BeforeAt, scenarios[i].Filter.BeforeID = first.NextAt, first.NextID
	}
	times := make([][]time.Duration, len(scenarios))
	results := make([]Result, len(scenarios))
	for round := range warm + runs {
		for i, s := range scenarios {
			start := time.Now()
			page, err := db.ListCases(ctx, viewers[s.Viewer], s.Filter)
			d := time.Since(start)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.Name, err)
			}
			if round >= warm {
				times[i] = append(times[i], d)
			}
			results[i].Total, results[i].Rows = page.Total, len(page.Cases)
		}
	}
	for i, s := range scenarios {
		results[i].Scenario, results[i].Stats = s, Summarise(times[i])
	}
	return results, nil
}
