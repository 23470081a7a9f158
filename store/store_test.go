package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/audit"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

// t0 is the clock tests start from: a fixed instant, already at the
// millisecond precision the store keeps.
var t0 = time.Date(2026, 4, 1, 0, 30, 0, 0, time.UTC)

// fixClock makes db's clock return t0 and returns a way to move it.
func fixClock(db *store.DB) func(time.Duration) time.Time {
	now := t0
	db.Now = func() time.Time { return now }
	return func(d time.Duration) time.Time { now = now.Add(d); return now }
}

// wantCode fails unless err carries the domain error code.
func wantCode(t *testing.T, err error, code string) *kyoyu.Error {
	t.Helper()
	if got := kyoyu.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
	var e *kyoyu.Error
	errors.As(err, &e)
	return e
}

// newOrg adds an organisation with no sectors, so tests need not load the
// directory.
func newOrg(t *testing.T, db *store.DB, name string, kinds ...kyoyu.OrgKind) *kyoyu.Organisation {
	t.Helper()
	o := &kyoyu.Organisation{NameJA: name, NameEN: name + " (en)", Kinds: kinds}
	if err := db.CreateOrganisation(context.Background(), kyoyu.Actor{IP: "test"}, o); err != nil {
		t.Fatalf("create organisation %s: %v", name, err)
	}
	return o
}

// newPerson adds an account; the store does not check the hash, so any
// non-empty string will do.
func newPerson(t *testing.T, db *store.DB, actor kyoyu.Actor, org *kyoyu.Organisation, email string) *kyoyu.Person {
	t.Helper()
	p := &kyoyu.Person{OrganisationID: org.ID, Email: email, Name: "試験 太郎", Role: kyoyu.RoleOperatorReporter, PasswordHash: "x"}
	if err := db.CreatePerson(context.Background(), actor, p); err != nil {
		t.Fatalf("create person %s: %v", email, err)
	}
	return p
}

// lastAudit returns the newest audit entry with the given action.
func lastAudit(t *testing.T, db *store.DB, action string) audit.Entry {
	t.Helper()
	es, err := db.AuditEntries(context.Background(), store.AuditFilter{Action: action, Limit: 1})
	if err != nil {
		t.Fatalf("audit entries: %v", err)
	}
	if len(es) == 0 {
		t.Fatalf("no audit entry for %s", action)
	}
	return es[0]
}

// rawExec runs SQL by hand, as someone with database access would,
// bypassing the store.
func rawExec(t *testing.T, db *store.DB, q string) {
	t.Helper()
	if _, err := db.SQL().ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func tableExists(t *testing.T, db *store.DB, name string) bool {
	t.Helper()
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '` + name + `'`
	if db.Dialect == store.Postgres {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = '` + name + `'`
	}
	var n int
	if err := db.SQL().QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("look for table %s: %v", name, err)
	}
	return n == 1
}

func TestMigrateFreshThenNoOp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range testkit.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			db, err := store.Open(ctx, testkit.NewDatabaseURL(t, d))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if db.Dialect != d {
				t.Fatalf("dialect = %s, want %s", db.Dialect, d)
			}
			if tableExists(t, db, "people") {
				t.Fatal("a fresh database already has a people table")
			}
			applied, err := db.Migrate(ctx)
			if err != nil {
				t.Fatalf("migrate: %v", err)
			}
			if len(applied) == 0 || applied[0] != "0001_foundation" {
				t.Fatalf("applied = %v, want 0001_foundation first", applied)
			}
			for _, table := range []string{"schema_migrations", "sectors", "organisations", "people", "sessions", "api_tokens", "audit_log", "audit_head", "classifications"} {
				if !tableExists(t, db, table) {
					t.Errorf("table %s missing after migrate", table)
				}
			}
			again, err := db.Migrate(ctx)
			if err != nil {
				t.Fatalf("second migrate: %v", err)
			}
			if len(again) != 0 {
				t.Fatalf("second migrate applied %v, want nothing", again)
			}
			var n int
			if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != len(applied) {
				t.Fatalf("schema_migrations has %d rows, want %d", n, len(applied))
			}
		})
	}
}

// Several servers starting at once on one database take turns (an
// advisory lock on PostgreSQL, the write lock on SQLite): exactly one
// applies each migration and none fails.
func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range testkit.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			url := testkit.NewDatabaseURL(t, d)
			const servers = 6
			dbs := make([]*store.DB, servers)
			for i := range dbs {
				db, err := store.Open(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				dbs[i] = db
			}
			var wg sync.WaitGroup
			results := make([][]string, servers)
			errs := make([]error, servers)
			start := make(chan struct{})
			for i, db := range dbs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					results[i], errs[i] = db.Migrate(ctx)
				}()
			}
			close(start)
			wg.Wait()
			count := map[string]int{}
			for i := range dbs {
				if errs[i] != nil {
					t.Errorf("server %d: migrate: %v", i, errs[i])
				}
				for _, v := range results[i] {
					count[v]++
				}
			}
			if count["0001_foundation"] != 1 {
				t.Fatalf("0001_foundation applied %d times, want once (%v)", count["0001_foundation"], results)
			}
			for v, n := range count {
				if n != 1 {
					t.Errorf("%s applied %d times", v, n)
				}
			}
		})
	}
}

func TestOpenRefusesUnknownScheme(t *testing.T) {
	t.Parallel()
	_, err := store.Open(context.Background(), "mysql://x")
	if err == nil || !strings.Contains(err.Error(), "sqlite:PATH") || !strings.Contains(err.Error(), "postgres://") {
		t.Fatalf("Open(mysql://x) = %v, want an error naming sqlite:PATH and postgres://", err)
	}
}

func TestOpenPostgresUnreachable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := store.Open(ctx, "postgres://nobody@127.0.0.1:1/x")
	if err == nil {
		t.Fatal("opened a database on port 1")
	}
	msg := err.Error()
	if !strings.Contains(msg, "open postgres database") || !strings.Contains(msg, "connection refused") {
		t.Fatalf("error = %q, want it to say the postgres database could not be opened and why", msg)
	}
}

// Times go in and come back in UTC at millisecond precision on both
// databases; the audit chain's hashes depend on it.
func TestTimesRoundTrip(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 12, 31, 23, 59, 59, 987_000_000, time.UTC)
		db.Now = func() time.Time { return at }
		org := newOrg(t, db, "時刻検証株式会社")
		p := newPerson(t, db, kyoyu.Actor{}, org, "clock@example.jp")
		got, err := db.Person(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.CreatedAt.Equal(at) || got.CreatedAt.Location() != time.UTC {
			t.Fatalf("created_at = %v, want %v in UTC", got.CreatedAt, at)
		}
		e := lastAudit(t, db, "person.create")
		if !e.At.Equal(at) {
			t.Fatalf("audit at = %v, want %v", e.At, at)
		}
	})
}

func TestRebindKeepsQueriesPortable(t *testing.T) {
	t.Parallel()
	// Many filters at once exercise placeholder numbering on PostgreSQL.
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newOrg(t, db, "甲株式会社", kyoyu.KindOperator)
		b := newOrg(t, db, "乙株式会社", kyoyu.KindOperator, kyoyu.KindCyberVendor)
		newOrg(t, db, "丙株式会社", kyoyu.KindCyberVendor)
		os, err := db.Organisations(ctx, store.OrganisationFilter{Kind: kyoyu.KindOperator, IDs: []int64{a.ID, b.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if len(os) != 2 || os[0].ID != a.ID || os[1].ID != b.ID {
			t.Fatalf("organisations = %v, want 甲 and 乙", os)
		}
		if fmt.Sprint(os[1].Kinds) != "[cyber_vendor operator]" {
			t.Fatalf("乙 kinds = %v", os[1].Kinds)
		}
	})
}
