package bench_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/bench"
	"kyoyu/demo"
	"kyoyu/gen"
	"kyoyu/internal/testkit"
	"kyoyu/server"
	"kyoyu/store"
)

// The benchmarks run here on a small data set, once, so that they keep
// working; their figures come from `kyoyu bench` on a national-size one
// (docs/PERFORMANCE.md). No timing is asserted.

var fastArgon = account.Argon2{Memory: 1024, Time: 1, Threads: 1}

func world(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	if err := gen.PrepareDirectory(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(ctx, db, fastArgon); err != nil {
		t.Fatal(err)
	}
	hash, err := fastArgon.HashPassword(demo.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gen.Generate(ctx, db, gen.Options{Seed: 3, Orgs: 150, People: 300, Reports: 800, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
}

func TestQueries(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		world(t, db)
		res, err := bench.Queries(context.Background(), db, bench.Scenarios(), 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.N != 2 || r.Total < r.Rows {
				t.Errorf("%s: %+v", r.Name, r)
			}
			if r.Rows == 0 && r.Filter.Query == "" {
				t.Errorf("%s: an empty page", r.Name)
			}
		}
	})
}

// TestLoad runs the intake and read loads against a server in this
// process (the real runs use a separate one).
func TestLoad(t *testing.T) {
	db := testkit.OpenDB(t, store.SQLite)
	world(t, db)
	ctx := context.Background()
	cfg := kyoyu.Config{DB: "sqlite:unused"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	token := func(email string) string {
		p, err := db.PersonByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		secret, _, err := srv.Accounts.CreateToken(ctx, kyoyu.Actor{}, p.ID, "bench")
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	c := bench.Client(4)
	in := bench.Intake(ctx, c, ts.URL, token("liaison@meti.demo.kyoyu.jp"), 4, 40, time.Minute, os.Getpid())
	if in.Done != 40 || in.Failed != 0 || in.RSSMaxKiB == 0 {
		t.Fatalf("intake: %+v", in)
	}
	rd := bench.ReadLoad(ctx, c, ts.URL, []string{token(bench.NISCAnalyst), token(bench.Operator)}, 4, 60, time.Minute, 0)
	if rd.Done != 60 || rd.Failed != 0 {
		t.Fatalf("read: %+v", rd)
	}
}

// TestFanout publishes advisories to the small world's every organisation
// and sends their e-mail to an SMTP sink running as its own process.
func TestFanout(t *testing.T) {
	dir := t.TempDir()
	sinkBin := filepath.Join(dir, "smtpsink")
	if out, err := exec.Command("go", "build", "-o", sinkBin, "kyoyu/outbox/internal/smtpsink").CombinedOutput(); err != nil {
		t.Fatalf("build smtpsink: %v\n%s", err, out)
	}
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		world(t, db)
		ctx := context.Background()
		opt := bench.FanoutOptions{Sink: sinkBin, Workers: 2, Conns: 2, Batch: 20, Poll: 10 * time.Millisecond}
		for run := range 2 {
			r, err := bench.Fanout(ctx, db, opt, fmt.Sprint(run))
			if err != nil {
				t.Fatal(err)
			}
			if r.Organisations < 100 || r.Notifications < 200 || r.Accepted != r.Notifications || r.JobsDropped != 0 || r.Others != 0 {
				t.Fatalf("run %d: %+v", run, r)
			}
			if r.RawMessages == 0 || r.RawRate() <= 0 || r.Rate() <= 0 || r.LastAccepted < r.FirstAccepted {
				t.Fatalf("run %d: figures %+v", run, r)
			}
		}
	})
}

// TestTAXIIPaging imports a few indicator bundles and walks the
// contributions collection as the benchmark does, on both databases.
func TestTAXIIPaging(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		world(t, db)
		ctx := context.Background()
		cfg := kyoyu.Config{DB: "sqlite:unused"}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		n, err := bench.PrepareTAXII(ctx, db, cfg, bench.NISCAnalyst, 250, 100)
		if err != nil || n != 300 {
			t.Fatalf("prepared %d objects: %v", n, err)
		}
		// Again: nothing new.
		if n, err := bench.PrepareTAXII(ctx, db, cfg, bench.NISCAnalyst, 250, 100); err != nil || n != 0 {
			t.Fatalf("prepared again %d objects: %v", n, err)
		}
		srv, err := server.New(cfg, db, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		p, err := db.PersonByEmail(ctx, bench.NISCAnalyst)
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := srv.Accounts.CreateToken(ctx, kyoyu.Actor{}, p.ID, "bench")
		if err != nil {
			t.Fatal(err)
		}
		res, err := bench.TAXIIPaging(ctx, bench.Client(2), ts.URL, token, "contributions", 40, 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		// 300 indicators; the marking definition is not stored as an object.
		if res.Walks != 3 || res.Objects < 3*300 || res.Requests < 3*8 {
			t.Fatalf("paging: %+v", res)
		}
	})
}
