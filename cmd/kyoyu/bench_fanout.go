package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"time"

	"kyoyu"
	"kyoyu/bench"
	"kyoyu/store"
)

// benchFanout runs `kyoyu bench fanout`: one advisory cascaded to every
// organisation of a generated data set, its e-mail sent by the outbox to
// an SMTP sink running as its own process, beside the sink's raw
// throughput measured in the same run (docs/PERFORMANCE.md).
func benchFanout(ctx context.Context, fs *flag.FlagSet, cfg *kyoyu.Config, args []string, stdout io.Writer) error {
	sinkProg := fs.String("sink", "", "the SMTP sink program (go build -o smtpsink ./outbox/internal/smtpsink)")
	runs := fs.Int("runs", 3, "advisories to publish, one run each")
	workers := fs.Int("workers", 1, "outbox workers")
	conns := fs.Int("conns", 4, "SMTP connections per worker")
	batch := fs.Int("batch", 200, "jobs a worker claims at once")
	poll := fs.Duration("poll", 100*time.Millisecond, "how often an idle worker looks for jobs")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the runs to this file")
	if err := parse(fs, cfg, args); err != nil {
		return err
	}
	if *sinkProg == "" {
		return fmt.Errorf("bench fanout: --sink is required")
	}
	db, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	opt := bench.FanoutOptions{Sink: *sinkProg, Workers: *workers, Conns: *conns, Batch: *batch, Poll: *poll, Log: stdout}
	fmt.Fprintf(stdout, "%s database; %d worker(s) × %d SMTP connections, batches of %d, poll %s\n",
		db.Dialect, *workers, *conns, *batch, *poll)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var rs []*bench.FanoutResult
	for i := range *runs {
		fmt.Fprintf(stdout, "\nrun %d\n", i+1)
		r, err := bench.Fanout(ctx, db, opt, fmt.Sprintf("run %d, %s", i+1, time.Now().Format(time.RFC3339)))
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	fmt.Fprintf(stdout, "\n| measure | median | min | max |\n|---|---:|---:|---:|\n")
	row := func(label, unit string, f func(*bench.FanoutResult) float64) {
		vs := make([]float64, len(rs))
		for i, r := range rs {
			vs[i] = f(r)
		}
		slices.Sort(vs)
		fmt.Fprintf(stdout, "| %s | %.2f%s | %.2f%s | %.2f%s |\n", label, vs[len(vs)/2], unit, vs[0], unit, vs[len(vs)-1], unit)
	}
	sec := func(d time.Duration) float64 { return d.Seconds() }
	row("raw SMTP, messages/s", "", func(r *bench.FanoutResult) float64 { return r.RawRate() })
	row("raw SMTP, time for the same number of messages", " s", func(r *bench.FanoutResult) float64 { return sec(r.RawElapsed) })
	row("publish call", " s", func(r *bench.FanoutResult) float64 { return sec(r.Publish) })
	row("publish → every hop made (all in-app deliveries committed)", " s", func(r *bench.FanoutResult) float64 { return sec(r.Cascade) })
	row("publish → last e-mail accepted", " s", func(r *bench.FanoutResult) float64 { return sec(r.LastAccepted) })
	row("fan-out e-mail, messages/s", "", func(r *bench.FanoutResult) float64 { return r.Rate() })
	row("ratio to raw (time)", "×", func(r *bench.FanoutResult) float64 { return r.Ratio() })
	last := rs[len(rs)-1]
	fmt.Fprintf(stdout, "\n%d organisations reached, %d people told, %d e-mails accepted (%d dropped) per run\n",
		last.Organisations, last.Notifications, last.Accepted, last.JobsDropped)
	return nil
}
