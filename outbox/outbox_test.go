package outbox_test

import (
	"context"
	"errors"
	"fmt"
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

// TestEmailToEachPerson walks two reports to NISC and checks what each
// person notified actually received from a real SMTP server: one message
// per notification, to the right address, link-only for RED, with the case
// number for GREEN; a narrowed range drops the mail; a 550 kills the job.
func TestEmailToEachPerson(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := runCtx(t)
		port, dir := freePort(t), t.TempDir()
		startSink(t, port, dir, "-reject-rcpt", "bounce")
		w := setup(t, db, port)
		english := w.person(t, "meti", "english@meti.example.go.jp", "en")

		redCase, redNumber := w.report(t, "red")
		greenCase, greenNumber := w.report(t, "green")

		// Told while the range allowed it, narrowed before the mail went out.
		narrowed, err := db.CreateItem(ctx, policy.Item{Kind: policy.Report, TLP: policy.Green, Originator: w.liaison.Organisation.ID,
			Shared: true, Sectors: []string{"gas"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ItemAccess(ctx, policy.ViewerOf(w.other.Person, w.other.Organisation), narrowed); err != nil {
			t.Fatalf("the gas operator should see the GREEN item first: %v", err)
		}
		bounce := w.person(t, "demo_gas_1", "bounce@gas.example.jp", "ja")
		if err := db.Notify(ctx,
			store.Notification{PersonID: w.other.Person.ID, ItemID: narrowed, Kind: "notify.case_received", Link: "/cases/999"},
			store.Notification{PersonID: bounce.Person.ID, Kind: "notify.follow_up_overdue", Link: "/reports"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, fmt.Sprintf(`UPDATE items SET tlp = 'red' WHERE id = %d`, narrowed)); err != nil {
			t.Fatal(err)
		}

		if err := w.worker(db, "w1").RunUntilIdle(ctx); err != nil {
			t.Fatal(err)
		}
		msgs := byMessageID(readMail(t, dir))
		done := 0
		perPerson := map[string]int{}
		for _, e := range emailJobs(t, db) {
			j, n, p := e.job, e.n, e.person
			switch p.Email {
			case w.other.Person.Email:
				if j.Status != store.JobDropped || !strings.Contains(j.Result, "may no longer see") {
					t.Errorf("narrowed range: job %+v", j)
				}
				continue
			case bounce.Person.Email:
				if j.Status != store.JobDead || !strings.Contains(j.LastError, "550") || j.Attempts != 1 {
					t.Errorf("550: job %+v", j)
				}
				continue
			}
			if j.Status != store.JobDone || !strings.HasPrefix(j.Result, "250 ") || !strings.Contains(j.Result, "queued as") {
				t.Errorf("job %d for %s: %+v", j.ID, p.Email, j)
				continue
			}
			done++
			perPerson[p.Email]++
			got := msgs[outbox.MessageID(w.cfg, j)]
			if len(got) != 1 {
				t.Errorf("job %d: %d messages with its Message-ID", j.ID, len(got))
				continue
			}
			m := got[0]
			if m.Rcpt != p.Email {
				t.Errorf("job %d: sent to %s, want %s", j.ID, m.Rcpt, p.Email)
			}
			if !strings.Contains(m.Body, w.cfg.BaseURL+n.Link) {
				t.Errorf("job %d: no link in %q", j.ID, m.Body)
			}
			switch n.Link {
			case fmt.Sprintf("/cases/%d", redCase):
				want := "【Kyoyu】お知らせがあります"
				if p.Locale == "en" {
					want = "[Kyoyu] You have a new notification"
				}
				if m.Subject != want {
					t.Errorf("RED subject %q, want %q", m.Subject, want)
				}
				for _, leak := range []string{redNumber, "東和", "侵入", "報"} {
					if strings.Contains(m.Subject+m.Body, leak) {
						t.Errorf("RED mail to %s carries %q: %s\n%s", p.Email, leak, m.Subject, m.Body)
					}
				}
			case fmt.Sprintf("/cases/%d", greenCase):
				if n.Kind == "notify.case_received" && !strings.Contains(m.Subject, greenNumber) {
					t.Errorf("GREEN subject %q lacks %s", m.Subject, greenNumber)
				}
				if strings.Contains(m.Body, "東和") {
					t.Errorf("GREEN mail carries content: %s", m.Body)
				}
				if p.Locale == "en" && !strings.HasPrefix(m.Subject, "[Kyoyu] Report 1") {
					t.Errorf("English subject %q", m.Subject)
				}
			}
		}
		total := 0
		for _, ms := range msgs {
			total += len(ms)
		}
		if total != done {
			t.Errorf("the server received %d messages for %d sent jobs", total, done)
		}
		// Per report: the ministry is told it is waiting and that NISC has
		// it; the operator's people that NISC has it.
		for _, email := range []string{w.liaison.Person.Email, english.Person.Email} {
			if perPerson[email] != 4 {
				t.Errorf("%s received %d messages, want 4", email, perPerson[email])
			}
		}
		if perPerson[w.reporter.Person.Email] != 2 {
			t.Errorf("reporter received %d messages, want 2", perPerson[w.reporter.Person.Email])
		}
		if e := lastAudit(t, db, "job.dead"); !strings.Contains(e.Detail, "550") {
			t.Errorf("dead job audited as %+v", e)
		}
	})
}

// TestMailServerDiesMidRun: the mail server goes away between messages;
// the jobs wait, are retried, and once it is back each message arrives
// exactly once.
func TestMailServerDiesMidRun(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := runCtx(t)
		port, dir := freePort(t), t.TempDir()
		first := startSink(t, port, dir, "-die-after", "2")
		w := setup(t, db, port)
		item, err := db.CreateItem(ctx, policy.Item{Kind: policy.Report, TLP: policy.White, Originator: w.liaison.Organisation.ID, Shared: true})
		if err != nil {
			t.Fatal(err)
		}
		var ns []store.Notification
		for i := range 6 {
			p := w.person(t, "demo_gas_1", fmt.Sprintf("p%d@gas.example.jp", i), "ja")
			ns = append(ns, store.Notification{PersonID: p.Person.ID, ItemID: item, Kind: "notify.case_received", Link: "/cases/1"})
		}
		if err := db.Notify(ctx, ns...); err != nil {
			t.Fatal(err)
		}
		wk := w.worker(db, "w1")
		wk.Batch = 1 // one conversation at a time: the server dies between two
		errc := make(chan error, 1)
		go func() { errc <- wk.RunUntilIdle(ctx) }()
		select {
		case <-first.done:
		case <-ctx.Done():
			t.Fatal("the mail server did not go away")
		}
		// Wait until the outage has been met and recorded, then restart.
		for {
			js, err := db.Jobs(ctx, store.JobFilter{Status: store.JobPending})
			if err != nil {
				t.Fatal(err)
			}
			if anyFailed(js) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		startSink(t, port, dir)
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		msgs := byMessageID(readMail(t, dir))
		retried := 0
		for _, e := range emailJobs(t, db) {
			if e.job.Status != store.JobDone {
				t.Errorf("job %d is %s (%s)", e.job.ID, e.job.Status, e.job.LastError)
			}
			if got := msgs[outbox.MessageID(w.cfg, e.job)]; len(got) != 1 || got[0].Rcpt != e.person.Email {
				t.Errorf("job %d: received %d times: %+v", e.job.ID, len(got), got)
			}
			if e.job.Attempts > 1 {
				retried++
			}
		}
		if len(msgs) != 6 || retried == 0 {
			t.Errorf("%d distinct messages (want 6), %d retried (want some)", len(msgs), retried)
		}
	})
}

func anyFailed(js []*store.Job) bool {
	for _, j := range js {
		if j.LastError != "" {
			return true
		}
	}
	return false
}

// TestTwoServersSendOnce: two workers on two pools of one database, as two
// servers on one PostgreSQL, deliver each message once.
func TestTwoServersSendOnce(t *testing.T) {
	t.Parallel()
	for _, d := range testkit.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := runCtx(t)
			url := testkit.NewDatabaseURL(t, d)
			var dbs []*store.DB
			for range 2 {
				db, err := store.Open(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				if _, err := db.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				dbs = append(dbs, db)
			}
			port, dir := freePort(t), t.TempDir()
			startSink(t, port, dir)
			w := setup(t, dbs[0], port)
			item, err := dbs[0].CreateItem(ctx, policy.Item{Kind: policy.Report, TLP: policy.White, Originator: w.liaison.Organisation.ID, Shared: true})
			if err != nil {
				t.Fatal(err)
			}
			var ns []store.Notification
			for i := range 24 {
				p := w.reporter
				if i%2 == 1 {
					p = w.liaison
				}
				ns = append(ns, store.Notification{PersonID: p.Person.ID, ItemID: item, Kind: "notify.case_received", Link: fmt.Sprintf("/cases/%d", i)})
			}
			if err := dbs[0].Notify(ctx, ns...); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for i, db := range dbs {
				wk := w.worker(db, fmt.Sprintf("server%d", i))
				wk.Batch = 3
				wg.Go(func() {
					if err := wk.RunUntilIdle(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			msgs := byMessageID(readMail(t, dir))
			jobs := emailJobs(t, dbs[1])
			if len(msgs) != len(jobs) || len(jobs) != 24 {
				t.Fatalf("%d distinct messages for %d jobs", len(msgs), len(jobs))
			}
			for _, e := range jobs {
				if got := msgs[outbox.MessageID(w.cfg, e.job)]; len(got) != 1 || e.job.Status != store.JobDone || e.job.Attempts != 1 {
					t.Errorf("job %d (%s, %d attempts) received %d times", e.job.ID, e.job.Status, e.job.Attempts, len(got))
				}
			}
		})
	}
}

// TestDisabledPersonIsNotMailed: an account disabled after the notification
// gets no mail, and the job says why.
func TestDisabledPersonIsNotMailed(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := runCtx(t)
		w := setup(t, db, freePort(t)) // no server: nothing may be sent
		p := w.person(t, "demo_gas_1", "leaver@gas.example.jp", "ja")
		if err := db.Notify(ctx, store.Notification{PersonID: p.Person.ID, Kind: "notify.follow_up_overdue", Link: "/reports"}); err != nil {
			t.Fatal(err)
		}
		if err := db.DisablePerson(ctx, kyoyu.Actor{IP: "test"}, p.Person.ID); err != nil {
			t.Fatal(err)
		}
		if err := w.worker(db, "w").RunUntilIdle(ctx); err != nil {
			t.Fatal(err)
		}
		js := emailJobs(t, db)
		if len(js) != 1 || js[0].job.Status != store.JobDropped || !strings.Contains(js[0].job.Result, "disabled") {
			t.Fatalf("jobs %+v", js[0].job)
		}
	})
}

func lastAudit(t *testing.T, db *store.DB, action string) (e struct{ Detail string }) {
	t.Helper()
	es, err := db.AuditEntries(context.Background(), store.AuditFilter{Action: action, Limit: 1})
	if err != nil || len(es) == 0 {
		t.Fatalf("no audit entry for %s: %v", action, errors.Join(err))
	}
	e.Detail = es[0].Detail
	return e
}
