package server_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/audit"
	"kyoyu/directory"
	"kyoyu/internal/testkit"
	"kyoyu/server"
	"kyoyu/store"
)

const (
	testEmail    = "liaison@meti.test.kyoyu.jp"
	testName     = "経産 太郎"
	testPassword = "correct horse battery staple"
)

// fastArgon keeps password checks cheap in tests; CheckPassword reads the
// parameters from the hash, so the server accepts these hashes as they are.
var fastArgon = account.Argon2{Memory: 1024, Time: 1, Threads: 1}

// env is a running server on a test database with one person in it.
type env struct {
	db     *store.DB
	srv    *server.Server
	ts     *httptest.Server
	person *kyoyu.Person
	org    *kyoyu.Organisation
}

// start serves a database holding the directory and one ministry liaison.
// baseURL "" means plain http; an https one makes cookies Secure.
func start(t *testing.T, db *store.DB, baseURL string) *env {
	t.Helper()
	ctx := context.Background()
	if err := directory.LoadBase(ctx, db); err != nil {
		t.Fatal(err)
	}
	org, err := db.OrganisationByCode(ctx, "meti")
	if err != nil {
		t.Fatal(err)
	}
	hash, err := fastArgon.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	p := &kyoyu.Person{OrganisationID: org.ID, Email: testEmail, Name: testName,
		Role: kyoyu.RoleMinistryLiaison, HandlesIncidents: true, PasswordHash: hash}
	if err := db.CreatePerson(ctx, kyoyu.Actor{}, p); err != nil {
		t.Fatal(err)
	}
	cfg := kyoyu.Config{DB: "sqlite:unused", BaseURL: baseURL}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv.Accounts.Argon2 = fastArgon
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &env{db: db, srv: srv, ts: ts, person: p, org: org}
}

// jar keeps cookies by name for one test server. Unlike net/http/cookiejar
// it also returns Secure cookies over plain http, so the https-configured
// server can be driven through httptest.
type jar struct {
	mu sync.Mutex
	m  map[string]*http.Cookie
}

func (j *jar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cs {
		if c.MaxAge < 0 || c.Value == "" {
			delete(j.m, c.Name)
		} else {
			j.m[c.Name] = c
		}
	}
}

func (j *jar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []*http.Cookie
	for _, c := range j.m {
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return out
}

// browser is one visitor: its own cookies, redirects not followed so
// tests can inspect them.
type browser struct {
	t   *testing.T
	e   *env
	jar *jar
	c   *http.Client
}

func (e *env) browser(t *testing.T) *browser {
	j := &jar{m: map[string]*http.Cookie{}}
	c := &http.Client{Jar: j, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{t: t, e: e, jar: j, c: c}
}

// do sends a request and returns the response with its body, HTML entities
// decoded so locale strings compare as written.
func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return res, html.UnescapeString(string(body))
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.ts.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.ts.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf returns the form token of a page.
func csrf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf_token on the page:\n%s", body)
	}
	return m[1]
}

// signIn fills in the sign-in form as a person would.
func (b *browser) signIn(email, password string) (*http.Response, string) {
	b.t.Helper()
	_, page := b.get("/signin")
	return b.post("/signin", url.Values{"csrf_token": {csrf(b.t, page)}, "email": {email}, "password": {password}})
}

// mustSignIn signs the test person in and returns the home page's form token.
func (b *browser) mustSignIn() string {
	b.t.Helper()
	res, body := b.signIn(testEmail, testPassword)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		b.t.Fatalf("sign-in: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	res, body = b.get("/")
	if res.StatusCode != http.StatusOK {
		b.t.Fatalf("home after sign-in: %d", res.StatusCode)
	}
	return csrf(b.t, body)
}

// setCookie returns the raw Set-Cookie header for a cookie name, or "".
func setCookie(res *http.Response, name string) string {
	for _, h := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, name+"=") {
			return h
		}
	}
	return ""
}

// locale reads a UI locale file, so tests compare with the shipped texts.
func locale(t *testing.T, lang string) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../web/locales/" + lang + "/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("locale %s: %v", lang, err)
	}
	m := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// auditRows returns the audit entries of one action, newest first.
func (e *env) auditRows(t *testing.T, action string) []audit.Entry {
	t.Helper()
	es, err := e.db.AuditEntries(context.Background(), store.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// exec runs raw SQL written with ? placeholders on either database.
func (e *env) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if e.db.Dialect == store.Postgres {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+strconv.Itoa(i), 1)
		}
	}
	if _, err := e.db.SQL().ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// sessions counts the test person's sessions.
func (e *env) sessions(t *testing.T) int {
	t.Helper()
	q := `SELECT COUNT(*) FROM sessions WHERE person_id = ?`
	if e.db.Dialect == store.Postgres {
		q = `SELECT COUNT(*) FROM sessions WHERE person_id = $1`
	}
	var n int
	if err := e.db.SQL().QueryRowContext(context.Background(), q, e.person.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestHealthReadinessMetrics(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, "")
		b := e.browser(t)
		if res, body := b.get("/healthz"); res.StatusCode != http.StatusOK || body != "ok\n" {
			t.Errorf("/healthz: %d %q", res.StatusCode, body)
		}
		if res, _ := b.get("/readyz"); res.StatusCode != http.StatusOK {
			t.Errorf("/readyz: %d", res.StatusCode)
		}
		res, body := b.get("/metrics")
		if res.StatusCode != http.StatusOK {
			t.Errorf("/metrics: %d", res.StatusCode)
		}
		for _, want := range []string{`kyoyu_http_requests_total{code="200",route="GET /healthz"}`, "kyoyu_http_request_duration_seconds"} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s:\n%s", want, body)
			}
		}
		db.Close()
		if res, body := b.get("/readyz"); res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("/readyz with the database closed: %d %q, want 503", res.StatusCode, body)
		}
		if res, _ := b.get("/healthz"); res.StatusCode != http.StatusOK {
			t.Errorf("/healthz with the database closed: %d, want 200 (alive, not ready)", res.StatusCode)
		}
	})
}

// externalRef finds URL-bearing attributes that leave the site.
var externalRef = regexp.MustCompile(`(?i)\b(src|href|action|formaction|srcset|poster|data)\s*=\s*["']?\s*([a-z][a-z0-9+.-]*:|//)`)

func TestLanguageAndNoExternalReferences(t *testing.T) {
	ja, en := locale(t, "ja"), locale(t, "en")
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, "")
		b := e.browser(t)
		noExternal := func(what, body string) {
			t.Helper()
			if m := externalRef.FindString(body); m != "" {
				t.Errorf("%s references something outside the site: %s", what, m)
			}
			if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
				t.Errorf("%s contains an absolute URL", what)
			}
		}

		_, page := b.get("/signin")
		if !strings.Contains(page, `<html lang="ja">`) || !strings.Contains(page, ja["signin.title"]) {
			t.Errorf("sign-in page is not Japanese by default:\n%s", page)
		}
		noExternal("sign-in page (ja)", page)
		res, css := b.get("/static/style.css")
		if res.StatusCode != http.StatusOK || strings.Contains(css, "@import") || regexp.MustCompile(`url\(\s*['"]?[a-z]+:`).MatchString(css) {
			t.Errorf("style.css: %d, or it loads from elsewhere", res.StatusCode)
		}

		b.mustSignIn()
		_, home := b.get("/")
		if !strings.Contains(home, `<html lang="ja">`) || !strings.Contains(home, ja["home.welcome"]+"、"+testName+"さん") {
			t.Errorf("home page does not greet in Japanese:\n%s", home)
		}
		noExternal("home page (ja)", home)

		res, _ = b.get("/lang/en?next=/")
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
			t.Errorf("/lang/en: %d → %s", res.StatusCode, res.Header.Get("Location"))
		}
		if c := setCookie(res, "kyoyu_lang"); !strings.HasPrefix(c, "kyoyu_lang=en") {
			t.Errorf("/lang/en set %q", c)
		}
		_, home = b.get("/")
		if !strings.Contains(home, `<html lang="en">`) || !strings.Contains(home, en["home.welcome"]+", "+testName) {
			t.Errorf("home page is not English after /lang/en:\n%s", home)
		}
		noExternal("home page (en)", home)

		other := e.browser(t) // a visitor who chose English before signing in
		other.get("/lang/en")
		_, page = other.get("/signin")
		if !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, en["signin.title"]) {
			t.Errorf("sign-in page is not English after /lang/en:\n%s", page)
		}
		noExternal("sign-in page (en)", page)

		if res, _ := other.get("/lang/xx"); res.StatusCode != http.StatusNotFound {
			t.Errorf("/lang/xx: %d, want 404", res.StatusCode)
		}
		res, _ = other.get("/lang/ja?next=//evil.example/")
		if loc := res.Header.Get("Location"); loc != "/" {
			t.Errorf("/lang/ja with an off-site next redirects to %q", loc)
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, "")
		b := e.browser(t)
		for _, path := range []string{"/signin", "/", "/static/style.css", "/api/v1/me", "/api/v1/nope", "/healthz", "/no-such-page"} {
			res, _ := b.get(path)
			h := res.Header
			if h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: X-Content-Type-Options = %q", path, h.Get("X-Content-Type-Options"))
			}
			if h.Get("X-Frame-Options") != "DENY" {
				t.Errorf("%s: X-Frame-Options = %q", path, h.Get("X-Frame-Options"))
			}
			csp := h.Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("%s: CSP %q", path, csp)
			}
			// Only keywords and data: images; no host, scheme or wildcard.
			for _, directive := range strings.Split(csp, ";") {
				f := strings.Fields(directive)
				if len(f) == 0 {
					continue
				}
				for _, src := range f[1:] {
					if !strings.HasPrefix(src, "'") && src != "data:" {
						t.Errorf("%s: CSP allows %q", path, src)
					}
				}
			}
			if h.Get("Strict-Transport-Security") != "" {
				t.Errorf("%s: HSTS over plain http", path)
			}
		}
	})
}
