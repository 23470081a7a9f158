package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	"kyoyu"
	"kyoyu/store"
)

// cmdJobs shows the outbox and gives dead jobs another go.
func cmdJobs(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	var cfg kyoyu.Config
	fs := flagSet("jobs "+sub, &cfg, stderr)
	switch sub {
	case "list":
		status := fs.String("status", "", "pending, running, done, dead or dropped; empty: all")
		kind := fs.String("kind", "", "email or webhook; empty: both")
		limit := fs.Int("limit", 50, "newest jobs shown")
		if err := parse(fs, &cfg, args); err != nil {
			return err
		}
		db, err := openDB(ctx, &cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		counts, err := db.JobCounts(ctx)
		if err != nil {
			return err
		}
		var summary []string
		for _, s := range []string{store.JobPending, store.JobRunning, store.JobDone, store.JobDead, store.JobDropped} {
			summary = append(summary, fmt.Sprintf("%s %d", s, counts[s]))
		}
		fmt.Fprintln(stdout, strings.Join(summary, ", "))
		jobs, err := db.Jobs(ctx, store.JobFilter{Status: *status, Kind: *kind, Limit: *limit})
		if err != nil {
			return err
		}
		for _, j := range jobs {
			note := j.Result
			if j.Status == store.JobDead || j.Status == store.JobPending && j.LastError != "" {
				note = j.LastError
			}
			when := kyoyu.FormatJST(j.CreatedAt)
			if j.Status == store.JobPending {
				when = "next " + kyoyu.FormatJST(j.RunAt)
			}
			fmt.Fprintf(stdout, "%d\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", j.ID, j.Kind, j.Status, j.Attempts, j.MaxAttempts, when, j.DedupeKey, oneLine(note))
		}
		return nil
	case "retry":
		if err := parse(fs, &cfg, args); err != nil {
			return err
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if fs.NArg() != 1 || err != nil {
			return fmt.Errorf("usage: kyoyu jobs retry [flags] ID (the number `kyoyu jobs list --status dead` shows first)")
		}
		db, err := openDB(ctx, &cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := db.RetryJob(ctx, cliActor, id); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "job %d will be tried again now\n", id)
		return nil
	default:
		return fmt.Errorf("usage: kyoyu jobs list [--status S] [--kind K] | kyoyu jobs retry ID")
	}
}

// cmdWebhook registers the endpoints an organisation's notifications are
// posted to.
func cmdWebhook(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	var cfg kyoyu.Config
	fs := flagSet("webhook "+sub, &cfg, stderr)
	switch sub {
	case "add":
		org := fs.String("org", "", "organisation code or id")
		url := fs.String("url", "", "endpoint, http(s)://…")
		secret := fs.String("secret", "", "signing secret; generated and printed if empty")
		if err := parse(fs, &cfg, args); err != nil {
			return err
		}
		db, err := openDB(ctx, &cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		o, err := findOrg(ctx, db, *org)
		if err != nil {
			return err
		}
		key, generated := *secret, false
		if key == "" {
			b := make([]byte, 32)
			rand.Read(b)
			key, generated = hex.EncodeToString(b), true
		}
		w := &store.Webhook{OrgID: o.ID, URL: *url, Secret: key}
		if err := db.AddWebhook(ctx, cliActor, w); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "webhook %d added for %s: %s\n", w.ID, o.NameJA, w.URL)
		if generated {
			fmt.Fprintf(stdout, "secret (give it to the receiver; it checks X-Kyoyu-Signature with it):\n%s\n", key)
		}
		return nil
	case "list":
		org := fs.String("org", "", "organisation code or id; empty: all")
		if err := parse(fs, &cfg, args); err != nil {
			return err
		}
		db, err := openDB(ctx, &cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		var orgID int64
		if *org != "" {
			o, err := findOrg(ctx, db, *org)
			if err != nil {
				return err
			}
			orgID = o.ID
		}
		hooks, err := db.Webhooks(ctx, orgID)
		if err != nil {
			return err
		}
		for _, w := range hooks {
			state := "active"
			if !w.Active {
				state = "inactive"
			}
			fmt.Fprintf(stdout, "%d\torganisation %d\t%s\t%s\n", w.ID, w.OrgID, w.URL, state)
		}
		return nil
	case "disable", "enable":
		if err := parse(fs, &cfg, args); err != nil {
			return err
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if fs.NArg() != 1 || err != nil {
			return fmt.Errorf("usage: kyoyu webhook %s [flags] ID", sub)
		}
		db, err := openDB(ctx, &cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := db.SetWebhookActive(ctx, cliActor, id, sub == "enable"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "webhook %d %sd\n", id, sub)
		return nil
	default:
		return fmt.Errorf("usage: kyoyu webhook add --org CODE --url URL [--secret S] | list [--org CODE] | disable ID | enable ID")
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120]) + "…"
	}
	return s
}
