package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/bench"
	"kyoyu/store"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// cmdBench runs the benchmarks of docs/PERFORMANCE.md against a generated
// data set (`kyoyu demo generate`): store reads in this process; HTTP load
// against a `kyoyu serve` running as another process.
func cmdBench(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	var cfg kyoyu.Config
	fs := flagSet("bench "+sub, &cfg, stderr)
	switch sub {
	case "queries":
		runs := fs.Int("runs", 50, "timed runs of each scenario")
		warm := fs.Int("warm", 3, "untimed runs first")
		if err := parse(fs, &cfg, args); err != nil {
			return err
		}
		db, err := store.Open(ctx, cfg.DB)
		if err != nil {
			return err
		}
		defer db.Close()
		results, err := bench.Queries(ctx, db, bench.Scenarios(), *runs, *warm)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s database, %d runs per scenario after %d warm-up rounds\n\n", db.Dialect, *runs, *warm)
		fmt.Fprintln(stdout, strings.Replace(bench.Header, "| max ms |", "| max ms | total | rows |", 1)+"---:|---:|")
		for _, r := range results {
			fmt.Fprintf(stdout, "%s %d | %d |\n", r.Row(r.Name), r.Total, r.Rows)
		}
		return nil
	case "intake", "read":
		url := fs.String("url", "http://127.0.0.1:8080", "the server's base URL")
		var tokens stringList
		fs.Var(&tokens, "token", "API token (repeat for read: several readers); intake needs a ministry liaison's")
		workers := fs.Int("workers", 8, "concurrent clients")
		count := fs.Int("count", 20000, "stop after this many operations")
		limit := fs.Duration("limit", time.Minute, "stop after this long")
		pid := fs.Int("pid", 0, "the server's process id, to sample its RSS")
		if err := parse(fs, &cfg, args); err != nil {
			return err
		}
		if len(tokens) == 0 {
			return fmt.Errorf("bench %s: --token is required", sub)
		}
		c := bench.Client(*workers)
		var res *bench.LoadResult
		what := "submissions (create + submit)"
		if sub == "intake" {
			res = bench.Intake(ctx, c, *url, tokens[0], *workers, *count, *limit, *pid)
		} else {
			what = "reads (list and search pages)"
			res = bench.ReadLoad(ctx, c, *url, tokens, *workers, *count, *limit, *pid)
		}
		fmt.Fprintf(stdout, "%d %s in %s by %d workers: %.0f/s; %d failed\n", res.Done, what, res.Elapsed.Round(time.Millisecond),
			*workers, res.PerSecond(), res.Failed)
		fmt.Fprintln(stdout, bench.Header)
		fmt.Fprintln(stdout, res.Latency.Row(sub))
		if *pid > 0 {
			fmt.Fprintf(stdout, "server RSS: max sampled %.1f MiB, high-water mark %.1f MiB\n", float64(res.RSSMaxKiB)/1024, float64(res.HWMKiB)/1024)
		}
		if res.FirstError != "" {
			fmt.Fprintln(stdout, "first error:", res.FirstError)
		}
		return nil
	case "startup":
		addr := fs.String("addr", "127.0.0.1:18080", "address the server listens on while timed")
		runs := fs.Int("runs", 5, "starts to time")
		if err := parse(fs, &cfg, args); err != nil {
			return err
		}
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		st, rss, err := bench.Startup(ctx, exe, []string{"serve", "--db", cfg.DB, "--addr", *addr, "--log-level", "warn"}, "http://"+*addr, *runs)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, bench.Header)
		fmt.Fprintln(stdout, st.Row("start until /readyz answers"))
		fmt.Fprintf(stdout, "RSS once ready: %.1f MiB\n", float64(rss)/1024)
		return nil
	case "fanout":
		return benchFanout(ctx, fs, &cfg, args, stdout)
	case "taxii-prepare":
		objects := fs.Int("objects", 100000, "indicators to import (GREEN, as bundles)")
		per := fs.Int("per-bundle", 1000, "indicators per bundle")
		as := fs.String("as", bench.NISCAnalyst, "the importer's e-mail")
		if err := parse(fs, &cfg, args); err != nil {
			return err
		}
		db, err := store.Open(ctx, cfg.DB)
		if err != nil {
			return err
		}
		defer db.Close()
		start := time.Now()
		n, err := bench.PrepareTAXII(ctx, db, cfg, *as, *objects, *per)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "imported %d new objects in %s\n", n, time.Since(start).Round(time.Millisecond))
		return nil
	case "taxii":
		url := fs.String("url", "http://127.0.0.1:8080", "the server's base URL")
		token := fs.String("token", "", "the reader's API token")
		collection := fs.String("collection", "contributions", "collection id or alias")
		limit := fs.Int("limit", 1000, "objects per page")
		workers := fs.Int("workers", 1, "readers walking at once")
		walks := fs.Int("walks", 3, "walks through the whole collection")
		if err := parse(fs, &cfg, args); err != nil {
			return err
		}
		if *token == "" {
			return fmt.Errorf("bench taxii: --token is required")
		}
		res, err := bench.TAXIIPaging(ctx, bench.Client(*workers), *url, *token, *collection, *limit, *workers, *walks)
		if err != nil {
			return err
		}
		secs := res.Elapsed.Seconds()
		fmt.Fprintf(stdout, "%d walks of %s, %d a page, %d readers: %d requests, %d objects in %s: %.1f requests/s, %.0f objects/s\n",
			res.Walks, *collection, *limit, *workers, res.Requests, res.Objects, res.Elapsed.Round(time.Millisecond),
			float64(res.Requests)/secs, float64(res.Objects)/secs)
		fmt.Fprintln(stdout, bench.Header)
		fmt.Fprintln(stdout, res.Latency.Row("one page"))
		return nil
	default:
		return fmt.Errorf("bench: unknown subcommand %q (want: queries, intake, read, startup, fanout, taxii-prepare, taxii)", sub)
	}
}
