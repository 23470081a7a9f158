// Package outbox sends Kyoyu's side effects — notification e-mail over SMTP
// and signed webhooks — from the jobs the store enqueues in the same
// transaction as each change. Every server runs a Worker; workers claim
// jobs under a lease, so several servers on one PostgreSQL share the work
// and a job whose worker died is taken over. docs/OUTBOX.md states what is
// and is not guaranteed.
package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"sync"
	"time"

	"kyoyu"
	"kyoyu/store"
)

// Mailer delivers one message and returns the server's answer (with its
// queue id, when the server gives one).
type Mailer interface {
	Send(ctx context.Context, m *Message) (answer string, err error)
}

// SessionMailer is a Mailer that can carry many messages over one
// connection; the worker sends a batch over a few such sessions.
type SessionMailer interface {
	Mailer
	Session() MailSession
}

// MailSession sends message after message over one conversation.
type MailSession interface {
	Send(ctx context.Context, m *Message) (answer string, err error)
	Close() error
}

// Worker claims due jobs and carries them out.
type Worker struct {
	DB  *store.DB
	Cfg kyoyu.Config
	Log *slog.Logger
	// ID names this worker in the jobs it holds (locked_by).
	ID string
	// Mail sends e-mail; nil: e-mail jobs are left for a server that can.
	Mail Mailer
	// HTTP posts webhooks. Its timeout bounds a delivery.
	HTTP *http.Client
	// Batch is how many jobs are claimed at once.
	Batch int
	// Conns is how many SMTP connections a batch's e-mail is sent over,
	// side by side, each carrying message after message.
	Conns int
	// Lease is how long a claimed job is held. A send is cut off well
	// before its lease ends, so no other worker starts it meanwhile.
	Lease time.Duration
	// Poll is how often an idle worker looks for due jobs.
	Poll time.Duration
	// Backoff is the wait before the first retry; each retry doubles it,
	// up to MaxBackoff, with jitter.
	Backoff, MaxBackoff time.Duration
}

// WebhookTimeout bounds one webhook delivery.
const WebhookTimeout = 10 * time.Second

// New returns a worker for cfg: e-mail through cfg's SMTP server when one
// is configured, webhooks always.
func New(db *store.DB, cfg kyoyu.Config, log *slog.Logger) *Worker {
	w := &Worker{DB: db, Cfg: cfg, Log: log, ID: workerID(), HTTP: NewHTTPClient(WebhookTimeout)}
	if cfg.SMTPHost != "" {
		w.Mail = NewSMTP(cfg)
	}
	return w
}

// NewHTTPClient is the client webhooks are posted with: bounded, and
// never following a redirect (an endpoint that moved is re-registered).
func NewHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func workerID() string {
	host, _ := os.Hostname()
	b := make([]byte, 3)
	rand.Read(b)
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
}

func (w *Worker) defaults() {
	if w.Batch <= 0 {
		// 50 messages a connection: at half a second a message (a slow
		// server), a batch and the one queued behind it are sent well
		// within the 90 s an attempt may take.
		w.Batch = 200
	}
	if w.Conns <= 0 {
		w.Conns = 4
	}
	if w.Lease <= 0 {
		w.Lease = 2 * time.Minute
	}
	if w.Poll <= 0 {
		w.Poll = 2 * time.Second
	}
	if w.Backoff <= 0 {
		w.Backoff = 30 * time.Second
	}
	if w.MaxBackoff <= 0 {
		w.MaxBackoff = time.Hour
	}
	if w.HTTP == nil {
		w.HTTP = NewHTTPClient(WebhookTimeout)
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
	if w.ID == "" {
		w.ID = workerID()
	}
}

// kinds are the job kinds this worker can carry out.
func (w *Worker) kinds() []string {
	if w.Mail == nil {
		return []string{store.JobWebhook, store.JobSTIX}
	}
	return []string{store.JobEmail, store.JobWebhook, store.JobSTIX}
}

// Run works until ctx ends. E-mail goes through a pipeline: while the
// SMTP connections send one batch, the next is claimed and checked, so
// the connections are never idle while jobs are due. Sends under way when
// ctx ends, and claimed jobs waiting for a connection, are finished (each
// is bounded), so a stopping server does not leave a message half-sent.
func (w *Worker) Run(ctx context.Context) {
	w.defaults()
	if w.Mail == nil {
		w.Log.Info("outbox: no SMTP server configured (--smtp-host); e-mail waits for a server that has one")
	}
	p := w.startPipe(context.WithoutCancel(ctx))
	defer p.stop()
	for {
		n, err := w.claim(ctx, p)
		if err != nil && ctx.Err() == nil {
			w.Log.Warn("outbox: claim jobs", "err", err)
		}
		if n > 0 && err == nil {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.Poll):
		}
	}
}

// RunOnce claims one batch of due jobs, carries them out and returns how
// many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	w.defaults()
	p := w.startPipe(context.WithoutCancel(ctx))
	defer p.stop()
	return w.claim(ctx, p)
}

// claim takes one batch and hands it out: e-mail to the pipe's SMTP
// connections, webhooks (and e-mail through a Mailer without sessions)
// one by one, side by side — each endpoint is its own receiver.
func (w *Worker) claim(ctx context.Context, p *pipe) (int, error) {
	if ctx.Err() != nil {
		return 0, nil
	}
	jobs, err := w.DB.ClaimJobs(ctx, w.ID, w.kinds(), w.Batch, w.Lease)
	if err != nil {
		return 0, err
	}
	// Claimed jobs are carried through even if ctx ends now: abandoning
	// one mid-send is what could send it twice.
	var mails []*store.Job
	var others sync.WaitGroup
	// The batch's webhooks are waited for before the next claim, as they
	// were claimed together; its e-mail only until the pipe has room.
	defer others.Wait()
	for _, j := range jobs {
		if p.mail != nil && j.Kind == store.JobEmail {
			mails = append(mails, j)
			continue
		}
		others.Go(func() { w.process(p.ctx, j) })
	}
	if len(mails) > 0 {
		for _, mj := range w.prepareEmails(p.ctx, mails) {
			if mj.err != nil {
				w.record(p.ctx, mj.job, "", mj.err)
				continue
			}
			p.mail <- mj // waits while the connections have a batch in hand
		}
	}
	return len(jobs), nil
}

// RunUntilIdle works until no job of the kinds it can send is pending or
// running, or ctx ends. Tests and one-off runs use it.
func (w *Worker) RunUntilIdle(ctx context.Context) error {
	w.defaults()
	for {
		n, err := w.RunOnce(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		idle := true
		for _, k := range w.kinds() {
			for _, st := range []string{store.JobPending, store.JobRunning} {
				js, err := w.DB.Jobs(ctx, store.JobFilter{Kind: k, Status: st, Limit: 1})
				if err != nil {
					return err
				}
				idle = idle && len(js) == 0
			}
		}
		if idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(w.Poll):
		}
	}
}

// Outcomes other than success and a retryable failure.
type dropped struct{ reason string }

func (d *dropped) Error() string { return "dropped: " + d.reason }

type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

func drop(format string, args ...any) error { return &dropped{fmt.Sprintf(format, args...)} }

// Permanent marks an error that retrying cannot cure.
func Permanent(err error) error { return &permanent{err} }

// IsPermanent reports whether err is a refusal that retrying cannot cure.
func IsPermanent(err error) bool {
	var p *permanent
	return errors.As(err, &p)
}

// process carries out one job and records the outcome.
func (w *Worker) process(ctx context.Context, j *store.Job) {
	// Give up well before the lease ends: only then may another worker
	// take the job over, and it must find this attempt over.
	// (The lease is on the database's clock; the deadline on this one.)
	sendCtx, cancel := w.sendContext(ctx, j)
	var result string
	var err error
	switch j.Kind {
	case store.JobEmail:
		result, err = w.email(sendCtx, j)
	case store.JobWebhook:
		result, err = w.webhook(sendCtx, j)
	case store.JobSTIX:
		result, err = w.stix(sendCtx, j)
	default:
		err = Permanent(fmt.Errorf("unknown job kind %q", j.Kind))
	}
	cancel()
	w.record(ctx, j, result, err)
}

// record writes the outcome of an attempt.
func (w *Worker) record(ctx context.Context, j *store.Job, result string, err error) {
	log := w.Log.With("job", j.ID, "kind", j.Kind, "attempt", j.Attempts)
	var d *dropped
	var p *permanent
	switch {
	case err == nil:
		// Marked done at once: the time between the receiver's yes and this
		// record is the only window in which a crash leads to a resend.
		if err := w.settle(ctx, func() error { return w.DB.CompleteJob(ctx, j, result) }); err != nil {
			log.Error("outbox: sent but not recorded as done; it may be sent again", "err", err)
			return
		}
		done := "outbox: sent"
		if j.Kind == store.JobSTIX {
			done = "outbox: stored STIX for TAXII" // nothing leaves the server
		}
		log.Info(done, "answer", result)
	case errors.As(err, &d):
		if err := w.settle(ctx, func() error { return w.DB.DropJob(ctx, j, d.reason) }); err != nil {
			log.Warn("outbox: record drop", "err", err)
		}
		log.Info("outbox: dropped", "reason", d.reason)
	case errors.As(err, &p):
		if _, err := w.DB.FailJob(ctx, j, err.Error(), nil); err != nil {
			log.Warn("outbox: record refusal", "err", err)
		}
		log.Warn("outbox: refused for good; job is dead", "err", err)
	default:
		at := w.DB.Now().Add(w.backoff(j.Attempts))
		status, ferr := w.DB.FailJob(ctx, j, err.Error(), &at)
		if ferr != nil {
			log.Warn("outbox: record failure", "err", ferr)
		}
		log.Warn("outbox: failed", "err", err, "status", status, "retry_at", at)
	}
}

// sendContext bounds an attempt: it is cut off a quarter of the lease
// before the lease ends, so no other worker may have started it meanwhile.
// (The lease is on the database's clock; the deadline on this one.)
func (w *Worker) sendContext(ctx context.Context, j *store.Job) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, j.LockedUntil.Sub(w.DB.Now())-w.Lease/4)
}

// settle records an outcome, trying a few times: a database blip right
// after a send must not turn a sent message into a resent one.
func (w *Worker) settle(ctx context.Context, record func() error) error {
	var err error
	for i := range 5 {
		if i > 0 {
			time.Sleep(time.Duration(100<<i) * time.Millisecond)
		}
		if err = record(); err == nil || errors.Is(err, store.ErrLeaseLost) {
			return err
		}
	}
	return err
}

// backoff is the wait before the next attempt after the given one:
// exponential, capped, with "equal jitter" so retries of many jobs that
// failed together (a mail server restart) do not come back together.
func (w *Worker) backoff(attempt int) time.Duration {
	d := w.MaxBackoff
	if attempt < 31 {
		d = min(w.MaxBackoff, w.Backoff<<max(attempt-1, 0))
	}
	half := d / 2
	return half + time.Duration(mrand.Int64N(int64(half)+1))
}
