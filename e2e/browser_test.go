package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/demo"
	"kyoyu/directory"
	"kyoyu/internal/testkit"
	"kyoyu/server"
	"kyoyu/store"
)

// chromiumPath finds the browser; when KYOYU_REQUIRE_CHROMIUM=1 (CI) a
// missing browser fails the run instead of skipping it.
func chromiumPath(t *testing.T) string {
	for _, p := range []string{os.Getenv("KYOYU_CHROMIUM"), "/usr/bin/chromium", "chromium"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("KYOYU_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium is required (KYOYU_REQUIRE_CHROMIUM=1) but not installed: apt-get install -y chromium")
	}
	t.Skip("chromium not installed; set KYOYU_REQUIRE_CHROMIUM=1 to make this a failure")
	return ""
}

// demoServer starts the whole server on a fresh database with demo data.
func demoServer(t *testing.T, db *store.DB) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	if err := directory.LoadBase(ctx, db); err != nil {
		t.Fatal(err)
	}
	fast := account.Argon2{Memory: 1024, Time: 1, Threads: 1}
	if _, err := demo.Load(ctx, db, fast); err != nil {
		t.Fatal(err)
	}
	cfg := kyoyu.Config{}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// newBrowser returns a fresh headless browser tab; each test gets its own
// profile, so no cookie leaks between tests.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), // the network is closed
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", "ja"),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

func signIn(t *testing.T, ctx context.Context, base, email, password string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("signin")),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", email, err)
	}
}

func TestBrowserSignInShowsJapaneseHome(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ts := demoServer(t, db)
		ctx := newBrowser(t)

		// A wrong password is refused in Japanese and leaves the person on the form.
		signIn(t, ctx, ts.URL, demo.Accounts[0].Email, "wrong-password-123")
		msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("error")))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msg, "パスワードが正しくありません") {
			t.Errorf("wrong password: got %q", msg)
		}

		// The demo analyst signs in and sees the Japanese home page.
		signIn(t, ctx, ts.URL, demo.Accounts[0].Email, demo.Password)
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("welcome"))); err != nil {
			t.Fatal(err)
		}
		welcome, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("welcome")))
		lang, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
		nav, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("nav-reports")))
		who, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".who .org")))
		if lang != "ja" || !strings.Contains(welcome, "ようこそ") || nav != "情報連絡" {
			t.Errorf("home: lang=%q welcome=%q nav=%q", lang, welcome, nav)
		}
		if !strings.Contains(who, "内閣サイバーセキュリティセンター") || !strings.Contains(who, "NISC分析担当") {
			t.Errorf("home shows organisation and role: %q", who)
		}

		// The English switch translates the shell.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("lang-en")), chromedp.WaitVisible(chromedp.ID("lang-ja"))); err != nil {
			t.Fatal(err)
		}
		nav, _ = chromedp.Run(ctx, chromedp.Text(chromedp.ID("nav-reports")))
		if nav != "Reports" {
			t.Errorf("English nav = %q", nav)
		}

		// Signing out ends the session: the home page asks to sign in again.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("email"))); err != nil {
			t.Fatal(err)
		}
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if !strings.Contains(loc, "/signin") {
			t.Errorf("after sign-out at %s", loc)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.ID("email"))); err != nil {
			t.Errorf("home after sign-out should ask to sign in: %v", err)
		}
	})
}
