package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"kyoyu"
)

// flagSet returns a flag set with the flags every command shares, bound to
// cfg, with defaults from KYOYU_* variables (flags win).
func flagSet(name string, cfg *kyoyu.Config, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DB, "db", env("KYOYU_DB", kyoyu.DefaultDB), "database: sqlite:PATH or postgres://… (KYOYU_DB)")
	fs.StringVar(&cfg.LogLevel, "log-level", env("KYOYU_LOG_LEVEL", "info"), "debug, info, warn or error (KYOYU_LOG_LEVEL)")
	return fs
}

// serveFlags adds the flags of `serve`.
func serveFlags(fs *flag.FlagSet, cfg *kyoyu.Config) {
	fs.StringVar(&cfg.Addr, "addr", env("KYOYU_ADDR", "127.0.0.1:8080"), "listen address (KYOYU_ADDR)")
	fs.StringVar(&cfg.BaseURL, "base-url", env("KYOYU_BASE_URL", ""), "public URL for links in e-mail (KYOYU_BASE_URL)")
	fs.BoolVar(&cfg.Demo, "demo", env("KYOYU_DEMO", "") == "1", "load demo data into an empty database (KYOYU_DEMO=1)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", env("KYOYU_TLS_CERT", ""), "TLS certificate file (KYOYU_TLS_CERT)")
	fs.StringVar(&cfg.TLSKey, "tls-key", env("KYOYU_TLS_KEY", ""), "TLS key file (KYOYU_TLS_KEY)")
	ttl, _ := time.ParseDuration(env("KYOYU_SESSION_TTL", "8h"))
	fs.DurationVar(&cfg.SessionTTL, "session-ttl", ttl, "idle lifetime of a browser session (KYOYU_SESSION_TTL)")
	fs.StringVar(&cfg.SecretKey, "secret-key", env("KYOYU_SECRET_KEY", ""),
		"64 hex characters sealing quarantined samples; prefer KYOYU_SECRET_KEY (flags show in ps); empty: kept in the database")
	limit, err := strconv.ParseInt(env("KYOYU_ATTACHMENT_LIMIT", "0"), 10, 64)
	if err != nil {
		limit = -1 // refused by Validate, rather than silently replaced by the default
	}
	fs.Int64Var(&cfg.AttachmentLimit, "attachment-limit", limit, "largest attachment in bytes, default 20 MiB (KYOYU_ATTACHMENT_LIMIT)")
	fs.StringVar(&cfg.CaseNumberFormat, "case-number-format", env("KYOYU_CASE_NUMBER_FORMAT", "JP-{year}-{seq:5}"),
		"case numbers (識別番号): {year} of receipt in JST, {seq} or zero-padded {seq:5} (KYOYU_CASE_NUMBER_FORMAT)")
	wait, err := time.ParseDuration(env("KYOYU_FOLLOW_UP_WAIT", "72h"))
	if err != nil {
		wait = -1 // refused by Validate, naming the flag
	}
	fs.DurationVar(&cfg.FollowUpWait, "follow-up-wait", wait, "when a promised follow-up report is overdue (KYOYU_FOLLOW_UP_WAIT)")
	fs.BoolVar(&cfg.STIXBackfill, "stix-backfill", env("KYOYU_STIX_BACKFILL", "on") != "off",
		"store the STIX of versions released before TAXII, behind live work (KYOYU_STIX_BACKFILL=on|off)")
	outboxFlags(fs, cfg)
}

// outboxFlags adds the settings of outgoing e-mail and webhooks.
func outboxFlags(fs *flag.FlagSet, cfg *kyoyu.Config) {
	fs.StringVar(&cfg.SMTPHost, "smtp-host", env("KYOYU_SMTP_HOST", ""), "mail server for notification e-mail; empty: no e-mail (KYOYU_SMTP_HOST)")
	port, err := strconv.Atoi(env("KYOYU_SMTP_PORT", "0"))
	if err != nil {
		port = -1 // refused by Validate, naming the flag
	}
	fs.IntVar(&cfg.SMTPPort, "smtp-port", port, "mail server port; default 587, 465 with tls, 25 with none (KYOYU_SMTP_PORT)")
	fs.StringVar(&cfg.SMTPMode, "smtp-mode", env("KYOYU_SMTP_MODE", ""), "none, starttls (default) or tls (KYOYU_SMTP_MODE)")
	fs.StringVar(&cfg.SMTPUsername, "smtp-username", env("KYOYU_SMTP_USERNAME", ""), "SMTP user name, PLAIN or LOGIN (KYOYU_SMTP_USERNAME)")
	fs.StringVar(&cfg.SMTPPassword, "smtp-password", env("KYOYU_SMTP_PASSWORD", ""), "SMTP password; prefer KYOYU_SMTP_PASSWORD (flags show in ps)")
	fs.StringVar(&cfg.SMTPFrom, "smtp-from", env("KYOYU_SMTP_FROM", ""), "sender of notification e-mail, e.g. \"Kyoyu <kyoyu@example.go.jp>\" (KYOYU_SMTP_FROM)")
	fs.StringVar(&cfg.WebhookSecret, "webhook-secret", env("KYOYU_WEBHOOK_SECRET", ""),
		"signs webhook deliveries to endpoints without their own secret; prefer KYOYU_WEBHOOK_SECRET")
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && strings.TrimSpace(v) != "" {
		return v
	}
	return def
}

// parse parses args into fs and validates cfg.
func parse(fs *flag.FlagSet, cfg *kyoyu.Config, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	return nil
}
