package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"kyoyu"
	"kyoyu/audit"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

// fillAudit makes a few audited changes and returns how many entries the
// log holds.
func fillAudit(t *testing.T, db *store.DB) int64 {
	t.Helper()
	ctx := context.Background()
	actor, org := admin(t, db)
	p := newPerson(t, db, actor, org, "a@example.jp")
	for _, on := range []bool{true, false, true} {
		if err := db.SetHandlesIncidents(ctx, actor, p.ID, on); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Audit(ctx, audit.Entry{Action: "auth.sign_in", Outcome: audit.Denied, PersonEmail: "x@example.jp", IP: "203.0.113.1"}); err != nil {
		t.Fatal(err)
	}
	n, err := db.VerifyAudit(ctx)
	if err != nil {
		t.Fatalf("verify an intact log: %v", err)
	}
	if n < 7 {
		t.Fatalf("verified %d entries, want at least 7", n)
	}
	return n
}

// tamper runs stmt as someone with database access would, switching off
// the append-only triggers first.
func tamper(t *testing.T, db *store.DB, stmt string) {
	t.Helper()
	if db.Dialect == store.SQLite {
		rawExec(t, db, `DROP TRIGGER audit_log_no_update`)
		rawExec(t, db, `DROP TRIGGER audit_log_no_delete`)
	} else {
		rawExec(t, db, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`)
	}
	rawExec(t, db, stmt)
}

func wantProblem(t *testing.T, db *store.DB, seq int64) *audit.Problem {
	t.Helper()
	_, err := db.VerifyAudit(context.Background())
	var p *audit.Problem
	if !errors.As(err, &p) {
		t.Fatalf("VerifyAudit = %v, want an *audit.Problem", err)
	}
	if p.Seq != seq {
		t.Fatalf("problem at %d (%s), want %d", p.Seq, p.Reason, seq)
	}
	return p
}

func TestAuditVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// stmt is the by-hand change, given the number of entries.
		stmt    func(n int64) string
		seq     func(n int64) int64
		because string
	}{
		{"altered detail", func(int64) string { return `UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 3` },
			func(int64) int64 { return 3 }, "altered"},
		{"altered ip", func(int64) string { return `UPDATE audit_log SET ip = '10.0.0.1' WHERE seq = 5` },
			func(int64) int64 { return 5 }, "altered"},
		{"altered outcome of the newest", func(n int64) string {
			return fmt.Sprintf(`UPDATE audit_log SET outcome = 'ok' WHERE seq = %d`, n)
		}, func(n int64) int64 { return n }, "altered"},
		{"deleted middle", func(int64) string { return `DELETE FROM audit_log WHERE seq = 4` },
			func(int64) int64 { return 4 }, "removed"},
		{"deleted newest", func(n int64) string { return fmt.Sprintf(`DELETE FROM audit_log WHERE seq = %d`, n) },
			func(n int64) int64 { return n }, "removed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
				n := fillAudit(t, db)
				tamper(t, db, c.stmt(n))
				p := wantProblem(t, db, c.seq(n))
				if !strings.Contains(p.Reason, c.because) {
					t.Errorf("reason %q, want it to say %q", p.Reason, c.because)
				}
			})
		})
	}
}

// A forger who recomputes the hash of the entry they changed breaks the
// link of the entry after it.
func TestAuditVerifyFindsResealedEntry(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fillAudit(t, db)
		es, err := db.AuditEntries(ctx, store.AuditFilter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		var e audit.Entry
		for _, x := range es {
			if x.Seq == 3 {
				e = x
			}
		}
		e.Detail = "forged"
		e.Seal(e.PrevHash)
		tamper(t, db, fmt.Sprintf(`UPDATE audit_log SET detail = 'forged', hash = '%s' WHERE seq = 3`, e.Hash))
		wantProblem(t, db, 4)
	})
}

func TestAuditIsAppendOnly(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n := fillAudit(t, db)
		for _, q := range []string{
			`UPDATE audit_log SET detail = 'x' WHERE seq = 2`,
			`UPDATE audit_log SET detail = 'x'`,
			`DELETE FROM audit_log WHERE seq = 2`,
			`DELETE FROM audit_log`,
		} {
			_, err := db.SQL().ExecContext(ctx, q)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want the trigger to refuse it", q, err)
			}
		}
		if m, err := db.VerifyAudit(ctx); err != nil || m != n {
			t.Fatalf("after refused changes: %d entries, %v; want %d, intact", m, err, n)
		}
	})
}

// Writers racing on the chain still leave it linear and gap-free: the
// write lock serialises seq on both databases.
func TestAuditConcurrentWriters(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		actor, org := admin(t, db)
		before, err := db.VerifyAudit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		const writers, changes = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers*changes)
		start := make(chan struct{})
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				p := &kyoyu.Person{OrganisationID: org.ID, Email: fmt.Sprintf("w%d@example.jp", w), Name: "並行", Role: kyoyu.RoleOperatorReporter, PasswordHash: "x"}
				if err := db.CreatePerson(ctx, actor, p); err != nil {
					errs <- err
					return
				}
				for i := 1; i < changes; i++ {
					var err error
					if i%2 == 0 {
						err = db.SetHandlesIncidents(ctx, actor, p.ID, i%4 == 0)
					} else {
						err = db.Audit(ctx, store.EntryFor(actor, "test.ping", "person", fmt.Sprint(p.ID), audit.OK, fmt.Sprint(i)))
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("writer: %v", err)
		}
		n, err := db.VerifyAudit(ctx)
		if err != nil {
			t.Fatalf("verify after concurrent writes: %v", err)
		}
		if want := before + writers*changes; n != want {
			t.Fatalf("%d entries, want %d", n, want)
		}
		es, err := db.AuditEntries(ctx, store.AuditFilter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range es { // newest first, so seq counts down to 1
			if want := n - int64(i); e.Seq != want {
				t.Fatalf("entry %d has seq %d, want %d", i, e.Seq, want)
			}
		}
	})
}

func TestAuditEntriesFilterAndPage(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		actor, org := admin(t, db)
		p := newPerson(t, db, actor, org, "b@example.jp")
		for range 3 {
			if err := db.SetHandlesIncidents(ctx, actor, p.ID, true); err != nil {
				t.Fatal(err)
			}
		}
		es, err := db.AuditEntries(ctx, store.AuditFilter{Action: "person.set_handles_incidents", Limit: 2})
		if err != nil || len(es) != 2 || es[0].Seq <= es[1].Seq {
			t.Fatalf("first page = %v, %v", es, err)
		}
		rest, err := db.AuditEntries(ctx, store.AuditFilter{Action: "person.set_handles_incidents", BeforeSeq: es[1].Seq})
		if err != nil || len(rest) != 1 || rest[0].Seq >= es[1].Seq {
			t.Fatalf("second page = %v, %v", rest, err)
		}
		mine, err := db.AuditEntries(ctx, store.AuditFilter{PersonID: actor.Person.ID, OrganisationID: org.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(mine) != 4 { // create b@ and three changes; the admin's own creation had no actor
			t.Fatalf("entries by the admin = %d, want 4", len(mine))
		}
	})
}
