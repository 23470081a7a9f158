package report_test

import (
	"context"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/gen"
	"kyoyu/internal/testkit"
	"kyoyu/report"
	"kyoyu/store"
)

// BenchmarkCasesCSV exports NISC's whole list of a generated data set
// (KYOYU_CSV_BENCH_REPORTS cases, 20,000 by default) on each database and
// reports rows, bytes and the largest heap in use while it streamed: the
// export holds one page, so the heap does not grow with the list.
//
//	go test -run '^$' -bench CasesCSV -benchtime 1x ./report/
func BenchmarkCasesCSV(b *testing.B) {
	n := 20000
	if s := os.Getenv("KYOYU_CSV_BENCH_REPORTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for _, d := range testkit.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			db := testkit.OpenDB(b, d)
			if err := gen.PrepareDirectory(ctx, db); err != nil {
				b.Fatal(err)
			}
			if _, err := gen.Generate(ctx, db, gen.Options{Seed: 11, Orgs: 600, People: 2000, Reports: n, Batch: 2000, PasswordHash: "$argon2id$generated"}); err != nil {
				b.Fatal(err)
			}
			pr := niscAnalyst(b, db)
			cfg := kyoyu.Config{}
			if err := cfg.Validate(); err != nil {
				b.Fatal(err)
			}
			svc := report.New(db, cfg)
			b.ResetTimer()
			for range b.N {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				base := ms.HeapInuse
				var peak atomic.Uint64
				done := make(chan struct{})
				go func() {
					t := time.NewTicker(5 * time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-done:
							return
						case <-t.C:
							var m runtime.MemStats
							runtime.ReadMemStats(&m)
							if m.HeapInuse > peak.Load() {
								peak.Store(m.HeapInuse)
							}
						}
					}
				}()
				cw := &countingWriter{}
				acc, err := svc.ExportCasesCSV(ctx, pr, "bench", report.CasesCSVOptions{Describe: "bench"}, cw)
				close(done)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(acc.Rows), "rows")
				b.ReportMetric(float64(cw.n)/1e6, "MB-written")
				grown := float64(0)
				if p := peak.Load(); p > base {
					grown = float64(p-base) / 1e6
				}
				b.ReportMetric(grown, "MB-heap-growth")
			}
		})
	}
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)

func niscAnalyst(b *testing.B, db *store.DB) *account.Principal {
	ctx := context.Background()
	people, err := db.People(ctx, 0)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range people {
		if p.Role != kyoyu.RoleNISCAnalyst || !p.HandlesIncidents {
			continue
		}
		o, err := db.Organisation(ctx, p.OrganisationID)
		if err != nil {
			b.Fatal(err)
		}
		if o.Has(kyoyu.KindNISC) {
			return &account.Principal{Person: p, Organisation: o}
		}
	}
	b.Fatal("no NISC analyst who handles incidents in the generated data")
	return nil
}
