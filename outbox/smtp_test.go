package outbox_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/outbox"
	"kyoyu/store"
)

// selfSigned writes a certificate for 127.0.0.1 and its key to dir and
// returns the pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sink.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func testMessage(to string) *outbox.Message {
	return &outbox.Message{From: mail.Address{Name: "Kyoyu", Address: "kyoyu@example.go.jp"}, To: mail.Address{Name: "試験 太郎", Address: to},
		Subject: "【Kyoyu】お知らせがあります", Body: "テスト\r\n.\r\n行頭のドット", MessageID: "<kyoyu.job.1.1@example.go.jp>", Date: time.Now()}
}

// TestSMTPModes sends through STARTTLS and implicit TLS with a login, and
// classifies what goes wrong: a bad password or an untrusted certificate
// is retried (configuration), a refused recipient is final.
func TestSMTPModes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	for _, mode := range []string{"starttls", "tls"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			port, mailDir := freePort(t), t.TempDir()
			startSink(t, port, mailDir, "-mode", mode, "-cert", certFile, "-key", keyFile, "-auth", "kyoyu:pa55word", "-reject-rcpt", "nobody")
			s := &outbox.SMTP{Host: "127.0.0.1", Port: port, Mode: mode, Username: "kyoyu", Password: "pa55word",
				TLSConfig: &tls.Config{RootCAs: pool}, Timeout: 5 * time.Second, HelloName: "kyoyu.example.go.jp"}
			answer, err := s.Send(ctx, testMessage("taro@example.jp"))
			if err != nil || !strings.Contains(answer, "queued as") {
				t.Fatalf("send: %q %v", answer, err)
			}
			ms := readMail(t, mailDir)
			if len(ms) != 1 || ms[0].Rcpt != "taro@example.jp" || ms[0].Body != "テスト\r\n.\r\n行頭のドット" || ms[0].MessageID != "<kyoyu.job.1.1@example.go.jp>" {
				t.Fatalf("received %+v", ms)
			}
			if _, err := s.Send(ctx, testMessage("nobody@example.jp")); err == nil || !outbox.IsPermanent(err) || !strings.Contains(err.Error(), "550") {
				t.Errorf("refused recipient: %v (permanent %t)", err, outbox.IsPermanent(err))
			}
			bad := *s
			bad.Password = "wrong"
			if _, err := bad.Send(ctx, testMessage("taro@example.jp")); err == nil || outbox.IsPermanent(err) {
				t.Errorf("bad password: %v (permanent %t), want a retryable error", err, outbox.IsPermanent(err))
			}
			untrusted := *s
			untrusted.TLSConfig = nil
			if _, err := untrusted.Send(ctx, testMessage("taro@example.jp")); err == nil || outbox.IsPermanent(err) {
				t.Errorf("untrusted certificate: %v", err)
			}
			if n := len(readMail(t, mailDir)); n != 1 {
				t.Errorf("%d messages kept, want 1", n)
			}
		})
	}
}

// TestRenderRanges: what a message may say, by range and locale.
func TestRenderRanges(t *testing.T) {
	t.Parallel()
	cfg := kyoyu.Config{BaseURL: "https://kyoyu.example.go.jp", SMTPHost: "mail.example.go.jp", SMTPFrom: "Kyoyu <kyoyu@example.go.jp>"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	job := &store.Job{ID: 42, CreatedAt: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
	n := &store.Notification{Kind: "notify.case_received", Link: "/cases/9", Params: map[string]string{"report_number": "2"}}
	cases := []struct {
		tlp, locale, subject string
		body                 []string
	}{
		{"red", "ja", "【Kyoyu】お知らせがあります", []string{"https://kyoyu.example.go.jp/cases/9"}},
		{"amber", "en", "[Kyoyu] You have a new notification", []string{"https://kyoyu.example.go.jp/cases/9"}},
		{"", "ja", "【Kyoyu】お知らせがあります", nil},
		{"green", "ja", "【Kyoyu】第2報が NISC に届きました（JP-2026-00009）", []string{"識別番号: JP-2026-00009"}},
		{"white", "en", "[Kyoyu] Report 2 reached NISC (JP-2026-00009)", []string{"Case number: JP-2026-00009"}},
		{"green", "fr", "【Kyoyu】第2報が NISC に届きました（JP-2026-00009）", nil},
	}
	for _, c := range cases {
		p := &kyoyu.Person{Name: "試験 太郎", Email: "taro@example.jp", Locale: c.locale}
		m, err := outbox.Render(cfg, job, p, n, store.OutboxItem{TLP: c.tlp, CaseNumber: "JP-2026-00009"}, job.CreatedAt)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != c.subject {
			t.Errorf("%s/%s: subject %q, want %q", c.tlp, c.locale, m.Subject, c.subject)
		}
		for _, want := range c.body {
			if !strings.Contains(m.Body, want) {
				t.Errorf("%s/%s: body lacks %q: %s", c.tlp, c.locale, want, m.Body)
			}
		}
		if c.tlp != "green" && c.tlp != "white" && (strings.Contains(m.Body, "JP-2026") || strings.Contains(m.Body, "NISC") || !strings.Contains(m.Body, "/cases/9")) {
			t.Errorf("%q: want the link and nothing of the event: %s", c.tlp, m.Body)
		}
		if m.MessageID != "<kyoyu.job.42.1795219200000@kyoyu.example.go.jp>" {
			t.Errorf("Message-ID %s", m.MessageID)
		}
	}
	raw := string((&outbox.Message{From: mail.Address{Address: "a@b.jp"}, To: mail.Address{Address: "c@d.jp"}, Subject: "件名", Body: "本文", MessageID: "<x@y>", Date: job.CreatedAt}).Bytes())
	for _, want := range []string{"Subject: =?UTF-8?b?", "Date: Sat, 21 Nov 2026 09:00:00 +0900", "Content-Transfer-Encoding: base64", "Auto-Submitted: auto-generated", "\r\n\r\n5pys5paH\r\n"} {
		if !strings.Contains(raw, want) {
			t.Errorf("message lacks %q:\n%s", want, raw)
		}
	}
}
