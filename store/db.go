// Package store keeps Kyoyu's data in SQLite (embedded, pure Go) or
// PostgreSQL (several servers on one database) through database/sql. The
// two differ only in their migrations, their placeholders and how their
// errors are mapped; every query above that is shared.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"kyoyu"
)

//go:embed migrations
var migrations embed.FS

// Dialect names the database a DB talks to.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open, migrated database.
type DB struct {
	sql     *sql.DB
	Dialect Dialect
	// Now is the clock; tests replace it. Times are kept in UTC, to the
	// millisecond, so both databases give back what was written.
	Now func() time.Time
	// SQLite only: its statements stay prepared, and its write
	// transactions queue here rather than in SQLite's busy handler, which
	// sleeps and retries (a collapse under concurrent writes).
	stmts   stmtCache
	writeMu sync.Mutex
	// classes holds each classification version read so far: a version's
	// values never change once applied (a revision adds a new version), and
	// every submission validates against them.
	classes sync.Map // version → []kyoyu.Classification
}

// Open opens the database named by a --db value ("sqlite:PATH" or a
// postgres:// URL) and checks that it answers. The error says which
// database could not be opened and why.
func Open(ctx context.Context, dbURL string) (*DB, error) {
	driver, dsn, err := kyoyu.ParseDB(dbURL)
	if err != nil {
		return nil, err
	}
	var db *DB
	switch driver {
	case "sqlite":
		db, err = openSQLite(ctx, dsn)
	case "postgres":
		db, err = openPostgres(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	db.Now = func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() error {
	db.stmts.close()
	return db.sql.Close()
}

// SQL exposes the pool for tests and tools that need raw access.
func (db *DB) SQL() *sql.DB { return db.sql }

// Ping checks the database answers (readiness).
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

// Tx is a write transaction. Store methods open one and pass it to the
// lowercase helpers that do the work, so a change and its audit entry
// commit together.
type Tx struct {
	tx  *sql.Tx
	db  *DB
	now time.Time // one time for everything the transaction writes
	// hooked marks the webhook events already queued in this transaction,
	// so one event told to many people of an organisation is POSTed once.
	hooked map[string]bool
}

// Update runs fn in a write transaction, committing if it returns nil.
func (db *DB) Update(ctx context.Context, fn func(tx *Tx) error) error {
	if db.Dialect == SQLite {
		db.writeMu.Lock()
		defer db.writeMu.Unlock()
	}
	sqlTx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return db.mapErr(fmt.Errorf("begin transaction: %w", err))
	}
	tx := &Tx{tx: sqlTx, db: db, now: db.Now()}
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return db.mapErr(err)
	}
	if err := sqlTx.Commit(); err != nil {
		return db.mapErr(fmt.Errorf("commit: %w", err))
	}
	return nil
}

func (tx *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if stmt, release := tx.db.prepared(ctx, q); stmt != nil {
		defer release()
		return tx.tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
	}
	return tx.tx.ExecContext(ctx, tx.db.rebind(q), args...)
}

func (tx *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if stmt, release := tx.db.prepared(ctx, q); stmt != nil {
		defer release()
		return tx.tx.StmtContext(ctx, stmt).QueryContext(ctx, args...)
	}
	return tx.tx.QueryContext(ctx, tx.db.rebind(q), args...)
}

func (tx *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if stmt, release := tx.db.prepared(ctx, q); stmt != nil {
		defer release()
		return tx.tx.StmtContext(ctx, stmt).QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, tx.db.rebind(q), args...)
}

// insert runs an INSERT … RETURNING id and gives back the id; both
// dialects support RETURNING.
func (tx *Tx) insert(ctx context.Context, q string, args ...any) (int64, error) {
	var id int64
	err := tx.queryRow(ctx, q+" RETURNING id", args...).Scan(&id)
	return id, err
}

// Reads outside a transaction go straight to the pool.
func (db *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if stmt, release := db.prepared(ctx, q); stmt != nil {
		defer release()
		return stmt.QueryContext(ctx, args...)
	}
	return db.sql.QueryContext(ctx, db.rebind(q), args...)
}

func (db *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if stmt, release := db.prepared(ctx, q); stmt != nil {
		defer release()
		return stmt.QueryRowContext(ctx, args...)
	}
	return db.sql.QueryRowContext(ctx, db.rebind(q), args...)
}

// prepared is q's cached statement on SQLite, or nil (PostgreSQL: pgx
// caches statements itself).
func (db *DB) prepared(ctx context.Context, q string) (*sql.Stmt, func()) {
	if db.Dialect != SQLite {
		return nil, nil
	}
	return db.stmts.acquire(ctx, db.sql, q)
}

// rebind turns the ? placeholders every query is written with into $1, $2 …
// for PostgreSQL. Queries never hold a literal '?'.
func (db *DB) rebind(q string) string {
	if db.Dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mapErr turns driver errors into domain errors (each dialect knows its own
// codes), so the layers above never parse messages.
func (db *DB) mapErr(err error) error {
	if err == nil {
		return nil
	}
	var ke *kyoyu.Error
	if errors.As(err, &ke) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w", kyoyu.ErrNotFound)
	}
	var conflict bool
	if db.Dialect == SQLite {
		conflict = sqliteIsConflict(err)
	} else {
		conflict = postgresIsConflict(err)
	}
	if conflict {
		return &kyoyu.Error{Code: kyoyu.ECONFLICT, Message: "already exists", Err: err}
	}
	return err
}

// Migrate applies the embedded migrations of the dialect that are not yet
// applied, each in its own transaction, in version order. Several servers
// starting at once on PostgreSQL take turns through an advisory lock.
func (db *DB) Migrate(ctx context.Context) (applied []string, err error) {
	dir := "migrations/" + string(db.Dialect)
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })

	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if db.Dialect == Postgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(4247001)`); err != nil {
			return nil, fmt.Errorf("migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(4247001)`)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	done := map[string]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, err
		}
		done[v] = true
	}
	rows.Close()

	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") || done[strings.TrimSuffix(name, ".sql")] {
			continue
		}
		body, err := migrations.ReadFile(dir + "/" + name)
		if err != nil {
			return applied, err
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", name, err)
		}
		version := strings.TrimSuffix(name, ".sql")
		// SQLite has no advisory lock: another process may have applied it
		// since the read above. The transaction holds the write lock, so
		// looking again here is final.
		var n int
		if err := tx.QueryRowContext(ctx, db.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version).Scan(&n); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("migrate %s: %w", name, err)
		}
		if n > 0 {
			tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("migrate %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, db.rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`),
			version, time.Now().UTC().Format(time.RFC3339)); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("migrate %s: record: %w", name, err)
		}
		if err := tx.Commit(); err != nil {
			return applied, fmt.Errorf("migrate %s: commit: %w", name, err)
		}
		applied = append(applied, version)
	}
	return applied, nil
}

// sqlNullTime scans a nullable time and gives it back as a UTC pointer.
type sqlNullTime struct{ sql.NullTime }

func (t sqlNullTime) ptr() *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
