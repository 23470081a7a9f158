package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/internal/testkit"
	"kyoyu/policy"
	"kyoyu/store"
)

var kinds = []string{store.JobEmail, store.JobWebhook}

func claimOne(t *testing.T, db *store.DB, worker string) *store.Job {
	t.Helper()
	js, err := db.ClaimJobs(context.Background(), worker, kinds, 1, time.Minute)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	if len(js) != 1 {
		t.Fatalf("claimed %d jobs, want 1", len(js))
	}
	return js[0]
}

func wantNoClaim(t *testing.T, db *store.DB) {
	t.Helper()
	js, err := db.ClaimJobs(context.Background(), "w", kinds, 10, time.Minute)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	if len(js) != 0 {
		t.Fatalf("claimed %d jobs, want none: %+v", len(js), js[0])
	}
}

func TestJobLifecycle(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		move := fixClock(db)
		// The same effect enqueued twice is stored once.
		for range 2 {
			if err := db.Enqueue(ctx, store.NewJob{Kind: store.JobEmail, DedupeKey: "email:test:1", Payload: store.EmailJob{NotificationID: 7}, MaxAttempts: 2}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Enqueue(ctx, store.NewJob{Kind: store.JobWebhook, DedupeKey: "later", Payload: struct{}{}, RunAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := db.Enqueue(ctx, store.NewJob{Kind: "fax", DedupeKey: "x"}); err == nil {
			t.Fatal("unknown kind enqueued")
		}
		j := claimOne(t, db, "w1")
		var p store.EmailJob
		if err := json.Unmarshal(j.Payload, &p); err != nil || p.NotificationID != 7 {
			t.Fatalf("payload %s: %v", j.Payload, err)
		}
		if j.Status != store.JobRunning || j.Attempts != 1 || j.LockedBy != "w1" || !j.LockedUntil.Equal(t0.Add(time.Minute)) {
			t.Fatalf("claimed job %+v", j)
		}
		// Claimed and not yet due: nothing more to take.
		wantNoClaim(t, db)

		// A failure with attempts left waits for its retry time.
		retry := t0.Add(30 * time.Second)
		if st, err := db.FailJob(ctx, j, "451 try later", &retry); err != nil || st != store.JobPending {
			t.Fatalf("fail = %s, %v", st, err)
		}
		wantNoClaim(t, db)
		move(30 * time.Second)
		j = claimOne(t, db, "w1")
		if j.Attempts != 2 || j.LastError != "451 try later" {
			t.Fatalf("retried job %+v", j)
		}
		// Out of attempts: dead, and audited.
		if st, err := db.FailJob(ctx, j, "451 still", &retry); err != nil || st != store.JobDead {
			t.Fatalf("fail = %s, %v", st, err)
		}
		if e := lastAudit(t, db, "job.dead"); e.ObjectID != fmt.Sprint(j.ID) {
			t.Fatalf("audit %+v", e)
		}
		wantNoClaim(t, db)
		// Only a dead job is retried; it comes back with fresh attempts.
		if err := db.RetryJob(ctx, kyoyu.Actor{IP: "cli"}, j.ID+100); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("retry missing = %v", err)
		}
		if err := db.RetryJob(ctx, kyoyu.Actor{IP: "cli"}, j.ID); err != nil {
			t.Fatal(err)
		}
		j = claimOne(t, db, "w2")
		if j.Attempts != 1 {
			t.Fatalf("after retry %+v", j)
		}
		if err := db.CompleteJob(ctx, j, "250 2.0.0 queued as ABC"); err != nil {
			t.Fatal(err)
		}
		if err := db.RetryJob(ctx, kyoyu.Actor{IP: "cli"}, j.ID); kyoyu.ErrorCode(err) != kyoyu.ECONFLICT {
			t.Fatalf("retry done job = %v", err)
		}
		got, err := db.Job(ctx, j.ID)
		if err != nil || got.Status != store.JobDone || got.Result != "250 2.0.0 queued as ABC" || got.DoneAt == nil || got.LockedUntil != nil {
			t.Fatalf("done job %+v, %v", got, err)
		}
		// A permanent refusal kills at once.
		move(time.Hour)
		j = claimOne(t, db, "w1")
		if j.Kind != store.JobWebhook {
			t.Fatalf("claimed %+v", j)
		}
		if st, err := db.FailJob(ctx, j, "HTTP 410", nil); err != nil || st != store.JobDead {
			t.Fatalf("permanent = %s, %v", st, err)
		}
		counts, err := db.JobCounts(ctx)
		if err != nil || counts[store.JobDone] != 1 || counts[store.JobDead] != 1 {
			t.Fatalf("counts %v, %v", counts, err)
		}
		dead, err := db.Jobs(ctx, store.JobFilter{Status: store.JobDead})
		if err != nil || len(dead) != 1 || dead[0].LastError != "HTTP 410" {
			t.Fatalf("dead jobs %+v, %v", dead, err)
		}
	})
}

func TestJobLeaseTakeover(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		move := fixClock(db)
		if err := db.Enqueue(ctx, store.NewJob{Kind: store.JobEmail, DedupeKey: "k", Payload: 1, MaxAttempts: 2}); err != nil {
			t.Fatal(err)
		}
		first := claimOne(t, db, "dead-worker")
		// The worker dies: once its lease passes, another takes the job over.
		move(59 * time.Second)
		wantNoClaim(t, db)
		move(2 * time.Second)
		second := claimOne(t, db, "live-worker")
		if second.ID != first.ID || second.Attempts != 2 {
			t.Fatalf("takeover %+v", second)
		}
		// The first worker wakes up: it may no longer settle the job.
		if err := db.CompleteJob(ctx, first, "late"); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("late complete = %v", err)
		}
		if err := db.DropJob(ctx, first, "late"); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("late drop = %v", err)
		}
		// Nor in a group commit, which still records the jobs it holds.
		if err := db.Enqueue(ctx, store.NewJob{Kind: store.JobEmail, DedupeKey: "k2", Payload: 2}); err != nil {
			t.Fatal(err)
		}
		mine := claimOne(t, db, "dead-worker")
		lost, err := db.CompleteJobs(ctx, []store.Completion{{Job: first, Result: "late"}, {Job: mine, Result: "250 queued as X"}})
		if err != nil || len(lost) != 1 || lost[0] != first.ID {
			t.Fatalf("group commit: lost %v, %v", lost, err)
		}
		if j, err := db.Job(ctx, mine.ID); err != nil || j.Status != store.JobDone || j.Result != "250 queued as X" || j.LockedBy != "" {
			t.Fatalf("held job after the group commit %+v, %v", j, err)
		}
		if j, err := db.Job(ctx, first.ID); err != nil || j.Status != store.JobRunning || j.LockedBy != "live-worker" {
			t.Fatalf("job taken over, after the late group commit %+v, %v", j, err)
		}
		// The second dies too, on the last attempt: the job is dead, not lost.
		move(2 * time.Minute)
		wantNoClaim(t, db)
		j, err := db.Job(ctx, first.ID)
		if err != nil || j.Status != store.JobDead || j.LastError == "" {
			t.Fatalf("after last lease %+v, %v", j, err)
		}
		if e := lastAudit(t, db, "job.dead"); e.ObjectID != fmt.Sprint(j.ID) || !strings.Contains(e.Detail, "lease expired") {
			t.Fatalf("lost job audited as %+v", e)
		}
	})
}

// TestJobClaimsConcurrent: workers on separate pools of one database claim
// every job exactly once.
func TestJobClaimsConcurrent(t *testing.T) {
	for _, d := range testkit.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			url := testkit.NewDatabaseURL(t, d)
			var dbs []*store.DB
			for range 3 {
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
			const n = 60
			var jobs []store.NewJob
			for i := range n {
				jobs = append(jobs, store.NewJob{Kind: store.JobEmail, DedupeKey: fmt.Sprint("k", i), Payload: i})
			}
			if err := dbs[0].Enqueue(ctx, jobs...); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			seen := map[int64]int{}
			var wg sync.WaitGroup
			for w, db := range dbs {
				for g := range 2 {
					wg.Go(func() {
						for {
							js, err := db.ClaimJobs(ctx, fmt.Sprintf("w%d.%d", w, g), kinds, 4, time.Minute)
							if err != nil {
								t.Error(err)
								return
							}
							if len(js) == 0 {
								return
							}
							for _, j := range js {
								mu.Lock()
								seen[j.ID]++
								mu.Unlock()
								if err := db.CompleteJob(ctx, j, "ok"); err != nil {
									t.Error(err)
								}
							}
						}
					})
				}
			}
			wg.Wait()
			if len(seen) != n {
				t.Fatalf("claimed %d distinct jobs, want %d", len(seen), n)
			}
			for id, c := range seen {
				if c != 1 {
					t.Fatalf("job %d claimed %d times", id, c)
				}
			}
		})
	}
}

// TestNotifyEnqueues: every notification brings its e-mail job, and each
// organisation's webhooks one job per event, in the same transaction.
func TestNotifyEnqueues(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fixClock(db)
		org := newOrg(t, db, "通知先", kyoyu.KindOperator)
		other := newOrg(t, db, "他組織", kyoyu.KindOperator)
		a := newPerson(t, db, kyoyu.Actor{}, org, "a@example.jp")
		b := newPerson(t, db, kyoyu.Actor{}, org, "b@example.jp")
		c := newPerson(t, db, kyoyu.Actor{}, other, "c@example.jp")
		if err := db.AddWebhook(ctx, kyoyu.Actor{IP: "cli"}, &store.Webhook{OrgID: org.ID, URL: "ftp://x"}); kyoyu.ErrorCode(err) != kyoyu.EINVALID {
			t.Fatalf("ftp webhook = %v", err)
		}
		hook := &store.Webhook{OrgID: org.ID, URL: "https://soc.example.jp/kyoyu", Secret: "s3cret"}
		if err := db.AddWebhook(ctx, kyoyu.Actor{IP: "cli"}, hook); err != nil {
			t.Fatal(err)
		}
		if err := db.AddWebhook(ctx, kyoyu.Actor{IP: "cli"}, &store.Webhook{OrgID: org.ID, URL: hook.URL}); kyoyu.ErrorCode(err) != kyoyu.ECONFLICT {
			t.Fatalf("duplicate webhook = %v", err)
		}
		off := &store.Webhook{OrgID: org.ID, URL: "https://old.example.jp/"}
		if err := db.AddWebhook(ctx, kyoyu.Actor{IP: "cli"}, off); err != nil {
			t.Fatal(err)
		}
		if err := db.SetWebhookActive(ctx, kyoyu.Actor{IP: "cli"}, off.ID, false); err != nil {
			t.Fatal(err)
		}
		item, err := db.CreateItem(ctx, policy.Item{Kind: policy.Report, TLP: policy.Red, Originator: org.ID})
		if err != nil {
			t.Fatal(err)
		}
		ev := func(p *kyoyu.Person) store.Notification {
			return store.Notification{PersonID: p.ID, ItemID: item, Kind: "notify.report_waiting", Link: "/cases/1"}
		}
		if err := db.Notify(ctx, ev(a), ev(b), ev(c)); err != nil {
			t.Fatal(err)
		}
		// A second event (another transaction) is another webhook delivery.
		if err := db.Notify(ctx, ev(a)); err != nil {
			t.Fatal(err)
		}
		emails, err := db.Jobs(ctx, store.JobFilter{Kind: store.JobEmail})
		if err != nil || len(emails) != 4 {
			t.Fatalf("%d e-mail jobs, %v", len(emails), err)
		}
		hooks, err := db.Jobs(ctx, store.JobFilter{Kind: store.JobWebhook})
		if err != nil || len(hooks) != 2 {
			t.Fatalf("%d webhook jobs, want 2 (one per event, none for the inactive endpoint): %v", len(hooks), err)
		}
		var wj store.WebhookJob
		if err := json.Unmarshal(hooks[1].Payload, &wj); err != nil || wj.WebhookID != hook.ID || wj.Event != "notify.report_waiting" || wj.ItemID != item {
			t.Fatalf("webhook payload %s, %v", hooks[1].Payload, err)
		}
		n, err := db.Notification(ctx, wj.NotificationID)
		if err != nil || n.PersonID != a.ID {
			t.Fatalf("notification %+v, %v", n, err)
		}
		oi, err := db.ItemForOutbox(ctx, item)
		if err != nil || oi.TLP != "red" || oi.CaseNumber != "" {
			t.Fatalf("outbox item %+v, %v", oi, err)
		}
		// A notification rolled back takes its jobs with it.
		err = db.Notify(ctx, ev(a), store.Notification{PersonID: 999999, Kind: "x", Link: "/"})
		if err == nil {
			t.Fatal("notification of an unknown person stored")
		}
		if again, _ := db.Jobs(ctx, store.JobFilter{}); len(again) != 6 {
			t.Fatalf("%d jobs after a rolled-back notification, want 6", len(again))
		}
	})
}
