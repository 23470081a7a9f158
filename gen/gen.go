// Package gen builds a national-size data set from a seed: organisations
// in every sector and CEPTOAR (members in proportion to the CEPTOARs'
// published member counts), people, and years of reports with follow-ups,
// mixed ranges and routes, classifications from the handbook and Japanese
// text assembled from phrase tables. The same seed on the same starting
// database gives the same data. It writes through the store's bulk
// methods: generated rows are not audited, and are for benchmarks and
// trials only.
package gen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"kyoyu"
	"kyoyu/directory"
	"kyoyu/store"
)

// Options size the data set. Counts of organisations and people are
// totals, including those already in the database.
type Options struct {
	Seed    uint64
	Orgs    int
	People  int
	Reports int // cases, each with its first report and perhaps follow-ups
	Years   int
	// End is when the data set ends (its newest reports are just before);
	// the default is fixed, so a seed always gives the same data.
	End time.Time
	// Batch is how many cases one transaction writes.
	Batch int
	// NumberFormat makes case numbers; the default is JP-{year}-{seq:5}.
	NumberFormat func(year, seq int) string
	// PasswordHash is every generated account's password hash.
	PasswordHash string
	// Progress, if set, is told how many cases are written so far.
	Progress func(done, total int)
}

// DefaultEnd is where generated data ends unless told otherwise.
var DefaultEnd = time.Date(2026, 11, 1, 0, 0, 0, 0, kyoyu.JST)

// Summary counts what was written.
type Summary struct {
	Organisations, People, Cases, Versions, Attachments int
	Took                                                time.Duration
}

// Generate adds the data set to a database that has the directory (and
// perhaps the demo accounts) but no cases.
func Generate(ctx context.Context, db *store.DB, opt Options) (*Summary, error) {
	start := time.Now()
	if opt.Years <= 0 {
		opt.Years = 10
	}
	if opt.End.IsZero() {
		opt.End = DefaultEnd
	}
	if opt.Batch <= 0 {
		opt.Batch = 2000
	}
	if opt.NumberFormat == nil {
		cfg := kyoyu.Config{CaseNumberFormat: "JP-{year}-{seq:5}"}
		opt.NumberFormat = cfg.FormatCaseNumber
	}
	if opt.PasswordHash == "" {
		return nil, fmt.Errorf("generate: a password hash for the generated accounts is required")
	}
	ids, err := db.BulkMaxIDs(ctx)
	if err != nil {
		return nil, err
	}
	if ids.Case > 0 {
		return nil, kyoyu.Errorf(kyoyu.ECONFLICT, "generate: the database already has cases; start from an empty one")
	}
	r := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x6b796f7975))
	w, err := loadWorld(ctx, db)
	if err != nil {
		return nil, err
	}
	sum := &Summary{}
	orgs := w.planOrganisations(r, opt.Orgs, ids.Organisation)
	for part := range slices.Chunk(orgs, 1000) {
		if err := db.BulkOrganisations(ctx, part); err != nil {
			return nil, fmt.Errorf("generate organisations: %w", err)
		}
	}
	sum.Organisations = len(orgs)
	existing, err := db.People(ctx, 0)
	if err != nil {
		return nil, err
	}
	people := w.planPeople(r, opt.People-len(existing), ids.Person, opt.PasswordHash)
	w.addPeople(existing)
	for part := range slices.Chunk(people, 2000) {
		if err := db.BulkPeople(ctx, part); err != nil {
			return nil, fmt.Errorf("generate people: %w", err)
		}
	}
	sum.People = len(people)
	if err := w.writeCases(ctx, db, r, opt, ids, sum); err != nil {
		return nil, err
	}
	if err := db.BulkFinish(ctx); err != nil {
		return nil, err
	}
	sum.Took = time.Since(start)
	return sum, nil
}

// writeCases makes the cases in batches on one goroutine and writes them
// on another, so making and writing overlap; the order, and so the data,
// stays that of the seed.
func (w *world) writeCases(ctx context.Context, db *store.DB, r *rand.Rand, opt Options, ids store.BulkIDs, sum *Summary) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []store.BulkCase, 2)
	c := newCaseMaker(w, r, opt, ids)
	go func() {
		defer close(batches)
		for done := 0; done < opt.Reports; {
			n := min(opt.Batch, opt.Reports-done)
			batch := make([]store.BulkCase, 0, n)
			for i := range n {
				batch = append(batch, c.next(done+i))
			}
			done += n
			select {
			case batches <- batch:
			case <-ctx.Done():
				return
			}
		}
	}()
	for batch := range batches {
		if err := db.BulkCases(ctx, batch); err != nil {
			return fmt.Errorf("generate cases: %w", err)
		}
		sum.Cases += len(batch)
		for _, b := range batch {
			sum.Versions += len(b.Versions)
			sum.Attachments += len(b.Attachments)
		}
		if opt.Progress != nil {
			opt.Progress(sum.Cases, opt.Reports)
		}
	}
	return ctx.Err()
}

// PrepareDirectory loads the directory and applies every later revision
// the binary has (the 2024 ports sector …), so the data set covers every
// sector.
func PrepareDirectory(ctx context.Context, db *store.DB) error {
	if err := directory.LoadBase(ctx, db); err != nil {
		return err
	}
	revs, err := directory.Revisions()
	if err != nil {
		return err
	}
	for _, rev := range revs {
		if _, err := directory.Apply(ctx, db, kyoyu.Actor{IP: "generate"}, rev.Code); err != nil {
			return fmt.Errorf("apply directory revision %s: %w", rev.Code, err)
		}
	}
	return nil
}
