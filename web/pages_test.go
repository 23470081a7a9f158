package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/demo"
	"kyoyu/directory"
	"kyoyu/internal/testkit"
	"kyoyu/store"
	"kyoyu/web"
)

const (
	analyst     = "analyst@nisc.demo.kyoyu.jp"
	liaison     = "liaison@meti.demo.kyoyu.jp"
	secretariat = "secretariat@ceptoar.demo.kyoyu.jp"
	reporter    = "reporter@operator.demo.kyoyu.jp"
	orgAdmin    = "admin@operator.demo.kyoyu.jp"
	sysAdmin    = "sysadmin@nisc.demo.kyoyu.jp"
)

// site is the UI over a database holding the directory and the demo
// community, served by a test server.
type site struct {
	t   *testing.T
	db  *store.DB
	svc *account.Service
	srv *httptest.Server
}

func newSite(t *testing.T, db *store.DB) *site {
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
	svc := account.New(db, cfg)
	svc.Argon2 = fast
	h, err := web.New(cfg, db, svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &site{t: t, db: db, svc: svc, srv: srv}
}

func (s *site) person(email string) *kyoyu.Person {
	s.t.Helper()
	p, err := s.db.PersonByEmail(context.Background(), email)
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

// browser keeps cookies and the form token, and does not follow redirects
// so tests see where they lead.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
	csrf string
}

func (s *site) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: s.t, base: s.srv.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

type answer struct {
	status int
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) answer {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return answer{resp.StatusCode, string(body), resp.Header}
}

func (b *browser) get(path string) answer {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

// post sends a form with the current form token unless the form sets one.
func (b *browser) post(path string, form url.Values) answer {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", b.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// signIn signs in through the form (CSRF cookie and field) and returns
// the browser on the home page.
func (s *site) signIn(email, password string) *browser {
	s.t.Helper()
	b := s.browser()
	b.get("/signin")
	a := b.post("/signin", url.Values{"email": {email}, "password": {password}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/" {
		s.t.Fatalf("sign in %s: %d → %q", email, a.status, a.header.Get("Location"))
	}
	if a := b.get("/"); a.status != http.StatusOK {
		s.t.Fatalf("home after sign-in: %d", a.status)
	}
	return b
}

func mustHave(t *testing.T, a answer, status int, parts ...string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d; body:\n%s", a.status, status, a.body)
	}
	for _, p := range parts {
		if !strings.Contains(a.body, p) {
			t.Fatalf("page lacks %q; body:\n%s", p, a.body)
		}
	}
}

func TestPagesByRole(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		anon := s.browser()
		if a := anon.get("/account"); a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/signin?next=%2Faccount") {
			t.Fatalf("anonymous /account: %d %q", a.status, a.header.Get("Location"))
		}
		for _, email := range []string{analyst, liaison, secretariat, reporter, orgAdmin, sysAdmin} {
			b := s.signIn(email, demo.Password)
			mustHave(t, b.get("/reports"), 200, `id="reports-page"`, "情報連絡", "まだありません")
			mustHave(t, b.get("/advisories"), 200, `id="advisories-page"`, "情報提供", "まだありません")
			mustHave(t, b.get("/directory"), 200, `id="directory-page"`)
			mustHave(t, b.get("/account"), 200, `id="account-page"`, email)
			mustHave(t, b.get("/audit"), 200, `id="audit-page"`)
			staff := b.get("/staff")
			if email == orgAdmin || email == sysAdmin {
				mustHave(t, staff, 200, `id="staff-page"`)
			} else {
				mustHave(t, staff, 404, `id="error"`)
				if strings.Contains(staff.body, `id="staff-page"`) {
					t.Fatalf("%s sees the staff page", email)
				}
			}
		}
		// English pages are English.
		b := s.signIn(reporter, demo.Password)
		b.get("/lang/en?next=/reports")
		mustHave(t, b.get("/reports"), 200, "Reports", "Nothing here yet.")
	})
}

func TestDirectoryPage(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		b := s.signIn(liaison, demo.Password)
		a := b.get("/directory")
		mustHave(t, a, 200, `id="sector-electricity"`, "経済産業省", "サービス維持レベル", `id="ceptoar-t_ceptoar"`,
			"テレコム・アイザック推進会議", `id="revision-2024-ports"`, "未適用")
		if n := strings.Count(a.body, `<tr id="sector-`); n != 14 {
			t.Fatalf("%d sectors, want 14", n)
		}
		if strings.Contains(a.body, `id="sector-port"`) {
			t.Fatal("the ports sector shows before its revision is applied")
		}
		rev, err := directory.Revision("2024-ports")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ApplyRevision(context.Background(), kyoyu.Actor{}, rev); err != nil {
			t.Fatal(err)
		}
		a = b.get("/directory")
		mustHave(t, a, 200, `id="sector-port"`, "港湾")
		if n := strings.Count(a.body, `<tr id="sector-`); n != 15 {
			t.Fatalf("%d sectors after 2024-ports, want 15", n)
		}
		b.get("/lang/en?next=/directory")
		mustHave(t, b.get("/directory"), 200, "Ministry of Economy, Trade and Industry", "Electric power", "Service-maintenance level")
	})
}

var idOf = regexp.MustCompile(`id="person-(\d+)"`)

func TestStaffManagement(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newSite(t, db)
		admin := s.signIn(orgAdmin, demo.Password)
		me := s.person(orgAdmin)

		// The org admin sees their own organisation only.
		a := admin.get("/staff")
		mustHave(t, a, 200, reporter, orgAdmin)
		if strings.Contains(a.body, analyst) || strings.Contains(a.body, `name="organisation_id"`) {
			t.Fatal("an org admin sees another organisation or an organisation picker")
		}
		if strings.Contains(a.body, `value="nisc_analyst"`) {
			t.Fatal("an operator's admin is offered the NISC analyst role")
		}

		// Add with a generated password, shown once.
		a = admin.post("/staff", url.Values{"email": {"new@operator.demo.kyoyu.jp"}, "name": {"新人 職員"},
			"role": {"operator_reporter"}, "handles_incidents": {"on"}})
		mustHave(t, a, 200, `id="created-password"`, "new@operator.demo.kyoyu.jp")
		pw := regexp.MustCompile(`id="created-password">([^<]+)<`).FindStringSubmatch(a.body)[1]
		created := s.person("new@operator.demo.kyoyu.jp")
		if created.OrganisationID != me.OrganisationID || !created.HandlesIncidents || created.Role != kyoyu.RoleOperatorReporter {
			t.Fatalf("created %+v", created)
		}
		if strings.Contains(admin.get("/staff").body, pw) {
			t.Fatal("the initial password shows again")
		}
		newcomer := s.signIn("new@operator.demo.kyoyu.jp", pw)

		// Validation: messages next to fields, what was typed kept.
		a = admin.post("/staff", url.Values{"email": {"reporter@operator.demo.kyoyu.jp"}, "name": {"重複 太郎"}, "role": {"operator_reporter"}})
		mustHave(t, a, http.StatusConflict, `id="email-error"`, "このメールアドレスはすでに使われています", `value="重複 太郎"`)
		a = admin.post("/staff", url.Values{"email": {"bad"}, "name": {"短い 花子"}, "role": {"operator_reporter"}, "password": {"short"}})
		mustHave(t, a, http.StatusUnprocessableEntity, `id="email-error"`, `id="password-error"`, "12文字以上", `value="短い 花子"`)
		a = admin.post("/staff", url.Values{"email": {"x@operator.demo.kyoyu.jp"}, "name": {"x"}, "role": {"nisc_analyst"}})
		mustHave(t, a, http.StatusUnprocessableEntity, `id="role-error"`)

		// Another organisation: not found, nothing created.
		nisc, _ := db.OrganisationByCode(ctx, "nisc")
		a = admin.post("/staff", url.Values{"organisation_id": {itoa(nisc.ID)}, "email": {"intruder@nisc.demo.kyoyu.jp"},
			"name": {"x"}, "role": {"org_admin"}})
		mustHave(t, a, http.StatusNotFound)
		if _, err := db.PersonByEmail(ctx, "intruder@nisc.demo.kyoyu.jp"); err == nil {
			t.Fatal("an org admin added staff to another organisation")
		}

		// Need to know: off, then on again; audited.
		mustHave(t, admin.post("/staff/"+itoa(created.ID)+"/handles", url.Values{"handles": {"0"}}), http.StatusSeeOther)
		if s.person(created.Email).HandlesIncidents {
			t.Fatal("handles_incidents still on")
		}
		mustHave(t, admin.post("/staff/"+itoa(created.ID)+"/handles", url.Values{"handles": {"1"}}), http.StatusSeeOther)
		if !s.person(created.Email).HandlesIncidents {
			t.Fatal("handles_incidents still off")
		}
		if e, _ := db.AuditEntries(ctx, store.AuditFilter{Action: "person.set_handles_incidents", PersonID: me.ID}); len(e) != 2 {
			t.Fatalf("%d handles entries, want 2", len(e))
		}
		analystP := s.person(analyst)
		mustHave(t, admin.post("/staff/"+itoa(analystP.ID)+"/handles", url.Values{"handles": {"0"}}), http.StatusNotFound)
		mustHave(t, admin.post("/staff/"+itoa(analystP.ID)+"/remove", nil), http.StatusNotFound)
		if p := s.person(analyst); !p.HandlesIncidents || p.DisabledAt != nil {
			t.Fatal("another organisation's person was changed")
		}

		// Remove: the person's session ends at once.
		mustHave(t, admin.post("/staff/"+itoa(created.ID)+"/remove", nil), http.StatusSeeOther)
		if s.person(created.Email).DisabledAt == nil {
			t.Fatal("not disabled")
		}
		if a := newcomer.get("/"); a.status != http.StatusSeeOther {
			t.Fatalf("removed person's session still works: %d", a.status)
		}
		if e, _ := db.AuditEntries(ctx, store.AuditFilter{Action: "person.disable", PersonID: me.ID}); len(e) != 1 {
			t.Fatalf("%d disable entries, want 1", len(e))
		}

		// Others may not post to the staff routes at all.
		rep := s.signIn(reporter, demo.Password)
		mustHave(t, rep.post("/staff", url.Values{"email": {"y@operator.demo.kyoyu.jp"}, "name": {"y"}, "role": {"operator_reporter"}}), http.StatusNotFound)
		mustHave(t, rep.post("/staff/"+itoa(me.ID)+"/remove", nil), http.StatusNotFound)

		// Without the form token nothing happens.
		mustHave(t, admin.post("/staff", url.Values{"csrf_token": {""}, "email": {"z@operator.demo.kyoyu.jp"}, "name": {"z"}, "role": {"operator_reporter"}}), http.StatusForbidden)
		if _, err := db.PersonByEmail(ctx, "z@operator.demo.kyoyu.jp"); err == nil {
			t.Fatal("a POST without its form token changed something")
		}

		// The system admin sees everyone and picks the organisation.
		sys := s.signIn(sysAdmin, demo.Password)
		a = sys.get("/staff")
		mustHave(t, a, 200, analyst, reporter, `name="organisation_id"`)
		a = sys.post("/staff", url.Values{"organisation_id": {itoa(me.OrganisationID)}, "email": {"by-sys@operator.demo.kyoyu.jp"},
			"name": {"システム 追加"}, "role": {"org_admin"}, "password": {"a-long-enough-password"}})
		mustHave(t, a, 200, `id="created"`)
		if strings.Contains(a.body, `id="created-password"`) {
			t.Fatal("a typed password is echoed back")
		}
		if p := s.person("by-sys@operator.demo.kyoyu.jp"); p.OrganisationID != me.OrganisationID || p.Role != kyoyu.RoleOrgAdmin {
			t.Fatalf("system admin's addition: %+v", p)
		}
		a = sys.get("/staff?org=" + itoa(nisc.ID))
		if strings.Contains(a.body, reporter) || !strings.Contains(a.body, analyst) {
			t.Fatal("the organisation filter does not filter")
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

var tokenSecret = regexp.MustCompile(`id="new-token">([^<]+)<`)

func TestTokens(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := newSite(t, db)
		b := s.signIn(reporter, demo.Password)
		mustHave(t, b.get("/account"), 200, `id="no-tokens"`)

		a := b.post("/account/tokens", url.Values{"name": {"連携サーバ"}})
		mustHave(t, a, 200, `id="new-token"`, "連携サーバ")
		if a.header.Get("Cache-Control") != "no-store" {
			t.Fatal("the page with a secret may be cached")
		}
		secret := tokenSecret.FindStringSubmatch(a.body)[1]
		if !strings.HasPrefix(secret, account.TokenPrefix) {
			t.Fatalf("secret %q", secret)
		}
		if _, err := s.svc.AuthenticateToken(ctx, secret, ""); err != nil {
			t.Fatalf("the shown token does not work: %v", err)
		}
		a = b.get("/account")
		if strings.Contains(a.body, secret) || strings.Contains(a.body, `id="new-token"`) {
			t.Fatal("the secret shows a second time")
		}
		mustHave(t, a, 200, secret[:len(account.TokenPrefix)+6])

		tokens, _ := db.Tokens(ctx, s.person(reporter).ID)
		id := itoa(tokens[0].ID)
		// Someone else's token: not found, still valid.
		other := s.signIn(orgAdmin, demo.Password)
		mustHave(t, other.post("/account/tokens/"+id+"/revoke", nil), http.StatusNotFound)
		if _, err := s.svc.AuthenticateToken(ctx, secret, ""); err != nil {
			t.Fatalf("another person revoked the token: %v", err)
		}
		a = b.post("/account/tokens/"+id+"/revoke", nil)
		if a.status != http.StatusSeeOther {
			t.Fatalf("revoke: %d", a.status)
		}
		if _, err := s.svc.AuthenticateToken(ctx, secret, ""); kyoyu.ErrorCode(err) != kyoyu.EUNAUTHORIZED {
			t.Fatalf("revoked token still works: %v", err)
		}
		mustHave(t, b.get("/account?flash=account.token_revoked"), 200, "APIトークンを失効させました")
		if e, _ := db.AuditEntries(ctx, store.AuditFilter{Action: "token.revoke"}); len(e) != 1 {
			t.Fatalf("%d token.revoke entries", len(e))
		}
	})
}

var totpSecret = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)

func TestTOTPEnrolmentAndSignIn(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		b := s.signIn(reporter, demo.Password)
		a := b.post("/account/totp", nil)
		mustHave(t, a, 200, `id="totp-qr"`, `src="data:image/png;base64,`, "otpauth://totp/Kyoyu:")
		secret := totpSecret.FindStringSubmatch(a.body)[1]

		a = b.post("/account/totp/confirm", url.Values{"code": {"000000"}})
		mustHave(t, a, http.StatusUnprocessableEntity, `id="code-error"`, `id="totp-qr"`)
		if s.person(reporter).TOTPEnabled {
			t.Fatal("a wrong code enabled the factor")
		}
		code, _ := totp.GenerateCode(secret, time.Now())
		if a := b.post("/account/totp/confirm", url.Values{"code": {code}}); a.status != http.StatusSeeOther {
			t.Fatalf("confirm: %d\n%s", a.status, a.body)
		}
		if !s.person(reporter).TOTPEnabled {
			t.Fatal("not enabled")
		}
		mustHave(t, b.get("/account"), 200, `id="totp-disable-form"`)

		// Sign-in now needs the code.
		c := s.browser()
		c.get("/signin")
		a = c.post("/signin", url.Values{"email": {reporter}, "password": {demo.Password}})
		if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/signin/mfa") {
			t.Fatalf("password step: %d %q", a.status, a.header.Get("Location"))
		}
		if a := c.get("/account"); a.status != http.StatusSeeOther {
			t.Fatal("a pending session reaches the account page")
		}
		c.get("/signin/mfa")
		mustHave(t, c.post("/signin/mfa", url.Values{"code": {"000000"}}), http.StatusUnauthorized)
		code, _ = totp.GenerateCode(secret, time.Now())
		if a := c.post("/signin/mfa", url.Values{"code": {code}}); a.status != http.StatusSeeOther {
			t.Fatalf("code step: %d", a.status)
		}
		mustHave(t, c.get("/account"), 200, `id="account-page"`)

		// Turning it off needs the password.
		mustHave(t, c.post("/account/totp/disable", url.Values{"password": {"not the password"}}), http.StatusUnprocessableEntity, `id="password-error"`)
		if !s.person(reporter).TOTPEnabled {
			t.Fatal("disabled without the password")
		}
		if a := c.post("/account/totp/disable", url.Values{"password": {demo.Password}}); a.status != http.StatusSeeOther {
			t.Fatalf("disable: %d", a.status)
		}
		if s.person(reporter).TOTPEnabled {
			t.Fatal("still enabled")
		}
	})
}

var seqOf = regexp.MustCompile(`id="entry-(\d+)"`)

func TestAuditPage(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		rep := s.signIn(reporter, demo.Password)
		admin := s.signIn(orgAdmin, demo.Password)
		s.signIn(analyst, demo.Password)
		sys := s.signIn(sysAdmin, demo.Password)

		// Everyone else: own entries only.
		a := rep.get("/audit")
		mustHave(t, a, 200, reporter, "あなた自身")
		for _, other := range []string{orgAdmin, analyst, sysAdmin} {
			if strings.Contains(a.body, other) {
				t.Fatalf("a reporter sees %s's entries", other)
			}
		}
		// Org admin: the organisation's.
		a = admin.get("/audit")
		mustHave(t, a, 200, reporter, orgAdmin, "東和電力株式会社")
		if strings.Contains(a.body, analyst) {
			t.Fatal("an org admin sees another organisation's entries")
		}
		// System admin: everything, newest first, with JST times.
		a = sys.get("/audit")
		mustHave(t, a, 200, reporter, orgAdmin, analyst, "directory.apply_revision", " JST")
		seqs := seqOf.FindAllStringSubmatch(a.body, -1)
		if len(seqs) < 2 || atoi(seqs[0][1]) <= atoi(seqs[1][1]) {
			t.Fatalf("not newest first: %v", seqs[:2])
		}
		// Filter by action.
		a = sys.get("/audit?action=auth.sign_in")
		if n := strings.Count(a.body, `id="entry-`); n != 4 {
			t.Fatalf("%d sign-in entries, want 4", n)
		}
		if strings.Contains(a.body, "<code>person.create</code>") {
			t.Fatal("the action filter does not filter")
		}
		// Keyset paging: the demo alone writes more than a page.
		a = sys.get("/audit")
		older := regexp.MustCompile(`href="/audit\?before=(\d+)"`).FindStringSubmatch(a.body)
		if older == nil {
			t.Fatal("no link to older entries")
		}
		page2 := sys.get("/audit?before=" + older[1])
		mustHave(t, page2, 200, `id="audit-newest"`)
		first := seqOf.FindStringSubmatch(page2.body)
		if first == nil || atoi(first[1]) >= atoi(older[1]) {
			t.Fatalf("page 2 starts at %v, want below %s", first, older[1])
		}
		mustHave(t, sys.get("/audit?before=x"), http.StatusUnprocessableEntity)
	})
}
