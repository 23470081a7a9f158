package server_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/audit"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

var sameSite = regexp.MustCompile(`(?i);\s*SameSite=(Lax|Strict)`)

func TestSignIn(t *testing.T) {
	ja := locale(t, "ja")
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, "")
		b := e.browser(t)

		// Wrong password: a clear refusal, no session, audited with the IP.
		res, body := b.signIn(testEmail, "not the password at all")
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("wrong password: %d, want 401", res.StatusCode)
		}
		if !strings.Contains(body, ja["auth.bad_credentials"]) {
			t.Errorf("wrong password: page lacks %q:\n%s", ja["auth.bad_credentials"], body)
		}
		if c := setCookie(res, "kyoyu_session"); c != "" {
			t.Errorf("wrong password set a session cookie: %s", c)
		}
		if n := e.sessions(t); n != 0 {
			t.Errorf("wrong password: %d sessions", n)
		}
		rows := e.auditRows(t, "auth.sign_in")
		if len(rows) != 1 || rows[0].Outcome != audit.Denied || rows[0].IP != "127.0.0.1" || rows[0].PersonEmail != testEmail {
			t.Errorf("wrong password: audit rows %+v, want one denied from 127.0.0.1 for %s", rows, testEmail)
		}

		// Unknown account: the same answer, so e-mail addresses cannot be probed.
		res, body = b.signIn("nobody@meti.test.kyoyu.jp", testPassword)
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, ja["auth.bad_credentials"]) {
			t.Errorf("unknown account: %d", res.StatusCode)
		}
		if rows := e.auditRows(t, "auth.sign_in"); len(rows) != 2 || rows[0].Outcome != audit.Denied || rows[0].IP != "127.0.0.1" {
			t.Errorf("unknown account: audit rows %+v", rows)
		}

		// Right password: 303 to /, an HttpOnly SameSite session cookie.
		res, _ = b.signIn(testEmail, testPassword)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
			t.Fatalf("right password: %d → %q, want 303 → /", res.StatusCode, res.Header.Get("Location"))
		}
		c := setCookie(res, "kyoyu_session")
		if c == "" || !strings.Contains(c, "; HttpOnly") || !sameSite.MatchString(c) {
			t.Errorf("session cookie %q: want HttpOnly and SameSite", c)
		}
		if strings.Contains(c, "; Secure") {
			t.Errorf("session cookie %q is Secure on a plain-http server", c)
		}
		res, body = b.get("/")
		if res.StatusCode != http.StatusOK || !strings.Contains(body, ja["home.welcome"]+"、"+testName+"さん") {
			t.Errorf("home after sign-in: %d\n%s", res.StatusCode, body)
		}
		if rows := e.auditRows(t, "auth.sign_in"); len(rows) != 3 || rows[0].Outcome != audit.OK || rows[0].IP != "127.0.0.1" {
			t.Errorf("right password: audit rows %+v", rows)
		}

		// Signed in, /signin sends the person home.
		if res, _ := b.get("/signin"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
			t.Errorf("/signin when signed in: %d → %q", res.StatusCode, res.Header.Get("Location"))
		}
		// Signed out, / asks for sign-in and remembers where the person was going.
		res, _ = e.browser(t).get("/")
		if loc, _ := url.Parse(res.Header.Get("Location")); res.StatusCode != http.StatusSeeOther || loc.Path != "/signin" || loc.Query().Get("next") != "/" {
			t.Errorf("/ signed out: %d → %q", res.StatusCode, res.Header.Get("Location"))
		}
	})
}

func TestSecureCookiesBehindHTTPS(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, "https://kyoyu.example.jp")
		b := e.browser(t)
		res, _ := b.get("/signin")
		if c := setCookie(res, "kyoyu_csrf"); !strings.Contains(c, "; Secure") {
			t.Errorf("CSRF cookie %q is not Secure behind https", c)
		}
		if res.Header.Get("Strict-Transport-Security") == "" {
			t.Error("no HSTS behind https")
		}
		res, _ = b.signIn(testEmail, testPassword)
		c := setCookie(res, "kyoyu_session")
		if res.StatusCode != http.StatusSeeOther || !strings.Contains(c, "; Secure") || !strings.Contains(c, "; HttpOnly") || !sameSite.MatchString(c) {
			t.Errorf("session cookie behind https: %d %q, want Secure, HttpOnly, SameSite", res.StatusCode, c)
		}
	})
}

func TestCSRFRefusals(t *testing.T) {
	ja := locale(t, "ja")
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, "")
		b := e.browser(t)
		b.get("/signin") // the visitor has a CSRF cookie, but the form below lacks the token

		// Right credentials without a form token: refused, nothing happens.
		res, body := b.post("/signin", url.Values{"email": {testEmail}, "password": {testPassword}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, ja["error.csrf"]) {
			t.Errorf("sign-in without csrf_token: %d, want 403 with %q\n%s", res.StatusCode, ja["error.csrf"], body)
		}
		if c := setCookie(res, "kyoyu_session"); c != "" {
			t.Errorf("refused sign-in set a session cookie: %s", c)
		}
		if n := e.sessions(t); n != 0 {
			t.Errorf("refused sign-in made %d sessions", n)
		}
		if rows := e.auditRows(t, "auth.sign_in"); len(rows) != 0 {
			t.Errorf("refused sign-in reached the password check: %+v", rows)
		}
		rows := e.auditRows(t, "csrf.refused")
		if len(rows) != 1 || rows[0].Outcome != audit.Denied || rows[0].IP != "127.0.0.1" || rows[0].ObjectID != "/signin" {
			t.Errorf("audit rows %+v, want one csrf.refused for /signin from 127.0.0.1", rows)
		}

		// A token that is not this visitor's is refused the same way.
		res, _ = b.post("/signin", url.Values{"csrf_token": {strings.Repeat("x", 43)}, "email": {testEmail}, "password": {testPassword}})
		if res.StatusCode != http.StatusForbidden || e.sessions(t) != 0 {
			t.Errorf("sign-in with a wrong csrf_token: %d", res.StatusCode)
		}

		// A token from a previous session cannot sign the new one out.
		stale := b.mustSignIn()
		res, _ = b.post("/signout", url.Values{"csrf_token": {stale}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-out: %d", res.StatusCode)
		}
		if n := e.sessions(t); n != 0 {
			t.Fatalf("sign-out left %d sessions", n)
		}
		fresh := b.mustSignIn()
		if fresh == stale {
			t.Fatal("the new session kept the old form token")
		}
		before := len(e.auditRows(t, "auth.sign_out"))
		res, body = b.post("/signout", url.Values{"csrf_token": {stale}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, ja["error.csrf"]) {
			t.Errorf("sign-out with a stale token: %d, want 403 with %q", res.StatusCode, ja["error.csrf"])
		}
		rows = e.auditRows(t, "csrf.refused")
		if len(rows) != 3 || rows[0].Outcome != audit.Denied || rows[0].PersonEmail != testEmail || rows[0].ObjectID != "/signout" {
			t.Errorf("stale sign-out: audit rows %+v", rows)
		}
		if n := len(e.auditRows(t, "auth.sign_out")); n != before {
			t.Errorf("stale sign-out was audited as a sign-out")
		}
		if n := e.sessions(t); n != 1 {
			t.Errorf("after the refused sign-out: %d sessions, want 1", n)
		}
		if res, body := b.get("/"); res.StatusCode != http.StatusOK || !strings.Contains(body, testName) {
			t.Errorf("the session stopped working after a refused sign-out: %d", res.StatusCode)
		}
		// The fresh token still works.
		if res, _ := b.post("/signout", url.Values{"csrf_token": {fresh}}); res.StatusCode != http.StatusSeeOther || e.sessions(t) != 0 {
			t.Errorf("sign-out with the current token: %d", res.StatusCode)
		}
	})
}

func TestExpiredSession(t *testing.T) {
	ja, en := locale(t, "ja"), locale(t, "en")
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, "")
		b := e.browser(t)
		b.mustSignIn()
		e.exec(t, `UPDATE sessions SET expires_at = ? WHERE person_id = ?`, time.Now().UTC().Add(-time.Minute), e.person.ID)

		res, _ := b.get("/")
		loc, err := url.Parse(res.Header.Get("Location"))
		if err != nil || res.StatusCode != http.StatusSeeOther || loc.Path != "/signin" || loc.Query().Get("reason") != "auth.session_expired" {
			t.Fatalf("expired session: %d → %q, want 303 → /signin?reason=auth.session_expired", res.StatusCode, res.Header.Get("Location"))
		}
		if c := setCookie(res, "kyoyu_session"); !strings.Contains(c, "Max-Age=0") {
			t.Errorf("expired session cookie not cleared: %q", c)
		}
		if n := e.sessions(t); n != 0 {
			t.Errorf("expired session still stored (%d)", n)
		}
		rows := e.auditRows(t, "auth.session")
		if len(rows) != 1 || rows[0].Outcome != "denied" || rows[0].PersonID != e.person.ID || rows[0].IP == "" {
			t.Errorf("expired session not audited: %+v", rows)
		}
		res, body := b.get(loc.RequestURI())
		if res.StatusCode != http.StatusOK || !strings.Contains(body, ja["auth.session_expired"]) {
			t.Errorf("sign-in page after expiry lacks %q:\n%s", ja["auth.session_expired"], body)
		}
		b.get("/lang/en")
		if _, body := b.get(loc.RequestURI()); !strings.Contains(body, en["auth.session_expired"]) {
			t.Errorf("English sign-in page after expiry lacks %q", en["auth.session_expired"])
		}
	})
}

func TestLockOut(t *testing.T) {
	ja := locale(t, "ja")
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		// A still clock: the back-off after the third failure is 2 s, and the
		// test must not outrun or undershoot it.
		now := time.Now().UTC().Truncate(time.Second)
		db.Now = func() time.Time { return now }
		e := start(t, db, "")
		b := e.browser(t)
		for i := 1; i <= 3; i++ {
			if res, _ := b.signIn(testEmail, "wrong password "+strings.Repeat("!", i)); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d, want 401", i, res.StatusCode)
			}
		}
		res, body := b.signIn(testEmail, testPassword)
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("right password while locked: %d, want 429\n%s", res.StatusCode, body)
		}
		until := kyoyu.FormatJST(now.Add(2 * time.Second))
		if !strings.Contains(body, ja["auth.locked"]) || !strings.Contains(body, ja["signin.until"]+" "+until) || !strings.HasSuffix(until, " JST") {
			t.Errorf("locked page lacks %q and %q:\n%s", ja["auth.locked"], until, body)
		}
		if c := setCookie(res, "kyoyu_session"); c != "" || e.sessions(t) != 0 {
			t.Errorf("a locked account got a session: %q", c)
		}
		rows := e.auditRows(t, "auth.sign_in")
		if len(rows) != 4 || rows[0].Outcome != audit.Denied || rows[0].IP != "127.0.0.1" || !strings.HasPrefix(rows[0].Detail, "locked until") {
			t.Errorf("locked sign-in: audit rows %+v", rows)
		}
		p, err := db.PersonByEmail(context.Background(), testEmail)
		if err != nil {
			t.Fatal(err)
		}
		if p.FailedLogins != 3 {
			t.Errorf("a refused attempt while locked counted as a failure: %d", p.FailedLogins)
		}
	})
}
