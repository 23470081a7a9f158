package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/advisory"
	"kyoyu/demo"
	"kyoyu/outbox"
	"kyoyu/report"
	"kyoyu/server"
	"kyoyu/store"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg kyoyu.Config
	fs := flagSet("serve", &cfg, stderr)
	serveFlags(fs, &cfg)
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	db, err := openDB(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	var accounts []demo.Account
	if cfg.Demo {
		accounts, err = demo.Load(ctx, db, account.DefaultArgon2)
		if err != nil {
			return fmt.Errorf("load demo data: %w", err)
		}
		if len(accounts) > 0 {
			if err := demo.LoadCases(ctx, db, cfg, account.DefaultArgon2); err != nil {
				return fmt.Errorf("load demo reports: %w", err)
			}
		}
	}
	srv, err := server.New(cfg, db, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, WriteTimeout: 5 * time.Minute}

	fmt.Fprintf(stdout, "Kyoyu is running: open %s/ in a browser (database %s)\n", cfg.BaseURL, cfg.DB)
	if cfg.Demo {
		printDemo(stdout, accounts)
	}
	go func() {
		// Background work: every server runs it; the store's claims make
		// sure two servers never remind twice.
		reports := report.New(db, cfg)
		advisories := advisory.New(db, cfg)
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if n, err := reports.RemindOverdue(ctx); err != nil {
					log.Warn("remind overdue follow-ups", "err", err)
				} else if n > 0 {
					log.Info("reminded overdue follow-ups", "cases", n)
				}
				// Organisations silent about an advisory past the wait (受領確認).
				if n, err := advisories.RemindSilent(ctx); err != nil {
					log.Warn("remind silent advisory recipients", "err", err)
				} else if n > 0 {
					log.Info("reminded silent advisory recipients", "deliveries", n)
				}
				if i%10 == 0 {
					if _, err := db.DeleteExpiredSessions(ctx); err != nil {
						log.Warn("sweep sessions", "err", err)
					}
				}
			}
		}
	}()
	go func() {
		if !cfg.STIXBackfill {
			return
		}
		// Versions released before their STIX export was stored for TAXII
		// get their jobs behind live work (store.STIXBackfill); several
		// servers doing it at once only pass over each other's jobs.
		b := &store.STIXBackfill{}
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for !b.Done() {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if n, err := b.Step(ctx, db); err != nil {
					log.Warn("stix backfill", "err", err)
				} else if n > 0 {
					log.Debug("stix backfill", "enqueued", n)
				}
			}
		}
	}()
	// The outbox: every server sends; leases keep two from sending one job.
	worker := outbox.New(db, cfg, log)
	workerCtx, stopWorker := context.WithCancel(ctx)
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		worker.Run(workerCtx)
	}()
	// On the way out, let sends under way finish and be recorded (each is
	// bounded) before the database closes.
	defer func() {
		stopWorker()
		select {
		case <-workerDone:
		case <-time.After(90 * time.Second):
			log.Warn("outbox: sends still under way at shutdown; their jobs will be retried")
		}
	}()
	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- hs.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

func printDemo(w io.Writer, accounts []demo.Account) {
	if len(accounts) == 0 {
		fmt.Fprintf(w, "Demo data was already loaded. Sign in with any demo account (password %q), e.g.:\n", demo.Password)
		for _, a := range demo.Accounts {
			fmt.Fprintf(w, "  %-36s %s\n", a.Email, a.Role)
		}
		return
	}
	fmt.Fprintf(w, "Demo data loaded. Sign in with one of these accounts (password %q):\n", demo.Password)
	for _, a := range accounts {
		fmt.Fprintf(w, "  %-36s %-20s %s\n", a.Email, a.Role, a.Organisation)
	}
}
