package outbox_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/internal/testkit"
	"kyoyu/outbox"
	"kyoyu/policy"
	"kyoyu/store"
)

type delivery struct {
	id, event string
	body      []byte
	signed    bool
}

// receiver is an organisation's endpoint that checks every signature. The
// first request of each delivery takes longer than the sender waits.
func receiver(t *testing.T, secret string, status int, slowFirst time.Duration) (*httptest.Server, func() []delivery) {
	var mu sync.Mutex
	var got []delivery
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := delivery{id: r.Header.Get("X-Kyoyu-Delivery"), event: r.Header.Get("X-Kyoyu-Event"), body: body,
			signed: r.Header.Get("X-Kyoyu-Signature") == outbox.Sign(secret, body)}
		mu.Lock()
		first := !slices.ContainsFunc(got, func(x delivery) bool { return x.id == d.id })
		got = append(got, d)
		mu.Unlock()
		if !d.signed {
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		if first && slowFirst > 0 {
			time.Sleep(slowFirst)
		}
		rw.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []delivery {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// TestWebhooks: an organisation's endpoint receives one signed event per
// notification event, without content; a timeout is retried; a 410 is
// final; an endpoint without a secret of its own is signed with the
// server's.
func TestWebhooks(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := runCtx(t)
		w := setup(t, db, freePort(t))
		w.cfg.SMTPHost = "" // webhooks only: e-mail must wait, untouched
		w.cfg.WebhookSecret = strings.Repeat("k", 32)
		const secret = "organisation-secret-0123456789abcdef"
		slow, slowGot := receiver(t, secret, http.StatusNoContent, 400*time.Millisecond)
		gone, goneGot := receiver(t, w.cfg.WebhookSecret, http.StatusGone, 0)
		if err := db.AddWebhook(ctx, kyoyu.Actor{IP: "test"}, &store.Webhook{OrgID: w.reporter.Organisation.ID, URL: slow.URL + "/kyoyu", Secret: secret}); err != nil {
			t.Fatal(err)
		}
		if err := db.AddWebhook(ctx, kyoyu.Actor{IP: "test"}, &store.Webhook{OrgID: w.other.Organisation.ID, URL: gone.URL}); err != nil {
			t.Fatal(err)
		}
		red, err := db.CreateItem(ctx, policy.Item{Kind: policy.Report, TLP: policy.Red, Originator: w.reporter.Organisation.ID})
		if err != nil {
			t.Fatal(err)
		}
		admin := principal(t, db, "admin@operator.demo.kyoyu.jp")
		// One event told to two people of the organisation: one delivery.
		if err := db.Notify(ctx,
			store.Notification{PersonID: w.reporter.Person.ID, ItemID: red, Kind: "notify.case_received", Link: "/cases/7"},
			store.Notification{PersonID: admin.Person.ID, ItemID: red, Kind: "notify.case_received", Link: "/cases/7"},
			store.Notification{PersonID: w.other.Person.ID, Kind: "notify.follow_up_overdue", Link: "/reports"}); err != nil {
			t.Fatal(err)
		}
		wk := outbox.New(db, w.cfg, slog.New(slog.DiscardHandler))
		wk.Poll, wk.Backoff, wk.MaxBackoff = 10*time.Millisecond, 20*time.Millisecond, 50*time.Millisecond
		wk.HTTP = outbox.NewHTTPClient(150 * time.Millisecond)
		if err := wk.RunUntilIdle(ctx); err != nil {
			t.Fatal(err)
		}
		hooks, err := db.Jobs(ctx, store.JobFilter{Kind: store.JobWebhook})
		if err != nil || len(hooks) != 2 {
			t.Fatalf("%d webhook jobs, %v", len(hooks), err)
		}
		ok, dead := hooks[1], hooks[0]
		if ok.Status != store.JobDone || ok.Attempts != 2 || ok.Result != "HTTP 204" || !strings.Contains(ok.LastError, "Timeout") {
			t.Errorf("slow endpoint: job %+v", ok)
		}
		got := slowGot()
		if len(got) != 2 {
			t.Fatalf("slow endpoint got %d requests, want 2 (a timeout, then the retry)", len(got))
		}
		for _, d := range got {
			if !d.signed || d.id != fmt.Sprint(ok.ID) || d.event != "notify.case_received" {
				t.Errorf("delivery %+v", d)
			}
			var body map[string]any
			if err := json.Unmarshal(d.body, &body); err != nil {
				t.Fatal(err)
			}
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range body {
					if !yield(k) {
						return
					}
				}
			})
			if !slices.Equal(keys, []string{"delivery", "event", "link", "occurred_at"}) || body["link"] != w.cfg.BaseURL+"/cases/7" {
				t.Errorf("body %s", d.body)
			}
		}
		if dead.Status != store.JobDead || dead.Attempts != 1 || !strings.Contains(dead.LastError, "HTTP 410") {
			t.Errorf("gone endpoint: job %+v", dead)
		}
		if g := goneGot(); len(g) != 1 || !g[0].signed {
			t.Errorf("gone endpoint got %+v (signed with the server's secret?)", g)
		}
		// Without an SMTP server, e-mail was left alone for one that has it.
		emails, _ := db.Jobs(ctx, store.JobFilter{Kind: store.JobEmail})
		for _, e := range emails {
			if e.Status != store.JobPending || e.Attempts != 0 {
				t.Errorf("e-mail job touched without SMTP: %+v", e)
			}
		}
	})
}

// TestWebhookDroppedWhenRangeNarrows: the organisation may no longer see
// the item by the time the event is sent: nothing is posted.
func TestWebhookDroppedWhenRangeNarrows(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := runCtx(t)
		w := setup(t, db, freePort(t))
		srv, got := receiver(t, "s", http.StatusNoContent, 0)
		if err := db.AddWebhook(ctx, kyoyu.Actor{IP: "test"}, &store.Webhook{OrgID: w.other.Organisation.ID, URL: srv.URL, Secret: "s"}); err != nil {
			t.Fatal(err)
		}
		item, err := db.CreateItem(ctx, policy.Item{Kind: policy.Report, TLP: policy.White, Originator: w.liaison.Organisation.ID, Shared: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Notify(ctx, store.Notification{PersonID: w.other.Person.ID, ItemID: item, Kind: "notify.case_received", Link: "/cases/1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, `UPDATE items SET tlp = 'red'`); err != nil {
			t.Fatal(err)
		}
		wk := w.worker(db, "w")
		wk.Mail = nil
		if err := wk.RunUntilIdle(ctx); err != nil {
			t.Fatal(err)
		}
		hooks, _ := db.Jobs(ctx, store.JobFilter{Kind: store.JobWebhook})
		if len(hooks) != 1 || hooks[0].Status != store.JobDropped || !strings.Contains(hooks[0].Result, "may no longer see") || len(got()) != 0 {
			t.Fatalf("job %+v, %d requests", hooks[0], len(got()))
		}
	})
}
