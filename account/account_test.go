package account_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/audit"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

// fast keeps tests quick; the parameters travel in the hash, so
// CheckPassword needs nothing else.
var fastArgon2 = account.Argon2{Memory: 1024, Time: 1, Threads: 1}

const testPassword = "correct horse battery"

// signInFixture is a database with one organisation and one account, a service
// over it, and a clock the test moves.
type signInFixture struct {
	db     *store.DB
	svc    *account.Service
	org    *kyoyu.Organisation
	person *kyoyu.Person
	now    time.Time
}

func (f *signInFixture) advance(d time.Duration) { f.now = f.now.Add(d) }

func newSignInFixture(t *testing.T, db *store.DB) *signInFixture {
	t.Helper()
	ctx := context.Background()
	f := &signInFixture{db: db, now: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
	db.Now = func() time.Time { return f.now }
	f.svc = &account.Service{DB: db, Argon2: fastArgon2, SessionTTL: time.Hour, Issuer: "Kyoyu"}
	f.org = &kyoyu.Organisation{NameJA: "瑞穂ガス株式会社", NameEN: "Mizuho Gas", Kinds: []kyoyu.OrgKind{kyoyu.KindOperator}}
	if err := db.CreateOrganisation(ctx, kyoyu.Actor{}, f.org); err != nil {
		t.Fatal(err)
	}
	hash, err := fastArgon2.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	f.person = &kyoyu.Person{OrganisationID: f.org.ID, Email: "reporter@mizuho-gas.example.jp", Name: "瑞穂 次郎", Role: kyoyu.RoleOperatorReporter, PasswordHash: hash}
	if err := db.CreatePerson(ctx, kyoyu.Actor{}, f.person); err != nil {
		t.Fatal(err)
	}
	return f
}

// refused fails unless err is a domain error with that code and message.
func wantRefused(t *testing.T, err error, code, msg string) *kyoyu.Error {
	t.Helper()
	var e *kyoyu.Error
	if !errors.As(err, &e) || e.Code != code || (msg != "" && e.Message != msg) {
		t.Fatalf("error = %v, want %s %s", err, code, msg)
	}
	return e
}

// lastEntry returns the newest audit entry of an action.
func (f *signInFixture) lastEntry(t *testing.T, action string) audit.Entry {
	t.Helper()
	es, err := f.db.AuditEntries(context.Background(), store.AuditFilter{Action: action, Limit: 1})
	if err != nil || len(es) == 0 {
		t.Fatalf("no audit entry for %s (%v)", action, err)
	}
	return es[0]
}

func (f *signInFixture) entries(t *testing.T, action string) int {
	t.Helper()
	es, err := f.db.AuditEntries(context.Background(), store.AuditFilter{Action: action, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func (f *signInFixture) reload(t *testing.T) *kyoyu.Person {
	t.Helper()
	p, err := f.db.Person(context.Background(), f.person.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h, err := fastArgon2.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") || strings.Contains(h, testPassword) {
		t.Fatalf("hash = %q", h)
	}
	if !account.CheckPassword(h, testPassword) || account.CheckPassword(h, testPassword+"!") || account.CheckPassword("garbage", testPassword) {
		t.Fatal("CheckPassword accepts the wrong thing or refuses the right one")
	}
	h2, _ := fastArgon2.HashPassword(testPassword)
	if h2 == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	if _, err := fastArgon2.HashPassword("short"); err == nil {
		t.Fatal("a 5-character password was accepted")
	}
	if len(account.GeneratePassword()) < account.MinPasswordLength {
		t.Fatal("generated passwords are too short to set")
	}
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newSignInFixture(t, db)
		res, err := f.svc.SignIn(ctx, "Reporter@Mizuho-Gas.example.jp", testPassword, "192.0.2.10")
		if err != nil {
			t.Fatalf("sign in: %v", err)
		}
		if res.Person.ID != f.person.ID || res.SessionID == "" || res.Session.MFAPending || !res.Session.ExpiresAt.Equal(f.now.Add(time.Hour)) {
			t.Fatalf("result = %+v", res)
		}
		e := f.lastEntry(t, "auth.sign_in")
		if e.Outcome != audit.OK || e.PersonID != f.person.ID || e.OrganisationID != f.org.ID || e.OrganisationName != f.org.NameJA ||
			e.IP != "192.0.2.10" || !e.At.Equal(f.now) {
			t.Fatalf("sign-in audited as %+v", e)
		}

		pr, err := f.svc.Authenticate(ctx, res.SessionID)
		if err != nil {
			t.Fatalf("authenticate: %v", err)
		}
		if pr.Person.ID != f.person.ID || pr.Organisation.ID != f.org.ID || pr.Session == nil || pr.Session.CSRFToken != res.Session.CSRFToken {
			t.Fatalf("principal = %+v", pr)
		}

		// The session slides forward as it is used.
		f.advance(40 * time.Minute)
		if _, err := f.svc.Authenticate(ctx, res.SessionID); err != nil {
			t.Fatalf("authenticate after 40 min: %v", err)
		}
		f.advance(40 * time.Minute)
		if _, err := f.svc.Authenticate(ctx, res.SessionID); err != nil {
			t.Fatalf("an active session expired: %v", err)
		}

		if err := f.svc.SignOut(ctx, pr, "192.0.2.10"); err != nil {
			t.Fatal(err)
		}
		if f.lastEntry(t, "auth.sign_out").PersonID != f.person.ID {
			t.Fatal("sign-out not audited")
		}
		_, err = f.svc.Authenticate(ctx, res.SessionID)
		wantRefused(t, err, kyoyu.EUNAUTHORIZED, "auth.session_expired")
		_, err = f.svc.Authenticate(ctx, "")
		wantRefused(t, err, kyoyu.EUNAUTHORIZED, "auth.required")
	})
}

func TestSignInRefused(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newSignInFixture(t, db)

		_, err := f.svc.SignIn(ctx, f.person.Email, "wrong password!", "198.51.100.3")
		wrong := wantRefused(t, err, kyoyu.EUNAUTHORIZED, "auth.bad_credentials")
		e := f.lastEntry(t, "auth.sign_in")
		if e.Outcome != audit.Denied || e.PersonID != f.person.ID || e.OrganisationID != f.org.ID || e.IP != "198.51.100.3" ||
			e.Detail != "wrong password (failure 1)" || !e.At.Equal(f.now) {
			t.Fatalf("wrong password audited as %+v", e)
		}
		if p := f.reload(t); p.FailedLogins != 1 || p.LockedUntil != nil {
			t.Fatalf("after one failure: failed=%d locked=%v", p.FailedLogins, p.LockedUntil)
		}

		// An unknown account looks exactly like a wrong password.
		_, err = f.svc.SignIn(ctx, " Nobody@Example.JP ", testPassword, "198.51.100.4")
		unknown := wantRefused(t, err, kyoyu.EUNAUTHORIZED, "auth.bad_credentials")
		if unknown.Error() != wrong.Error() {
			t.Fatalf("unknown account says %q, wrong password %q", unknown, wrong)
		}
		e = f.lastEntry(t, "auth.sign_in")
		if e.Outcome != audit.Denied || e.PersonEmail != "nobody@example.jp" || e.PersonID != 0 || e.IP != "198.51.100.4" || e.Detail != "unknown account" {
			t.Fatalf("unknown account audited as %+v", e)
		}

		// A disabled account is refused with the right password too.
		if err := db.DisablePerson(ctx, kyoyu.Actor{}, f.person.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.SignIn(ctx, f.person.Email, testPassword, "198.51.100.5")
		wantRefused(t, err, kyoyu.EUNAUTHORIZED, "auth.bad_credentials")
		if e := f.lastEntry(t, "auth.sign_in"); e.Outcome != audit.Denied || e.Detail != "account disabled" {
			t.Fatalf("disabled account audited as %+v", e)
		}
		if _, err := db.VerifyAudit(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBackoffAndLockout(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newSignInFixture(t, db)
		wrong := func(n int) {
			t.Helper()
			_, err := f.svc.SignIn(ctx, f.person.Email, "not the password", "203.0.113.1")
			wantRefused(t, err, kyoyu.EUNAUTHORIZED, "auth.bad_credentials")
			if p := f.reload(t); p.FailedLogins != n {
				t.Fatalf("after failure %d the count is %d", n, p.FailedLogins)
			}
		}
		locked := func() {
			t.Helper()
			before := f.entries(t, "auth.sign_in")
			failed := f.reload(t).FailedLogins
			_, err := f.svc.SignIn(ctx, f.person.Email, testPassword, "203.0.113.1")
			e := wantRefused(t, err, kyoyu.ELOCKED, "auth.locked")
			if e.Fields["until"] == "" {
				t.Fatal("a lock-out does not say until when")
			}
			if got := f.entries(t, "auth.sign_in"); got != before+1 {
				t.Fatal("a refusal while locked was not audited")
			}
			if le := f.lastEntry(t, "auth.sign_in"); le.Outcome != audit.Denied || !strings.HasPrefix(le.Detail, "locked until") {
				t.Fatalf("locked refusal audited as %+v", le)
			}
			if f.reload(t).FailedLogins != failed {
				t.Fatal("attempts while locked count as failures")
			}
		}
		good := func() {
			t.Helper()
			if _, err := f.svc.SignIn(ctx, f.person.Email, testPassword, "203.0.113.1"); err != nil {
				t.Fatalf("right password refused: %v", err)
			}
			if p := f.reload(t); p.FailedLogins != 0 || p.LockedUntil != nil {
				t.Fatalf("a good sign-in left failed=%d locked=%v", p.FailedLogins, p.LockedUntil)
			}
		}

		// Two failures cost nothing; the third imposes a wait of 2 s.
		wrong(1)
		wrong(2)
		good()
		wrong(1)
		wrong(2)
		wrong(3)
		if p := f.reload(t); p.LockedUntil == nil || !p.LockedUntil.Equal(f.now.Add(2*time.Second)) {
			t.Fatalf("after 3 failures locked until %v, want now+2s", p.LockedUntil)
		}
		locked() // even the right password waits
		f.advance(1 * time.Second)
		locked()
		f.advance(1500 * time.Millisecond)
		good()

		// From the tenth failure in a row, half an hour.
		for n := 1; n <= 9; n++ {
			wrong(n)
			f.advance(5 * time.Minute) // past any back-off below the lock-out
		}
		wrong(10)
		p := f.reload(t)
		if p.LockedUntil == nil || !p.LockedUntil.Equal(f.now.Add(30*time.Minute)) {
			t.Fatalf("after 10 failures locked until %v, want now+30m", p.LockedUntil)
		}
		f.advance(29 * time.Minute)
		locked()
		f.advance(2 * time.Minute)
		good()
		if _, err := db.VerifyAudit(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newSignInFixture(t, db)
		res, err := f.svc.SignIn(ctx, f.person.Email, testPassword, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		f.advance(time.Hour + time.Millisecond)
		_, err = f.svc.Authenticate(ctx, res.SessionID)
		wantRefused(t, err, kyoyu.EUNAUTHORIZED, "auth.session_expired")
		if _, err := db.Session(ctx, account.HashSecret(res.SessionID)); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("an expired session stays stored: %v", err)
		}
		_, err = f.svc.Authenticate(ctx, "never-issued")
		wantRefused(t, err, kyoyu.EUNAUTHORIZED, "auth.session_expired")

		// Disabling ends the session at once.
		res, err = f.svc.SignIn(ctx, f.person.Email, testPassword, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.DisablePerson(ctx, kyoyu.Actor{}, f.person.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Authenticate(ctx, res.SessionID)
		wantRefused(t, err, kyoyu.EUNAUTHORIZED, "")
	})
}

// wellFormed returns a token of the right shape that was never issued.
func unissuedToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return account.TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

func TestTokens(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newSignInFixture(t, db)
		actor := kyoyu.Actor{Person: f.person, Organisation: f.org, IP: "192.0.2.20"}
		secret, tok, err := f.svc.CreateToken(ctx, actor, f.person.ID, "siem")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, "kyoyu_") || len(secret) != len(unissuedToken()) || tok.ID == 0 || tok.Name != "siem" || !strings.HasPrefix(secret, tok.Prefix) {
			t.Fatalf("token %q, %+v", secret, tok)
		}
		if e := f.lastEntry(t, "token.create"); e.ObjectID != fmt.Sprint(tok.ID) || e.PersonID != f.person.ID || strings.Contains(e.Detail, secret) {
			t.Fatalf("token creation audited as %+v", e)
		}

		pr, err := f.svc.AuthenticateToken(ctx, secret, "192.0.2.21")
		if err != nil {
			t.Fatalf("authenticate token: %v", err)
		}
		if pr.Person.ID != f.person.ID || pr.Organisation.ID != f.org.ID || pr.Token == nil || pr.Token.ID != tok.ID || pr.Session != nil {
			t.Fatalf("principal = %+v", pr)
		}
		if toks, _ := db.Tokens(ctx, f.person.ID); toks[0].LastUsed == nil || !toks[0].LastUsed.Equal(f.now) {
			t.Fatalf("last use not recorded: %+v", toks[0])
		}

		cases := []struct{ raw, msg, detail string }{
			{"kyoyu_short", "auth.token_malformed", "malformed token"},
			{"Bearer junk", "auth.token_malformed", "malformed token"},
			{"", "auth.token_malformed", "malformed token"},
			{secret + "x", "auth.token_malformed", "malformed token"},
			{strings.Replace(secret, "kyoyu_", "kyoyo_", 1), "auth.token_malformed", "malformed token"},
			{unissuedToken(), "auth.token_unknown", "unknown token"},
		}
		for _, c := range cases {
			before := f.entries(t, "auth.token")
			_, err := f.svc.AuthenticateToken(ctx, c.raw, "203.0.113.66")
			wantRefused(t, err, kyoyu.EUNAUTHORIZED, c.msg)
			if f.entries(t, "auth.token") != before+1 {
				t.Fatalf("%q: refusal not audited", c.raw)
			}
			e := f.lastEntry(t, "auth.token")
			if e.Outcome != audit.Denied || e.Detail != c.detail || e.IP != "203.0.113.66" {
				t.Fatalf("%q audited as %+v", c.raw, e)
			}
		}

		if err := db.RevokeToken(ctx, actor, f.person.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.AuthenticateToken(ctx, secret, "203.0.113.67")
		wantRefused(t, err, kyoyu.EUNAUTHORIZED, "auth.token_revoked")
		e := f.lastEntry(t, "auth.token")
		if e.Outcome != audit.Denied || e.PersonID != f.person.ID || e.Detail != fmt.Sprintf("revoked token %d", tok.ID) || e.IP != "203.0.113.67" {
			t.Fatalf("revoked token audited as %+v", e)
		}

		// Disabling a person revokes their tokens.
		other, _, err := f.svc.CreateToken(ctx, actor, f.person.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AuthenticateToken(ctx, other, ""); err != nil {
			t.Fatal(err)
		}
		if err := db.DisablePerson(ctx, actor, f.person.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.AuthenticateToken(ctx, other, "")
		wantRefused(t, err, kyoyu.EUNAUTHORIZED, "auth.token_revoked")
		if _, err := db.VerifyAudit(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// A leaked table hands out no working credential: sessions and tokens are
// stored as hashes only, and the audit log never records a secret.
func TestOnlyHashesStored(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newSignInFixture(t, db)
		res, err := f.svc.SignIn(ctx, f.person.Email, testPassword, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		secret, _, err := f.svc.CreateToken(ctx, kyoyu.Actor{Person: f.person}, f.person.ID, "ci")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AuthenticateToken(ctx, secret, ""); err != nil {
			t.Fatal(err)
		}
		dump := func(q string) string {
			rows, err := db.SQL().QueryContext(ctx, q)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			defer rows.Close()
			var b strings.Builder
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				b.WriteString(s + "\n")
			}
			return b.String()
		}
		tokens := dump(`SELECT name || '|' || prefix || '|' || token_hash FROM api_tokens`)
		sessions := dump(`SELECT id_hash || '|' || csrf_token || '|' || ip FROM sessions`)
		people := dump(`SELECT email || '|' || password_hash FROM people`)
		log := dump(`SELECT person_email || '|' || detail || '|' || object_id || '|' || ip FROM audit_log`)
		if strings.Contains(tokens, secret) || !strings.Contains(tokens, account.HashSecret(secret)) {
			t.Fatalf("api_tokens holds %q; want the hash of the secret only", tokens)
		}
		if strings.Contains(sessions, res.SessionID) || !strings.Contains(sessions, account.HashSecret(res.SessionID)) {
			t.Fatalf("sessions holds %q; want the hash of the session id only", sessions)
		}
		if strings.Contains(people, testPassword) {
			t.Fatal("people holds the password")
		}
		for _, s := range []string{secret, res.SessionID, testPassword} {
			if strings.Contains(log, s) {
				t.Fatalf("the audit log records a secret: %q", s)
			}
		}
	})
}
