// Command smtpsink is a small SMTP server for the outbox's tests: it keeps
// every message it accepts as a file in a folder, so a test can see what
// each person actually received. It runs as its own process so that a
// test can kill it and start it again, as a real mail server goes away.
//
//	smtpsink -addr 127.0.0.1:2525 -dir /tmp/mail [-mode none|starttls|tls -cert c.pem -key k.pem]
//	         [-auth user:password] [-reject-rcpt PREFIX] [-die-after N]
//
// It prints "listening on ADDR" once it accepts connections.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

type sink struct {
	dir        string
	user, pass string
	reject     string
	dieAfter   int

	mu       sync.Mutex
	accepted int
}

type session struct {
	s    *sink
	auth bool
	from string
	to   []string
}

func (s *sink) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }

func (x *session) AuthMechanisms() []string {
	if x.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.user || pass != x.s.pass {
			return smtp.ErrAuthFailed
		}
		x.auth = true
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.user != "" && !x.auth {
		return smtp.ErrAuthRequired
	}
	x.s.mu.Lock()
	died := x.s.dieAfter > 0 && x.s.accepted >= x.s.dieAfter
	x.s.mu.Unlock()
	if died {
		// Gone between two messages, like a server killed mid-run: the
		// client is left with a dead connection.
		os.Exit(3)
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if x.s.reject != "" && strings.HasPrefix(to, x.s.reject) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable: " + to}
	}
	x.to = append(x.to, to)
	return nil
}

// Data keeps the message before answering: a file exists for every 250.
func (x *session) Data(r io.Reader) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.accepted++
	id := fmt.Sprintf("%06d-%d", x.s.accepted, time.Now().UnixNano())
	head := fmt.Sprintf("X-Sink-From: %s\r\nX-Sink-Rcpt: %s\r\n", x.from, strings.Join(x.to, ", "))
	tmp := filepath.Join(x.s.dir, id+".tmp")
	if err := os.WriteFile(tmp, append([]byte(head), body...), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(x.s.dir, id+".eml")); err != nil {
		return err
	}
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "OK: queued as " + id}
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func main() {
	addr := flag.String("addr", "127.0.0.1:2525", "listen address")
	dir := flag.String("dir", "", "folder for received messages")
	mode := flag.String("mode", "none", "none, starttls or tls")
	cert := flag.String("cert", "", "TLS certificate (PEM)")
	key := flag.String("key", "", "TLS key (PEM)")
	auth := flag.String("auth", "", "require AUTH PLAIN as user:password")
	reject := flag.String("reject-rcpt", "", "answer 550 to recipients starting with this")
	dieAfter := flag.Int("die-after", 0, "exit when a message is started after this many were accepted")
	flag.Parse()
	if *dir == "" {
		log.Fatal("smtpsink: -dir is required")
	}
	s := &sink{dir: *dir, reject: *reject, dieAfter: *dieAfter}
	if *auth != "" {
		u, p, ok := strings.Cut(*auth, ":")
		if !ok {
			log.Fatal("smtpsink: -auth wants user:password")
		}
		s.user, s.pass = u, p
	}
	srv := smtp.NewServer(s)
	srv.Domain = "sink.test"
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	srv.AllowInsecureAuth = *mode == "none"
	var ln net.Listener
	var err error
	if *mode != "none" {
		c, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			log.Fatalf("smtpsink: %v", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{c}}
	}
	if *mode == "tls" {
		ln, err = tls.Listen("tcp", *addr, srv.TLSConfig)
	} else {
		ln, err = net.Listen("tcp", *addr)
	}
	if err != nil {
		log.Fatalf("smtpsink: %v", err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
		log.Fatalf("smtpsink: %v", err)
	}
}
