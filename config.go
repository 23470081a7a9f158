package kyoyu

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// Config is the validated configuration of every subcommand. It is built
// once in cmd/kyoyu from flags and KYOYU_* variables and passed down; no
// package reads the environment on its own.
type Config struct {
	Addr       string // listen address of `serve`
	DB         string // "sqlite:PATH" or a postgres:// URL
	BaseURL    string // public URL, for links in e-mail; derived from Addr if empty
	Demo       bool   // load demo data into an empty database
	TLSCert    string // serve HTTPS when both are set
	TLSKey     string
	SessionTTL time.Duration // idle lifetime of a browser session
	LogLevel   string        // debug, info, warn, error
	// Secure marks cookies Secure; true when serving TLS or behind an
	// https BaseURL.
	Secure bool

	// CaseNumberFormat shapes case numbers (識別番号): {year} is the JST
	// year of receipt, {seq} the number within it, {seq:5} zero-padded.
	CaseNumberFormat string
	// AdvisoryNumberFormat shapes advisory numbers like CaseNumberFormat.
	AdvisoryNumberFormat string
	// AckWait is how long an organisation may stay silent about an advisory
	// before it is reminded to acknowledge receipt.
	AckWait time.Duration
	// FollowUpWait is how long after a report that promises more a
	// follow-up is due before the case is overdue and people are reminded.
	FollowUpWait time.Duration
	// STIXBackfill: serve stores, in the background and behind live jobs,
	// the STIX of versions released before it was stored for TAXII
	// (store.STIXBackfill). Off, they stay out of the TAXII collections.
	STIXBackfill bool
	// AttachmentLimit is the largest attachment accepted, in bytes.
	AttachmentLimit int64
	// SecretKey (32 bytes, hex) encrypts quarantined samples at rest and
	// signs links; every server on one database needs the same key. Empty:
	// the key is generated on first use and kept in the database, so all
	// servers on it share it (see docs/QUARANTINE.md).
	SecretKey string

	// Outgoing e-mail (docs/OUTBOX.md). No SMTPHost: no e-mail is sent, and
	// e-mail jobs wait for a server that has one.
	SMTPHost     string
	SMTPPort     int    // default by mode: 25, 587 (starttls), 465 (tls)
	SMTPMode     string // none, starttls (default) or tls (implicit TLS)
	SMTPUsername string // PLAIN or LOGIN authentication when set
	SMTPPassword string
	SMTPFrom     string // From: of every message, e.g. "Kyoyu <kyoyu@example.go.jp>"
	// WebhookSecret signs deliveries to endpoints registered without a
	// secret of their own.
	WebhookSecret string
}

// DefaultDB is the embedded database used when no --db is given.
const DefaultDB = "sqlite:data/kyoyu.db"

// Validate fills defaults and checks every field, naming what is wrong.
func (c *Config) Validate() error {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("--addr %q: want host:port: %v", c.Addr, err)
	}
	if c.DB == "" {
		c.DB = DefaultDB
	}
	if _, _, err := ParseDB(c.DB); err != nil {
		return err
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if c.BaseURL == "" {
		scheme := "http"
		if c.TLSCert != "" {
			scheme = "https"
		}
		c.BaseURL = scheme + "://" + c.Addr
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--base-url %q: want an http(s) URL", c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	c.Secure = u.Scheme == "https"
	if c.SessionTTL == 0 {
		c.SessionTTL = 8 * time.Hour
	}
	if c.SessionTTL < time.Minute {
		return fmt.Errorf("--session-ttl %s: at least 1m", c.SessionTTL)
	}
	if c.CaseNumberFormat == "" {
		c.CaseNumberFormat = "JP-{year}-{seq:5}"
	}
	if !strings.Contains(c.CaseNumberFormat, "{seq") {
		return fmt.Errorf("--case-number-format %q: must contain {seq} (and usually {year})", c.CaseNumberFormat)
	}
	if c.AdvisoryNumberFormat == "" {
		c.AdvisoryNumberFormat = "T{year}-{seq:4}"
	}
	if !strings.Contains(c.AdvisoryNumberFormat, "{seq") {
		return fmt.Errorf("--advisory-number-format %q: must contain {seq}", c.AdvisoryNumberFormat)
	}
	if c.AckWait == 0 {
		c.AckWait = 24 * time.Hour
	}
	if c.AckWait < time.Minute {
		return fmt.Errorf("--ack-wait %s: at least 1m", c.AckWait)
	}
	if c.FollowUpWait == 0 {
		c.FollowUpWait = 72 * time.Hour
	}
	if c.FollowUpWait < 0 {
		return fmt.Errorf("--follow-up-wait / KYOYU_FOLLOW_UP_WAIT: want a duration such as 72h")
	}
	if c.FollowUpWait < 0 || (c.FollowUpWait > 0 && c.FollowUpWait < time.Minute) {
		return fmt.Errorf("--follow-up-wait %s: at least 1m", c.FollowUpWait)
	}
	if c.AttachmentLimit == 0 {
		c.AttachmentLimit = 20 << 20
	}
	if c.AttachmentLimit < 1024 {
		return fmt.Errorf("--attachment-limit %d: at least 1024 bytes", c.AttachmentLimit)
	}
	if c.SecretKey != "" {
		// Never echo the key: the message names only what is wrong.
		if b, err := hex.DecodeString(c.SecretKey); err != nil || len(b) != 32 {
			return fmt.Errorf("--secret-key: want 64 hexadecimal characters (32 bytes), e.g. from `openssl rand -hex 32`")
		}
	}
	if err := c.validateSMTP(); err != nil {
		return err
	}
	if c.WebhookSecret != "" && len(c.WebhookSecret) < 32 {
		return fmt.Errorf("--webhook-secret / KYOYU_WEBHOOK_SECRET: at least 32 characters, e.g. from `openssl rand -hex 32`")
	}
	switch c.LogLevel {
	case "":
		c.LogLevel = "info"
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return nil
}

// validateSMTP checks the e-mail settings together, so a server never
// starts with settings that could only fail when the first mail goes out.
func (c *Config) validateSMTP() error {
	if c.SMTPPort < 0 || c.SMTPPort > 65535 {
		return fmt.Errorf("--smtp-port / KYOYU_SMTP_PORT: want a port number from 1 to 65535")
	}
	if c.SMTPHost == "" {
		if c.SMTPUsername != "" || c.SMTPPassword != "" || c.SMTPFrom != "" || c.SMTPPort != 0 {
			return fmt.Errorf("--smtp-host / KYOYU_SMTP_HOST is empty but other SMTP settings are set: name the mail server, or unset them")
		}
		return nil
	}
	if strings.ContainsAny(c.SMTPHost, " :/@") {
		return fmt.Errorf("--smtp-host %q: want a host name or address without port (use --smtp-port)", c.SMTPHost)
	}
	switch c.SMTPMode {
	case "":
		c.SMTPMode = "starttls"
	case "none", "starttls", "tls":
	default:
		return fmt.Errorf("--smtp-mode %q: want none, starttls or tls", c.SMTPMode)
	}
	if c.SMTPPort == 0 {
		c.SMTPPort = map[string]int{"none": 25, "starttls": 587, "tls": 465}[c.SMTPMode]
	}
	if (c.SMTPUsername == "") != (c.SMTPPassword == "") {
		return fmt.Errorf("--smtp-username and --smtp-password (KYOYU_SMTP_PASSWORD) go together")
	}
	if c.SMTPUsername != "" && c.SMTPMode == "none" && !isLoopback(c.SMTPHost) {
		return fmt.Errorf("--smtp-mode none would send the SMTP password in clear to %s: use starttls or tls", c.SMTPHost)
	}
	if c.SMTPFrom == "" {
		return fmt.Errorf("--smtp-from / KYOYU_SMTP_FROM: the sender address is required to send e-mail, e.g. \"Kyoyu <kyoyu@example.go.jp>\"")
	}
	if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
		return fmt.Errorf("--smtp-from %q: not an e-mail address: %v", c.SMTPFrom, err)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ParseDB splits a --db value into its driver ("sqlite" or "postgres") and
// the driver's data source.
func ParseDB(s string) (driver, dsn string, err error) {
	switch {
	case strings.HasPrefix(s, "sqlite:"):
		path := strings.TrimPrefix(s, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return "", "", fmt.Errorf("--db %q: the sqlite path is empty", s)
		}
		return "sqlite", path, nil
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		u, err := url.Parse(s)
		if err != nil {
			return "", "", fmt.Errorf("--db: cannot parse the PostgreSQL URL: %v", err)
		}
		if u.Host == "" {
			return "", "", fmt.Errorf("--db %q: the PostgreSQL URL has no host", redactURL(u))
		}
		return "postgres", s, nil
	default:
		return "", "", fmt.Errorf("--db %q: want sqlite:PATH or postgres://user@host/db", s)
	}
}

func redactURL(u *url.URL) string { return u.Redacted() }

// FormatCaseNumber makes a case number from the configured format.
func (c *Config) FormatCaseNumber(year, seq int) string {
	return formatNumber(c.CaseNumberFormat, year, seq)
}

// FormatAdvisoryNumber makes an advisory number from the configured format.
func (c *Config) FormatAdvisoryNumber(year, seq int) string {
	return formatNumber(c.AdvisoryNumberFormat, year, seq)
}

func formatNumber(format string, year, seq int) string {
	s := strings.ReplaceAll(format, "{year}", fmt.Sprint(year))
	for w := 9; w >= 1; w-- {
		s = strings.ReplaceAll(s, fmt.Sprintf("{seq:%d}", w), fmt.Sprintf("%0*d", w, seq))
	}
	return strings.ReplaceAll(s, "{seq}", fmt.Sprint(seq))
}
