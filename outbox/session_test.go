package outbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"kyoyu/outbox"
)

// TestSMTPSessionReuse sends message after message over one session: a
// refused recipient leaves the connection usable for the next message; a
// connection the server dropped while idle (here: the server restarted)
// is dialled again before anything of the next message was accepted, so
// it arrives once; a server that is gone is a failure to retry.
func TestSMTPSessionReuse(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	port, dir := freePort(t), t.TempDir()
	sink := startSink(t, port, dir, "-reject-rcpt", "nobody")
	s := &outbox.SMTP{Host: "127.0.0.1", Port: port, Mode: "none", Timeout: 5 * time.Second, HelloName: "kyoyu.example.go.jp"}
	sess := s.Session()
	defer sess.Close()
	send := func(to string) error {
		_, err := sess.Send(ctx, testMessage(to))
		return err
	}
	for i := range 3 {
		if err := send(fmt.Sprintf("person%d@example.jp", i)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if err := send("nobody@example.jp"); err == nil || !outbox.IsPermanent(err) {
		t.Fatalf("refused recipient: %v", err)
	}
	if err := send("after-refusal@example.jp"); err != nil {
		t.Fatalf("after a refusal: %v", err)
	}

	sink.cmd.Process.Kill()
	<-sink.done
	sink = startSink(t, port, dir, "-reject-rcpt", "nobody")
	if err := send("after-restart@example.jp"); err != nil {
		t.Fatalf("after the server restarted: %v", err)
	}
	sink.cmd.Process.Kill()
	<-sink.done
	if err := send("server-gone@example.jp"); err == nil || outbox.IsPermanent(err) {
		t.Fatalf("with the server gone: %v, want a failure to retry", err)
	}

	got := map[string]int{}
	for _, m := range readMail(t, dir) {
		got[m.Rcpt]++
	}
	want := []string{"person0@example.jp", "person1@example.jp", "person2@example.jp", "after-refusal@example.jp", "after-restart@example.jp"}
	for _, to := range want {
		if got[to] != 1 {
			t.Errorf("%s received %d messages, want 1", to, got[to])
		}
	}
	if len(got) != len(want) {
		t.Errorf("received by %v", got)
	}
}
