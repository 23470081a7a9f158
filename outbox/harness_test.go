package outbox_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/demo"
	"kyoyu/directory"
	"kyoyu/outbox"
	"kyoyu/report"
	"kyoyu/store"
)

// sinkBin is the SMTP server program the tests run as a separate process,
// built once for the package.
var sinkBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kyoyu-smtpsink")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sinkBin = filepath.Join(dir, "smtpsink")
	if out, err := exec.Command("go", "build", "-o", sinkBin, "kyoyu/outbox/internal/smtpsink").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build smtpsink: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// sinkProc is a running smtpsink; done closes when the process has ended.
type sinkProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startSink runs smtpsink on 127.0.0.1:port, keeping messages in dir, and
// returns once it accepts connections.
func startSink(t *testing.T, port int, dir string, args ...string) *sinkProc {
	t.Helper()
	cmd := exec.Command(sinkBin, append([]string{"-addr", fmt.Sprintf("127.0.0.1:%d", port), "-dir", dir}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
		io.Copy(io.Discard, out)
	}()
	p := &sinkProc{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-p.done })
	select {
	case line := <-ready:
		if !strings.HasPrefix(line, "listening on") {
			<-p.done
			t.Fatalf("smtpsink did not start: %q %s", line, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("smtpsink did not start in time")
	}
	return p
}

// received is one message as the sink kept it.
type received struct {
	Rcpt, MessageID, Subject, Body string
}

func readMail(t *testing.T, dir string) []received {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []received
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if err != nil {
			t.Fatalf("%s: subject: %v", f, err)
		}
		raw, _ := io.ReadAll(m.Body)
		body, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(raw)))
		if err != nil {
			t.Fatalf("%s: body: %v", f, err)
		}
		out = append(out, received{Rcpt: m.Header.Get("X-Sink-Rcpt"), MessageID: m.Header.Get("Message-ID"), Subject: subject, Body: string(body)})
	}
	return out
}

// byMessageID counts messages per Message-ID.
func byMessageID(ms []received) map[string][]received {
	out := map[string][]received{}
	for _, m := range ms {
		out[m.MessageID] = append(out[m.MessageID], m)
	}
	return out
}

type world struct {
	db                       *store.DB
	cfg                      kyoyu.Config
	svc                      *report.Service
	reporter, liaison, other *account.Principal
}

func principal(t *testing.T, db *store.DB, email string) *account.Principal {
	t.Helper()
	ctx := context.Background()
	p, err := db.PersonByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	o, err := db.Organisation(ctx, p.OrganisationID)
	if err != nil {
		t.Fatal(err)
	}
	return &account.Principal{Person: p, Organisation: o}
}

// setup loads the directory and the demo community and returns a
// configuration that mails through the sink on port.
func setup(t *testing.T, db *store.DB, port int) *world {
	t.Helper()
	ctx := context.Background()
	if err := directory.LoadBase(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, db, account.Argon2{Memory: 1024, Time: 1, Threads: 1}); err != nil {
		t.Fatal(err)
	}
	cfg := kyoyu.Config{BaseURL: "https://kyoyu.example.go.jp", SMTPHost: "127.0.0.1", SMTPPort: port, SMTPMode: "none",
		SMTPFrom: "Kyoyu <kyoyu@example.go.jp>"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, cfg: cfg, svc: report.New(db, cfg)}
	w.reporter = principal(t, db, "reporter@operator.demo.kyoyu.jp")
	w.liaison = principal(t, db, "liaison@meti.demo.kyoyu.jp")
	w.other = w.person(t, "demo_gas_1", "staff@gas.example.jp", "ja")
	return w
}

// person adds someone who handles incidents to an organisation.
func (w *world) person(t *testing.T, orgCode, email, locale string) *account.Principal {
	t.Helper()
	ctx := context.Background()
	org, err := w.db.OrganisationByCode(ctx, orgCode)
	if err != nil {
		t.Fatal(err)
	}
	role := kyoyu.RoleOperatorReporter
	if org.Has(kyoyu.KindMinistry) {
		role = kyoyu.RoleMinistryLiaison
	}
	p := &kyoyu.Person{OrganisationID: org.ID, Email: email, Name: "試験 " + strings.Split(email, "@")[0], Role: role,
		HandlesIncidents: true, PasswordHash: "x", Locale: locale}
	if err := w.db.CreatePerson(ctx, kyoyu.Actor{}, p); err != nil {
		t.Fatal(err)
	}
	return principal(t, w.db, email)
}

// worker returns a worker that retries quickly.
func (w *world) worker(db *store.DB, id string) *outbox.Worker {
	wk := outbox.New(db, w.cfg, slog.New(slog.DiscardHandler))
	wk.ID, wk.Poll, wk.Backoff, wk.MaxBackoff = id, 10*time.Millisecond, 30*time.Millisecond, 120*time.Millisecond
	return wk
}

// form is a complete report as an operator writes it; its description
// names the operator, which no RED or AMBER e-mail may repeat.
func form(tlp string) kyoyu.ReportForm {
	at := func(s string) *time.Time { t, _ := time.Parse(time.RFC3339, s); return &t }
	return kyoyu.ReportForm{
		TLP: tlp, Importance: "warning", EventClass: "intrusion", Causes: []string{"suspicious_email"},
		Sector: "electricity", DiscoveredAt: at("2026-11-20T09:30:00+09:00"), OccurredAt: at("2026-11-20T08:00:00+09:00"),
		AffectedSystem: "制御系ネットワークの監視サーバ",
		Description:    "東和電力の監視サーバに外部から侵入された形跡を確認した。",
		SystemStatus:   "partial", Outlook: "investigating",
		Reporter: kyoyu.Contact{Organisation: "東和電力株式会社", Name: "東和 報告者", Phone: "03-1234-5678"},
	}
}

// report sends a report from the operator through the ministry to NISC,
// which numbers it; people are notified on the way.
func (w *world) report(t *testing.T, tlp string) (caseID int64, number string) {
	t.Helper()
	ctx := context.Background()
	c, draft, err := w.svc.Start(ctx, w.reporter, "192.0.2.1", report.StartInput{Route: kyoyu.RouteMinistry, Form: form(tlp)})
	if err != nil {
		t.Fatal(err)
	}
	ver, _, err := w.svc.Submit(ctx, w.reporter, "192.0.2.1", draft.ID)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := w.svc.TakeUp(ctx, w.liaison, "192.0.2.2", ver.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, number, err = w.svc.Submit(ctx, w.liaison, "192.0.2.2", mine.ID); err != nil || number == "" {
		t.Fatalf("release: %q %v", number, err)
	}
	return c.ID, number
}

// emailJobs lists the e-mail jobs with their notification and person.
type emailJob struct {
	job    *store.Job
	n      *store.Notification
	person *kyoyu.Person
}

func emailJobs(t *testing.T, db *store.DB) []emailJob {
	t.Helper()
	ctx := context.Background()
	js, err := db.Jobs(ctx, store.JobFilter{Kind: store.JobEmail, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []emailJob
	for _, j := range js {
		var p store.EmailJob
		if err := json.Unmarshal(j.Payload, &p); err != nil {
			t.Fatal(err)
		}
		n, err := db.Notification(ctx, p.NotificationID)
		if err != nil {
			t.Fatal(err)
		}
		person, err := db.Person(ctx, n.PersonID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, emailJob{j, n, person})
	}
	return out
}

func runCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
