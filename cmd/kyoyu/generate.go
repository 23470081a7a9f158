package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/demo"
	"kyoyu/gen"
)

// cmdDemo runs `kyoyu demo generate`: a national-size data set for trials
// and benchmarks, reproducible from its seed.
func cmdDemo(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	if sub != "generate" {
		return fmt.Errorf("demo: unknown subcommand %q (want: generate)", sub)
	}
	var cfg kyoyu.Config
	fs := flagSet("demo generate", &cfg, stderr)
	seed := fs.Uint64("seed", 1, "seed: the same seed on an empty database gives the same data")
	orgs := fs.Int("orgs", 6000, "organisations in all, including the directory's")
	people := fs.Int("people", 20000, "people in all")
	reports := fs.Int("reports", 1000000, "cases (事案), each with its first report and perhaps follow-ups")
	years := fs.Int("years", 10, "years the reports span")
	end := fs.String("end", gen.DefaultEnd.Format(time.DateOnly), "the day (JST) the data set ends")
	batch := fs.Int("batch", 2000, "cases per transaction")
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	endAt, err := time.ParseInLocation(time.DateOnly, *end, kyoyu.JST)
	if err != nil {
		return fmt.Errorf("--end %q: want YYYY-MM-DD", *end)
	}
	db, err := openDB(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := gen.PrepareDirectory(ctx, db); err != nil {
		return err
	}
	// The demo accounts first, so the well-known sign-ins see the data set.
	accounts, err := demo.Load(ctx, db, account.DefaultArgon2)
	if err != nil {
		return fmt.Errorf("load demo accounts: %w", err)
	}
	hash, err := account.DefaultArgon2.HashPassword(demo.Password)
	if err != nil {
		return err
	}
	began := time.Now()
	lastShown := began
	sum, err := gen.Generate(ctx, db, gen.Options{Seed: *seed, Orgs: *orgs, People: *people, Reports: *reports, Years: *years,
		End: endAt, Batch: *batch, NumberFormat: cfg.FormatCaseNumber, PasswordHash: hash,
		Progress: func(done, total int) {
			if time.Since(lastShown) >= 10*time.Second || done == total {
				lastShown = time.Now()
				el := time.Since(began)
				fmt.Fprintf(stdout, "%d/%d cases, %s, %.0f cases/s\n", done, total, el.Round(time.Second), float64(done)/el.Seconds())
			}
		}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "generated %d organisations, %d people, %d cases with %d released reports and %d attachments in %s\n",
		sum.Organisations, sum.People, sum.Cases, sum.Versions, sum.Attachments, sum.Took.Round(time.Second))
	if len(accounts) > 0 {
		fmt.Fprintf(stdout, "Sign in with a demo account (password %q), e.g. %s; generated accounts share that password.\n",
			demo.Password, demo.Accounts[0].Email)
	}
	return nil
}
