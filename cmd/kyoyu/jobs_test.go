package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

func TestJobsAndWebhookCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testkit.NewDatabaseURL(t, store.SQLite)
	db := "--db=" + url
	mustKyoyu(t, "migrate", db)

	out := mustKyoyu(t, "webhook", "add", db, "--org", "meti", "--url", "https://soc.meti.example.go.jp/kyoyu")
	ls := lines(out)
	if len(ls) != 3 || !strings.HasPrefix(ls[0], "webhook 1 added for 経済産業省") || len(ls[2]) != 64 {
		t.Fatalf("webhook add printed %q", out)
	}
	if _, _, err := runKyoyu(t, "webhook", "add", db, "--org", "meti", "--url", "ftp://x"); err == nil || !strings.Contains(err.Error(), "http(s)") {
		t.Fatalf("ftp webhook: %v", err)
	}
	if _, _, err := runKyoyu(t, "webhook", "add", db, "--org", "nowhere", "--url", "https://x.example.jp/"); err == nil {
		t.Fatal("webhook for an unknown organisation added")
	}
	mustKyoyu(t, "webhook", "disable", db, "1")
	if out := mustKyoyu(t, "webhook", "list", db, "--org", "meti"); !strings.Contains(out, "https://soc.meti.example.go.jp/kyoyu\tinactive") {
		t.Fatalf("webhook list printed %q", out)
	}

	// A dead job, as a refusing mail server leaves it.
	sdb := openCLIDB(t, url)
	if err := sdb.Enqueue(ctx, store.NewJob{Kind: store.JobEmail, DedupeKey: "email:notification:1", Payload: store.EmailJob{NotificationID: 1}}); err != nil {
		t.Fatal(err)
	}
	js, err := sdb.ClaimJobs(ctx, "test", []string{store.JobEmail}, 1, time.Minute)
	if err != nil || len(js) != 1 {
		t.Fatalf("claim: %v", err)
	}
	if _, err := sdb.FailJob(ctx, js[0], "RCPT TO refused: SMTP error 550: mailbox unavailable", nil); err != nil {
		t.Fatal(err)
	}
	out = mustKyoyu(t, "jobs", "list", db, "--status", "dead")
	if ls := lines(out); len(ls) != 2 || !strings.HasPrefix(ls[0], "pending 0, running 0, done 0, dead 1") ||
		!strings.HasPrefix(ls[1], "1\temail\tdead\t1/12\t") || !strings.Contains(ls[1], "550") {
		t.Fatalf("jobs list printed %q", out)
	}
	if out := mustKyoyu(t, "jobs", "retry", db, "1"); out != "job 1 will be tried again now\n" {
		t.Fatalf("jobs retry printed %q", out)
	}
	if _, _, err := runKyoyu(t, "jobs", "retry", db, "1"); err == nil || !strings.Contains(err.Error(), "only dead jobs") {
		t.Fatalf("second retry: %v", err)
	}
	if _, _, err := runKyoyu(t, "jobs", "retry", db); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("retry without id: %v", err)
	}
	j, err := sdb.Job(ctx, 1)
	if err != nil || j.Status != store.JobPending || j.Attempts != 0 {
		t.Fatalf("retried job %+v, %v", j, err)
	}
	if out := mustKyoyu(t, "help"); !strings.Contains(out, "jobs list|retry") || !strings.Contains(out, "webhook add") {
		t.Fatalf("help lacks the outbox commands: %q", out)
	}
}

func TestSMTPSettings(t *testing.T) {
	parseServe := func(env map[string]string, args ...string) (kyoyu.Config, error) {
		for k, v := range env {
			t.Setenv(k, v)
		}
		var cfg kyoyu.Config
		fs := flagSet("serve", &cfg, io.Discard)
		serveFlags(fs, &cfg)
		return cfg, parse(fs, &cfg, args)
	}
	cfg, err := parseServe(map[string]string{"KYOYU_SMTP_HOST": "mail.example.go.jp", "KYOYU_SMTP_FROM": "Kyoyu <kyoyu@example.go.jp>",
		"KYOYU_SMTP_USERNAME": "kyoyu", "KYOYU_SMTP_PASSWORD": "secret"})
	if err != nil || cfg.SMTPMode != "starttls" || cfg.SMTPPort != 587 || cfg.SMTPUsername != "kyoyu" || cfg.SMTPPassword != "secret" {
		t.Fatalf("from the environment: %+v, %v", cfg, err)
	}
	if cfg, err := parseServe(nil, "--smtp-mode", "tls"); err != nil || cfg.SMTPPort != 465 {
		t.Fatalf("flags over the environment: port %d, %v", cfg.SMTPPort, err)
	}
	t.Setenv("KYOYU_SMTP_USERNAME", "")
	t.Setenv("KYOYU_SMTP_PASSWORD", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--smtp-mode", "ssl"}, "want none, starttls or tls"},
		{[]string{"--smtp-port", "70000"}, "--smtp-port"},
		{[]string{"--smtp-from", "not an address"}, "--smtp-from"},
		{[]string{"--smtp-from", ""}, "sender address is required"},
		{[]string{"--smtp-username", "kyoyu"}, "go together"},
		{[]string{"--smtp-mode", "none", "--smtp-username", "u", "--smtp-password", "p"}, "in clear"},
		{[]string{"--smtp-host", "mail.example.go.jp:25"}, "without port"},
		{[]string{"--smtp-host", "", "--smtp-port", "25", "--smtp-from", ""}, "--smtp-host"},
		{[]string{"--webhook-secret", "short"}, "at least 32"},
	} {
		if _, err := parseServe(nil, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
	// A loopback relay may take a password without TLS.
	if _, err := parseServe(nil, "--smtp-host", "127.0.0.1", "--smtp-mode", "none", "--smtp-username", "u", "--smtp-password", "p"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KYOYU_SMTP_PORT", "twenty-five")
	if _, err := parseServe(nil); err == nil || !strings.Contains(err.Error(), "KYOYU_SMTP_PORT") {
		t.Fatalf("bad KYOYU_SMTP_PORT: %v", err)
	}
}
