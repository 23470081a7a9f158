package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres opens a pool on a PostgreSQL URL and checks it answers.
func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	shown := dsn
	if u, err := url.Parse(dsn); err == nil {
		shown = u.Redacted()
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres database %s: %w", shown, err)
	}
	// JIT compilation costs hundreds of milliseconds whenever a plan's
	// estimated cost is high, as a count over a national list's cases is,
	// and those queries run in less (docs/PERFORMANCE.md). The URL may
	// still turn it on (…&jit=on).
	if _, ok := cfg.RuntimeParams["jit"]; !ok {
		cfg.RuntimeParams["jit"] = "off"
	}
	db := stdlib.OpenDB(*cfg)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres database %s: %w", shown, err)
	}
	db.SetMaxOpenConns(20)
	// Idle connections stay open: a new one costs a server process.
	db.SetMaxIdleConns(20)
	return &DB{sql: db, Dialect: Postgres}, nil
}

func postgresIsConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" // unique_violation
}
