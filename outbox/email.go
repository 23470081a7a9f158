package outbox

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
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
	m := w.prepareEmails(ctx, []*store.Job{j})[0]
	if m.err != nil {
		return "", m.err
	}
	return w.Mail.Send(ctx, m.msg)
}

// mailJob is an e-mail job made ready to send: checked and rendered, or
// with the reason it is not sent (a drop, a refusal, or a failure to retry).
type mailJob struct {
	job *store.Job
	msg *Message
	err error
}

// prepareEmails checks and renders e-mail jobs, reading what they need a
// few queries per batch rather than per message. Each job is checked as
// its recipient, just before sending, by the sharing-range rule
// (policy.Decide on the item as it is now): the range may have narrowed,
// the account been disabled, the notification removed.
func (w *Worker) prepareEmails(ctx context.Context, jobs []*store.Job) []mailJob {
	out := make([]mailJob, len(jobs))
	var nids []int64
	for i, j := range jobs {
		out[i].job = j
		var p store.EmailJob
		if err := json.Unmarshal(j.Payload, &p); err != nil || p.NotificationID == 0 {
			out[i].err = Permanent(fmt.Errorf("e-mail job payload %s: %v", j.Payload, err))
			continue
		}
		nids = append(nids, p.NotificationID)
		out[i].msg = &Message{} // placeholder until rendered
		out[i].job = j
	}
	fail := func(err error) []mailJob {
		for i := range out {
			if out[i].err == nil {
				out[i].msg, out[i].err = nil, err
			}
		}
		return out
	}
	ns, err := w.DB.NotificationsByID(ctx, nids)
	if err != nil {
		return fail(err)
	}
	var pids, items []int64
	for _, n := range ns {
		pids = append(pids, n.PersonID)
		if n.ItemID != 0 && !slices.Contains(items, n.ItemID) {
			items = append(items, n.ItemID)
		}
	}
	people, err := w.DB.PeopleByID(ctx, pids)
	if err != nil {
		return fail(err)
	}
	var oids []int64
	for _, p := range people {
		oids = append(oids, p.OrganisationID)
	}
	orgs := map[int64]*kyoyu.Organisation{}
	if len(oids) > 0 {
		list, err := w.DB.Organisations(ctx, store.OrganisationFilter{IDs: slices.Compact(slices.Sorted(slices.Values(oids)))})
		if err != nil {
			return fail(err)
		}
		for _, o := range list {
			orgs[o.ID] = o
		}
	}
	states := map[int64]policy.Item{}
	shown := map[int64]store.OutboxItem{}
	for _, id := range items {
		st, err := w.DB.ItemState(ctx, id)
		if errors.Is(err, kyoyu.ErrNotFound) {
			continue
		} else if err != nil {
			return fail(err)
		}
		states[id] = st
		if shown[id], err = w.DB.ItemForOutbox(ctx, id); err != nil {
			return fail(err)
		}
	}
	now := time.Now()
	for i := range out {
		m := &out[i]
		if m.err != nil {
			continue
		}
		var p store.EmailJob
		_ = json.Unmarshal(m.job.Payload, &p)
		m.msg, m.err = w.check(m.job, p.NotificationID, ns, people, orgs, states, shown, now)
	}
	return out
}

// check decides one e-mail job from what prepareEmails read.
func (w *Worker) check(j *store.Job, nid int64, ns map[int64]*store.Notification, people map[int64]*kyoyu.Person,
	orgs map[int64]*kyoyu.Organisation, states map[int64]policy.Item, shown map[int64]store.OutboxItem, now time.Time) (*Message, error) {
	n := ns[nid]
	if n == nil {
		return nil, drop("notification %d no longer exists", nid)
	}
	person := people[n.PersonID]
	if person == nil {
		return nil, drop("person %d no longer exists", n.PersonID)
	}
	if person.DisabledAt != nil {
		return nil, drop("person %d is disabled", person.ID)
	}
	item := store.OutboxItem{}
	if n.ItemID != 0 {
		org := orgs[person.OrganisationID]
		st, ok := states[n.ItemID]
		// The one sharing-range rule decides, as for any read by this person.
		if org == nil || !ok || !policy.Decide(policy.ViewerOf(person, org), st).See {
			return nil, drop("person %d may no longer see item %d (its sharing range changed)", person.ID, n.ItemID)
		}
		item = shown[n.ItemID]
	}
	msg, err := Render(w.Cfg, j, person, n, item, now)
	if err != nil {
		return nil, Permanent(err)
	}
	return msg, nil
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

// Send delivers m over one SMTP conversation of its own.
func (s *SMTP) Send(ctx context.Context, m *Message) (string, error) {
	sess := s.Session()
	defer sess.Close()
	return sess.Send(ctx, m)
}

// Session returns a conversation with the server that carries many
// messages, one after the other; it connects on its first message.
func (s *SMTP) Session() MailSession { return &smtpSession{s: s} }

// smtpSession is one SMTP connection reused for message after message
// (RFC 5321 §3.3: a new MAIL FROM after the previous message's end). A
// connection that broke is dropped and the next message dials again.
type smtpSession struct {
	s    *SMTP
	conn net.Conn
	c    *smtp.Client
}

func (x *smtpSession) addr() string { return net.JoinHostPort(x.s.Host, strconv.Itoa(x.s.Port)) }

func (x *smtpSession) timeout() time.Duration {
	if x.s.Timeout <= 0 {
		return time.Minute
	}
	return x.s.Timeout
}

// Send delivers m on the session's connection. The server's 250 after the
// data is the moment of delivery; its text (often "queued as …") is
// returned for the record. A 5xx refusal of the message (sender,
// recipient or content) is permanent; 4xx answers, network trouble and a
// failing handshake or login (a configuration to fix, not a bad message)
// are retried.
func (x *smtpSession) Send(ctx context.Context, m *Message) (string, error) {
	reused := x.c != nil
	answer, started, err := x.send(ctx, m)
	var se *smtp.SMTPError
	if err != nil && reused && !started && ctx.Err() == nil && !errors.As(err, &se) {
		// The reused connection was gone before MAIL FROM was answered (the
		// server closed it while idle): nothing of m was accepted, so it
		// goes again on a new connection.
		answer, _, err = x.send(ctx, m)
	}
	return answer, err
}

// send tries m once; started tells whether the server took MAIL FROM.
func (x *smtpSession) send(ctx context.Context, m *Message) (answer string, started bool, err error) {
	if x.c == nil {
		if err := x.dial(ctx); err != nil {
			return "", false, err
		}
	}
	// The client sets its own deadlines per command; ending ctx closes the
	// connection under it.
	conn := x.conn
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer func() {
		var se *smtp.SMTPError
		if err == nil {
			return
		}
		// A refused message leaves the connection usable once reset; any
		// other failure leaves it in an unknown state, so it is dropped.
		if errors.As(err, &se) && ctx.Err() == nil && x.c.Reset() == nil {
			return
		}
		x.drop()
	}()
	addr := x.addr()
	if err := x.c.Mail(m.From.Address, nil); err != nil {
		return "", false, refusal("MAIL FROM", err)
	}
	if err := x.c.Rcpt(m.To.Address, nil); err != nil {
		return "", true, refusal("RCPT TO", err)
	}
	wc, err := x.c.Data()
	if err != nil {
		return "", true, refusal("DATA", err)
	}
	if _, err := wc.Write(m.Bytes()); err != nil {
		return "", true, fmt.Errorf("smtp %s: writing the message: %w", addr, err)
	}
	resp, err := wc.CloseWithResponse()
	if err != nil {
		return "", true, refusal("end of DATA", err)
	}
	return "250 " + resp.StatusText, true, nil
}

// dial connects, secures and logs in.
func (x *smtpSession) dial(ctx context.Context) error {
	s, addr, timeout := x.s, x.addr(), x.timeout()
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
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
			return fmt.Errorf("smtp %s: TLS: %w", addr, err)
		}
		c = smtp.NewClient(tc)
	case "starttls":
		if c, err = smtp.NewClientStartTLS(conn, tlsConfig); err != nil {
			conn.Close()
			return fmt.Errorf("smtp %s: STARTTLS: %w", addr, err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout, c.SubmissionTimeout = timeout, timeout
	fail := func(err error) error {
		c.Close()
		return err
	}
	if err := c.Hello(s.HelloName); err != nil {
		return fail(fmt.Errorf("smtp %s: EHLO: %w", addr, err))
	}
	if s.Username != "" {
		var auth sasl.Client
		switch {
		case c.SupportsAuth(sasl.Plain):
			auth = sasl.NewPlainClient("", s.Username, s.Password)
		case c.SupportsAuth(sasl.Login):
			auth = sasl.NewLoginClient(s.Username, s.Password)
		default:
			return fail(fmt.Errorf("smtp %s: the server offers neither PLAIN nor LOGIN authentication", addr))
		}
		if err := c.Auth(auth); err != nil {
			return fail(fmt.Errorf("smtp %s: login as %s: %w", addr, s.Username, err))
		}
	}
	x.conn, x.c = conn, c
	return nil
}

func (x *smtpSession) drop() {
	if x.c != nil {
		x.c.Close()
	}
	x.conn, x.c = nil, nil
}

// Close ends the conversation. QUIT is a courtesy: its failure changes nothing.
func (x *smtpSession) Close() error {
	if x.c != nil {
		x.c.CommandTimeout = 5 * time.Second
		_ = x.c.Quit()
		x.drop()
	}
	return nil
}

// refusal classifies a server's answer to the message: 5xx is for good.
func refusal(step string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 {
		return Permanent(fmt.Errorf("%s refused: %w", step, err))
	}
	return fmt.Errorf("%s: %w", step, err)
}
