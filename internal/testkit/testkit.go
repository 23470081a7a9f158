// Package testkit opens test databases of both kinds and makes people and
// organisations, so every store and server test runs on SQLite and, when
// KYOYU_TEST_POSTGRES names a server, on PostgreSQL too.
package testkit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"kyoyu/store"
)

// PostgresURL is the server tests use, from KYOYU_TEST_POSTGRES; empty
// means PostgreSQL tests do not run (CI always sets it).
func PostgresURL() string { return os.Getenv("KYOYU_TEST_POSTGRES") }

// Dialects lists the databases this run covers.
func Dialects() []store.Dialect {
	if PostgresURL() != "" {
		return []store.Dialect{store.SQLite, store.Postgres}
	}
	return []store.Dialect{store.SQLite}
}

// ForEachDB runs fn as a subtest on a fresh, migrated database of every
// kind this run covers.
func ForEachDB(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) {
			fn(t, OpenDB(t, d))
		})
	}
}

// OpenDB returns a fresh migrated database of the given kind, removed when
// the test ends.
func OpenDB(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	ctx := context.Background()
	url := NewDatabaseURL(t, d)
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// NewDatabaseURL makes an empty database of the given kind and returns its
// --db value: a file in the test's temporary folder, or a new PostgreSQL
// database dropped at the end of the test.
func NewDatabaseURL(t testing.TB, d store.Dialect) string {
	t.Helper()
	if d == store.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "kyoyu.db")
	}
	base := PostgresURL()
	if base == "" {
		t.Fatal("KYOYU_TEST_POSTGRES is not set")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("PostgreSQL at KYOYU_TEST_POSTGRES: %v", err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "kyoyu_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("PostgreSQL at KYOYU_TEST_POSTGRES is required by this run but unusable: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("KYOYU_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
