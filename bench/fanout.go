package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/advisory"
	"kyoyu/outbox"
	"kyoyu/store"
)

// FanoutOptions set up the fan-out benchmark.
type FanoutOptions struct {
	// Sink is the SMTP server program (outbox/internal/smtpsink, built);
	// it runs as its own process on loopback and keeps every message it
	// accepts as a file.
	Sink string
	// Workers outbox workers, each sending over Conns connections.
	Workers, Conns, Batch int
	// Poll is how often an idle worker looks for jobs.
	Poll time.Duration
	// Log receives the steps as they happen; nil: discarded.
	Log io.Writer
}

// FanoutResult is one run: the SMTP server's raw throughput, then one
// advisory published and cascaded to every organisation it can reach.
type FanoutResult struct {
	// Raw: Messages sent by a plain client over Conns connections.
	RawMessages int
	RawElapsed  time.Duration
	// Cascade.
	Number                        string
	Organisations, Notifications  int
	Emails, Accepted              int
	Publish, Cascade, Recorded    time.Duration // publish call; all hops made; last in-app delivery recorded (DB time)
	LastAccepted                  time.Duration // publish → last e-mail accepted by the SMTP server
	FirstAccepted                 time.Duration
	AcceptedDuringCascade         int    // by the time every hop was made
	LoadAvg                       string // the machine's load when the run began (Linux)
	JobsDone, JobsDropped, Others int
}

// RawRate is the SMTP server's throughput with a plain client, messages/s.
func (r *FanoutResult) RawRate() float64 { return float64(r.RawMessages) / r.RawElapsed.Seconds() }

// Rate is e-mail accepted per second from publication to the last one.
func (r *FanoutResult) Rate() float64 { return float64(r.Accepted) / r.LastAccepted.Seconds() }

// Ratio is how many times longer the fan-out's e-mail took than the raw
// server would for the same number of messages.
func (r *FanoutResult) Ratio() float64 { return r.RawRate() / r.Rate() }

// Sink is a running SMTP sink process.
type Sink struct {
	Addr string
	Dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartSink runs the sink program on a free loopback port, keeping mail
// in dir, and returns once it accepts connections.
func StartSink(ctx context.Context, program, dir string) (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.CommandContext(ctx, program, "-addr", addr, "-dir", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", program, err)
	}
	s := &Sink{Addr: addr, Dir: dir, cmd: cmd, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
		io.Copy(io.Discard, out)
	}()
	go func() { cmd.Wait(); close(s.done) }()
	select {
	case line := <-ready:
		if !strings.HasPrefix(line, "listening on") {
			s.Stop()
			return nil, fmt.Errorf("smtp sink did not start: %q %s", line, stderr.String())
		}
	case <-time.After(10 * time.Second):
		s.Stop()
		return nil, fmt.Errorf("smtp sink did not start in time")
	}
	return s, nil
}

// Stop ends the sink process.
func (s *Sink) Stop() {
	s.cmd.Process.Kill()
	<-s.done
}

// Accepted counts the messages the sink kept and gives the times it
// accepted the first and the last (its file names carry them).
func (s *Sink) Accepted() (n int, first, last time.Time, err error) {
	n, first, last, _, err = s.AcceptedBy(time.Time{})
	return n, first, last, err
}

// AcceptedBy is Accepted, also counting the messages accepted by a time.
func (s *Sink) AcceptedBy(t time.Time) (n int, first, last time.Time, by int, err error) {
	files, err := filepath.Glob(filepath.Join(s.Dir, "*.eml"))
	if err != nil {
		return 0, first, last, 0, err
	}
	for _, f := range files {
		_, ns, ok := strings.Cut(strings.TrimSuffix(filepath.Base(f), ".eml"), "-")
		v, err := strconv.ParseInt(ns, 10, 64)
		if !ok || err != nil {
			return 0, first, last, 0, fmt.Errorf("sink file %s: unexpected name", f)
		}
		at := time.Unix(0, v)
		if !at.After(t) {
			by++
		}
		t := at
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	return len(files), first, last, by, nil
}

// RawSMTP sends n copies of m over conns connections, each carrying its
// share one message after another (the outbox's own SMTP client, with no
// database behind it): the server's throughput as the benchmark's yardstick.
func RawSMTP(ctx context.Context, s *outbox.SMTP, m *outbox.Message, n, conns int) (time.Duration, error) {
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for c := range conns {
		share := n/conns + btoi(c < n%conns)
		wg.Go(func() {
			sess := s.Session()
			defer sess.Close()
			for range share {
				if _, err := sess.Send(ctx, m); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	close(errs)
	return el, <-errs
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cascade is who publishes and forwards: NISC's analyst, a liaison per
// ministry, a secretariat per CEPTOAR.
type cascade struct {
	analyst      *account.Principal
	ministries   []*account.Principal
	secretariats []*account.Principal
	recipients   []kyoyu.RecipientPair
	// direct: the operators each ministry passes the advisory to itself —
	// those in its sectors that belong to no CEPTOAR.
	direct map[int64][]int64
}

func principalOf(ctx context.Context, db *store.DB, p *kyoyu.Person) (*account.Principal, error) {
	o, err := db.Organisation(ctx, p.OrganisationID)
	if err != nil {
		return nil, err
	}
	return &account.Principal{Person: p, Organisation: o}, nil
}

// firstWith returns the first active person of an organisation with role.
func firstWith(people []*kyoyu.Person, org int64, role kyoyu.Role) *kyoyu.Person {
	for _, p := range people {
		if p.OrganisationID == org && p.Role == role && p.DisabledAt == nil && p.HandlesIncidents {
			return p
		}
	}
	return nil
}

func planCascade(ctx context.Context, db *store.DB) (*cascade, error) {
	c := &cascade{direct: map[int64][]int64{}}
	analyst, err := db.PersonByEmail(ctx, NISCAnalyst)
	if err != nil {
		return nil, fmt.Errorf("fan-out: the demo NISC analyst: %w", err)
	}
	if c.analyst, err = principalOf(ctx, db, analyst); err != nil {
		return nil, err
	}
	people, err := db.People(ctx, 0)
	if err != nil {
		return nil, err
	}
	ministries, err := db.Organisations(ctx, store.OrganisationFilter{Kind: kyoyu.KindMinistry})
	if err != nil {
		return nil, err
	}
	ops, err := db.Organisations(ctx, store.OrganisationFilter{Kind: kyoyu.KindOperator})
	if err != nil {
		return nil, err
	}
	taken := map[int64]bool{}
	for _, m := range ministries {
		p := firstWith(people, m.ID, kyoyu.RoleMinistryLiaison)
		if p == nil || len(m.Sectors) == 0 {
			continue
		}
		pr := &account.Principal{Person: p, Organisation: m}
		c.ministries = append(c.ministries, pr)
		for _, s := range m.Sectors {
			c.recipients = append(c.recipients, kyoyu.RecipientPair{MinistryID: m.ID, Sector: s})
		}
		for _, o := range ops {
			if len(o.CEPTOARs) == 0 && !taken[o.ID] && slices.ContainsFunc(o.Sectors, func(s string) bool { return slices.Contains(m.Sectors, s) }) {
				c.direct[m.ID] = append(c.direct[m.ID], o.ID)
				taken[o.ID] = true
			}
		}
	}
	cs, err := db.CEPTOARs(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	for _, x := range cs {
		if seen[x.OrganisationID] {
			continue
		}
		seen[x.OrganisationID] = true
		p := firstWith(people, x.OrganisationID, kyoyu.RoleCEPTOARSecretariat)
		if p == nil {
			continue
		}
		pr, err := principalOf(ctx, db, p)
		if err != nil {
			return nil, err
		}
		c.secretariats = append(c.secretariats, pr)
	}
	if len(c.ministries) == 0 {
		return nil, fmt.Errorf("fan-out: no ministry with a liaison in the database; generate a data set first")
	}
	return c, nil
}

// Fanout runs the benchmark once: the sink's raw throughput, then one
// WHITE advisory (a public 注意喚起, which every organisation on the
// chain may receive) published to every ministry for each of its sectors,
// passed by every ministry to every CEPTOAR of its sectors and to the
// operators of its sectors outside any CEPTOAR, and by every secretariat
// to its members — through the advisory service, as the UI does — while
// the outbox workers send its e-mail to the sink.
//
// Each phase has an SMTP sink process of its own, keeping mail in a fresh
// folder, so neither finds the other's leftovers.
func Fanout(ctx context.Context, db *store.DB, opt FanoutOptions, tag string) (*FanoutResult, error) {
	logf := func(format string, args ...any) {
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, format+"\n", args...)
		}
	}
	startSink := func() (*Sink, kyoyu.Config, func(), error) {
		dir, err := os.MkdirTemp("", "kyoyu-fanout-mail")
		if err != nil {
			return nil, kyoyu.Config{}, nil, err
		}
		sink, err := StartSink(ctx, opt.Sink, dir)
		if err != nil {
			os.RemoveAll(dir)
			return nil, kyoyu.Config{}, nil, err
		}
		stop := func() { sink.Stop(); os.RemoveAll(dir) }
		host, port, _ := net.SplitHostPort(sink.Addr)
		portN, _ := strconv.Atoi(port)
		cfg := kyoyu.Config{DB: "sqlite:unused", SMTPHost: host, SMTPPort: portN, SMTPMode: "none",
			SMTPFrom: "Kyoyu <kyoyu@nisc.example.go.jp>", BaseURL: "https://kyoyu.example.go.jp"}
		if err := cfg.Validate(); err != nil {
			stop()
			return nil, cfg, nil, err
		}
		return sink, cfg, stop, nil
	}
	sink, cfg, stop, err := startSink()
	if err != nil {
		return nil, err
	}
	defer func() { stop() }()
	plan, err := planCascade(ctx, db)
	if err != nil {
		return nil, err
	}
	res := &FanoutResult{LoadAvg: loadAvg()}
	conns := opt.Workers * opt.Conns

	// (a) The server's raw throughput: as many messages as the fan-out
	// will send, of the same size, over as many connections.
	people, err := db.People(ctx, 0)
	if err != nil {
		return nil, err
	}
	sample := &store.Notification{ID: 1, Kind: "notify.advisory_received", Link: "/ack/" + strings.Repeat("x", 32)}
	msg, err := outbox.Render(cfg, &store.Job{ID: 100000, CreatedAt: time.Now()}, people[len(people)-1], sample,
		store.OutboxItem{TLP: "white"}, time.Now())
	if err != nil {
		return nil, err
	}
	res.RawMessages = len(people)
	if res.RawElapsed, err = RawSMTP(ctx, outbox.NewSMTP(cfg), msg, res.RawMessages, conns); err != nil {
		return nil, fmt.Errorf("raw SMTP: %w", err)
	}
	if n, _, _, err := sink.Accepted(); err != nil || n != res.RawMessages {
		return nil, fmt.Errorf("raw SMTP: the sink kept %d of %d messages (%v)", n, res.RawMessages, err)
	}
	logf("load average at the start: %s", res.LoadAvg)
	logf("raw: %d messages over %d connections in %s: %.0f/s", res.RawMessages, conns, res.RawElapsed.Round(time.Millisecond), res.RawRate())
	stop()
	if sink, cfg, stop, err = startSink(); err != nil {
		return nil, err
	}
	svc := advisory.New(db, cfg)

	// (b, c) The fan-out, with the workers running as in a server.
	wctx, stopWorkers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := range opt.Workers {
		wk := outbox.New(db, cfg, slog.New(slog.DiscardHandler))
		wk.ID = fmt.Sprintf("bench-%s-%d", tag, i)
		wk.Batch, wk.Conns, wk.Poll = opt.Batch, opt.Conns, opt.Poll
		wg.Go(func() { wk.Run(wctx) })
	}
	defer func() { stopWorkers(); wg.Wait() }()

	a, err := svc.Draft(ctx, plan.analyst, "192.0.2.1", kyoyu.AdvisoryForm{
		Reason: kyoyu.ReasonVulnerability, Importance: "advisory", TLP: "white",
		Title:      "VPN装置の脆弱性に関する注意喚起（" + tag + "）",
		Summary:    "広く使われているVPN装置に認証回避の脆弱性があり、悪用が確認された。",
		Actions:    "修正版を適用し、不審な接続の有無を確認すること。",
		Recipients: plan.recipients,
	})
	if err != nil {
		return nil, fmt.Errorf("draft: %w", err)
	}
	start := db.Now()
	t0 := time.Now()
	if res.Number, err = svc.Publish(ctx, plan.analyst, "192.0.2.1", a.VersionID); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	res.Publish = time.Since(t0)
	for _, m := range plan.ministries {
		in := advisory.ForwardInput{AllCEPTOARs: true, Operators: plan.direct[m.Organisation.ID]}
		if _, err := svc.Forward(ctx, m, "192.0.2.2", a.ID, in); err != nil && kyoyu.ErrorCode(err) != kyoyu.EINVALID {
			return nil, fmt.Errorf("forward by %s: %w", m.Organisation.NameJA, err)
		} else if err != nil {
			// A ministry whose sectors have no CEPTOAR: only its operators.
			in.AllCEPTOARs = false
			if len(in.Operators) == 0 {
				continue
			}
			if _, err := svc.Forward(ctx, m, "192.0.2.2", a.ID, in); err != nil {
				return nil, fmt.Errorf("forward by %s: %w", m.Organisation.NameJA, err)
			}
		}
	}
	for _, s := range plan.secretariats {
		if _, err := svc.Forward(ctx, s, "192.0.2.3", a.ID, advisory.ForwardInput{AllMembers: true}); err != nil {
			if kyoyu.ErrorCode(err) == kyoyu.EINVALID || kyoyu.ErrorCode(err) == kyoyu.EFORBIDDEN {
				continue // a CEPTOAR with no members of its own, or not reached
			}
			return nil, fmt.Errorf("forward by %s: %w", s.Organisation.NameJA, err)
		}
	}
	res.Cascade = time.Since(t0)
	recorded, orgs, notes, err := recordedAt(ctx, db, a.ID, start)
	if err != nil {
		return nil, err
	}
	res.Organisations, res.Notifications = orgs, notes
	res.Recorded = recorded.Sub(start)
	logf("%s: %d organisations, %d people told; publish %s, every hop made %s, last delivery recorded %s after publishing",
		res.Number, orgs, notes, res.Publish.Round(time.Millisecond), res.Cascade.Round(time.Millisecond), res.Recorded.Round(time.Millisecond))

	// Wait until no job is pending or running (a cheap look, through the
	// index of due jobs, four times a second: the times measured are the
	// sink's, not this loop's), then count this run's e-mail jobs.
	for {
		var busy int
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE status IN ('pending', 'running')`).Scan(&busy); err != nil {
			return nil, err
		}
		if busy == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	counts, err := jobCounts(ctx, db, start)
	if err != nil {
		return nil, err
	}
	res.JobsDone, res.JobsDropped = counts[store.JobDone], counts[store.JobDropped]
	res.Emails = counts[store.JobDone] + counts[store.JobDropped] + counts[store.JobDead]
	res.Others = counts[store.JobDead]
	n, first, last, by, err := sink.AcceptedBy(t0.Add(res.Cascade))
	if err != nil {
		return nil, err
	}
	res.Accepted, res.AcceptedDuringCascade = n, by
	res.FirstAccepted, res.LastAccepted = first.Sub(t0), last.Sub(t0)
	if n != res.JobsDone {
		return res, fmt.Errorf("the sink kept %d messages for %d e-mail jobs done", n, res.JobsDone)
	}
	logf("e-mail: %d accepted (%d dropped, %d dead); first %s, last %s after publishing: %.0f/s, %.2f× the raw time; %d while the hops were made, %.0f/s after",
		n, res.JobsDropped, res.Others, res.FirstAccepted.Round(time.Millisecond), res.LastAccepted.Round(time.Millisecond), res.Rate(), res.Ratio(),
		by, float64(n-by)/(res.LastAccepted-res.Cascade).Seconds())
	return res, nil
}

// recordedAt reads, from the database, when the last delivery and the last
// notification of the advisory were recorded, and how many.
func recordedAt(ctx context.Context, db *store.DB, advisoryID int64, since time.Time) (time.Time, int, int, error) {
	ds, err := db.Deliveries(ctx, advisoryID)
	if err != nil {
		return time.Time{}, 0, 0, err
	}
	var last time.Time
	for _, d := range ds {
		if d.DeliveredAt.After(last) {
			last = d.DeliveredAt
		}
	}
	// Every hop records its notifications in the transaction, and with the
	// time, of its deliveries.
	q := `SELECT COUNT(*) FROM notifications WHERE created_at >= ?`
	if db.Dialect == store.Postgres {
		q = strings.Replace(q, "?", "$1", 1)
	}
	var n int
	if err := db.SQL().QueryRowContext(ctx, q, since).Scan(&n); err != nil {
		return time.Time{}, 0, 0, fmt.Errorf("count notifications: %w", err)
	}
	return last, len(ds), n, nil
}

// jobCounts counts the e-mail jobs created since a time, by status.
func jobCounts(ctx context.Context, db *store.DB, since time.Time) (map[string]int, error) {
	q := `SELECT status, COUNT(*) FROM jobs WHERE kind = 'email' AND created_at >= ? GROUP BY status`
	if db.Dialect == store.Postgres {
		q = strings.Replace(q, "?", "$1", 1)
	}
	rows, err := db.SQL().QueryContext(ctx, q, since)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// loadAvg is /proc/loadavg's first three figures, or "" elsewhere: the
// figures of a shared machine mean little without it.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
