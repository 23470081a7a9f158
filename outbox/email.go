package outbox

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/store"
)

// email tells a person about a notification, if they may still see its
// item: the range may have narrowed, or the account been disabled, since
// the notification was made.
func (w *Worker) email(ctx context.Context, j *store.Job) (string, error) {
	var p store.EmailJob
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.NotificationID == 0 {
		return "", Permanent(fmt.Errorf("e-mail job payload %s: %v", j.Payload, err))
	}
	n, err := w.DB.Notification(ctx, p.NotificationID)
	if errors.Is(err, kyoyu.ErrNotFound) {
		return "", drop("notification %d no longer exists", p.NotificationID)
	} else if err != nil {
		return "", err
	}
	person, err := w.DB.Person(ctx, n.PersonID)
	if errors.Is(err, kyoyu.ErrNotFound) {
		return "", drop("person %d no longer exists", n.PersonID)
	} else if err != nil {
		return "", err
	}
	if person.DisabledAt != nil {
		return "", drop("person %d is disabled", person.ID)
	}
	item := store.OutboxItem{}
	if n.ItemID != 0 {
		org, err := w.DB.Organisation(ctx, person.OrganisationID)
		if err != nil {
			return "", err
		}
		// The one sharing-range layer decides, as for any read by this person.
		if _, err := w.DB.ItemAccess(ctx, policy.ViewerOf(person, org), n.ItemID); errors.Is(err, kyoyu.ErrNotFound) {
			return "", drop("person %d may no longer see item %d (its sharing range changed)", person.ID, n.ItemID)
		} else if err != nil {
			return "", err
		}
		if item, err = w.DB.ItemForOutbox(ctx, n.ItemID); err != nil {
			return "", err
		}
	}
	msg, err := Render(w.Cfg, j, person, n, item, time.Now())
	if err != nil {
		return "", Permanent(err)
	}
	return w.Mail.Send(ctx, msg)
}

// SMTP sends e-mail through one mail server.
type SMTP struct {
	Host     string
	Port     int
	Mode     string // none, starttls, tls
	Username string // PLAIN, else LOGIN, when set
	Password string
	// TLSConfig verifies the server; nil: the system's roots, for Host.
	TLSConfig *tls.Config
	// Timeout bounds each step of the conversation (and the context the
	// whole of it).
	Timeout time.Duration
	// HelloName is the name given in EHLO.
	HelloName string
}

// NewSMTP returns the sender cfg describes.
func NewSMTP(cfg kyoyu.Config) *SMTP {
	return &SMTP{Host: cfg.SMTPHost, Port: cfg.SMTPPort, Mode: cfg.SMTPMode, Username: cfg.SMTPUsername,
		Password: cfg.SMTPPassword, Timeout: time.Minute, HelloName: helloName(cfg.BaseURL)}
}

// helloName is the public host name, which is what a mail server expects
// in EHLO.
func helloName(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil || u.Hostname() == "" {
		return "localhost"
	}
	// An address goes in brackets (RFC 5321 address literal).
	if ip := net.ParseIP(u.Hostname()); ip != nil {
		if ip.To4() == nil {
			return "[IPv6:" + ip.String() + "]"
		}
		return "[" + ip.String() + "]"
	}
	return u.Hostname()
}

// Send delivers m over one SMTP conversation. The server's 250 after the
// data is the moment of delivery; its text (often "queued as …") is
// returned for the record. A 5xx refusal of the message (sender,
// recipient or content) is permanent; 4xx answers, network trouble and a
// failing handshake or login (a configuration to fix, not a bad message)
// are retried.
func (s *SMTP) Send(ctx context.Context, m *Message) (string, error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("smtp %s: %w", addr, err)
	}
	// The client sets its own deadlines per command; ending ctx closes the
	// connection under it.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	tlsConfig := s.TLSConfig.Clone()
	if tlsConfig == nil {
		tlsConfig = &tls.Config{}
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = s.Host
	}
	tlsConfig.MinVersion = max(tlsConfig.MinVersion, tls.VersionTLS12)
	var c *smtp.Client
	switch s.Mode {
	case "tls":
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return "", fmt.Errorf("smtp %s: TLS: %w", addr, err)
		}
		c = smtp.NewClient(tc)
	case "starttls":
		if c, err = smtp.NewClientStartTLS(conn, tlsConfig); err != nil {
			conn.Close()
			return "", fmt.Errorf("smtp %s: STARTTLS: %w", addr, err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	c.CommandTimeout, c.SubmissionTimeout = timeout, timeout
	if err := c.Hello(s.HelloName); err != nil {
		return "", fmt.Errorf("smtp %s: EHLO: %w", addr, err)
	}
	if s.Username != "" {
		var auth sasl.Client
		switch {
		case c.SupportsAuth(sasl.Plain):
			auth = sasl.NewPlainClient("", s.Username, s.Password)
		case c.SupportsAuth(sasl.Login):
			auth = sasl.NewLoginClient(s.Username, s.Password)
		default:
			return "", fmt.Errorf("smtp %s: the server offers neither PLAIN nor LOGIN authentication", addr)
		}
		if err := c.Auth(auth); err != nil {
			return "", fmt.Errorf("smtp %s: login as %s: %w", addr, s.Username, err)
		}
	}
	if err := c.Mail(m.From.Address, nil); err != nil {
		return "", refusal("MAIL FROM", err)
	}
	if err := c.Rcpt(m.To.Address, nil); err != nil {
		return "", refusal("RCPT TO", err)
	}
	wc, err := c.Data()
	if err != nil {
		return "", refusal("DATA", err)
	}
	if _, err := wc.Write(m.Bytes()); err != nil {
		return "", fmt.Errorf("smtp %s: writing the message: %w", addr, err)
	}
	resp, err := wc.CloseWithResponse()
	if err != nil {
		return "", refusal("end of DATA", err)
	}
	// Delivered. QUIT is a courtesy: its failure changes nothing.
	_ = c.Quit()
	return "250 " + resp.StatusText, nil
}

// refusal classifies a server's answer to the message: 5xx is for good.
func refusal(step string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 {
		return Permanent(fmt.Errorf("%s refused: %w", step, err))
	}
	return fmt.Errorf("%s: %w", step, err)
}
