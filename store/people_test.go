package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/audit"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

// admin returns an actor acting for a fresh organisation, as an org admin
// of that organisation would.
func admin(t *testing.T, db *store.DB) (kyoyu.Actor, *kyoyu.Organisation) {
	t.Helper()
	org := newOrg(t, db, "東和電力株式会社", kyoyu.KindOperator)
	p := newPerson(t, db, kyoyu.Actor{IP: "198.51.100.1"}, org, "admin@towa.example.jp")
	return kyoyu.Actor{Person: p, Organisation: org, IP: "198.51.100.7"}, org
}

// wantAudited checks the newest entry of an action names who, for which
// organisation, on what, when and from where.
func wantAudited(t *testing.T, db *store.DB, action string, actor kyoyu.Actor, objType, objID string, at time.Time) audit.Entry {
	t.Helper()
	e := lastAudit(t, db, action)
	if e.PersonID != actor.Person.ID || e.PersonEmail != actor.Person.Email {
		t.Errorf("%s: who = %d %q, want %d %q", action, e.PersonID, e.PersonEmail, actor.Person.ID, actor.Person.Email)
	}
	if e.OrganisationID != actor.Organisation.ID || e.OrganisationName != actor.Organisation.NameJA {
		t.Errorf("%s: organisation = %d %q, want %d %q", action, e.OrganisationID, e.OrganisationName, actor.Organisation.ID, actor.Organisation.NameJA)
	}
	if e.ObjectType != objType || e.ObjectID != objID {
		t.Errorf("%s: object = %s %s, want %s %s", action, e.ObjectType, e.ObjectID, objType, objID)
	}
	if !e.At.Equal(at) {
		t.Errorf("%s: at = %v, want %v", action, e.At, at)
	}
	if e.IP != actor.IP {
		t.Errorf("%s: ip = %q, want %q", action, e.IP, actor.IP)
	}
	if e.Outcome != audit.OK {
		t.Errorf("%s: outcome = %q, want ok", action, e.Outcome)
	}
	return e
}

func TestCreatePerson(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		advance := fixClock(db)
		actor, org := admin(t, db)
		now := advance(time.Minute)

		p := &kyoyu.Person{OrganisationID: org.ID, Email: "  Hanako.Sato@Towa.Example.JP ", Name: "佐藤 花子",
			Role: kyoyu.RoleOperatorReporter, HandlesIncidents: true, PasswordHash: "hash"}
		if err := db.CreatePerson(ctx, actor, p); err != nil {
			t.Fatalf("create: %v", err)
		}
		if p.ID == 0 || p.Email != "hanako.sato@towa.example.jp" || p.Locale != "ja" || !p.CreatedAt.Equal(now) {
			t.Fatalf("created = %+v", p)
		}
		e := wantAudited(t, db, "person.create", actor, "person", fmt.Sprint(p.ID), now)
		if e.Detail != fmt.Sprintf("hanako.sato@towa.example.jp role=operator_reporter organisation=%d", org.ID) {
			t.Errorf("detail = %q", e.Detail)
		}

		// Lookup by e-mail ignores case and surrounding space.
		for _, email := range []string{"hanako.sato@towa.example.jp", "HANAKO.SATO@TOWA.EXAMPLE.JP", " Hanako.Sato@towa.example.jp"} {
			got, err := db.PersonByEmail(ctx, email)
			if err != nil {
				t.Fatalf("by e-mail %q: %v", email, err)
			}
			if got.ID != p.ID || got.Name != "佐藤 花子" || got.Role != kyoyu.RoleOperatorReporter || !got.HandlesIncidents {
				t.Fatalf("by e-mail %q = %+v", email, got)
			}
		}
		got, err := db.Person(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Email != p.Email || got.OrganisationID != org.ID || got.PasswordHash != "hash" || got.DisabledAt != nil || got.LockedUntil != nil {
			t.Fatalf("by id = %+v", got)
		}
		people, err := db.People(ctx, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(people) != 2 {
			t.Fatalf("people of the organisation = %d, want 2", len(people))
		}
	})
}

func TestCreatePersonDuplicateEmail(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		actor, org := admin(t, db)
		newPerson(t, db, actor, org, "dup@example.jp")
		entries, _ := db.AuditEntries(ctx, store.AuditFilter{Limit: 500})

		p := &kyoyu.Person{OrganisationID: org.ID, Email: "DUP@example.jp", Name: "重複", Role: kyoyu.RoleOrgAdmin, PasswordHash: "x"}
		err := db.CreatePerson(ctx, actor, p)
		e := wantCode(t, err, kyoyu.ECONFLICT)
		if e.Fields["email"] != "taken" {
			t.Fatalf("fields = %v, want email: taken", e.Fields)
		}
		// Nothing half-done: no second row, no audit entry for the refusal.
		people, _ := db.People(ctx, 0)
		if len(people) != 2 {
			t.Fatalf("%d people, want 2", len(people))
		}
		after, _ := db.AuditEntries(ctx, store.AuditFilter{Limit: 500})
		if len(after) != len(entries) {
			t.Fatalf("audit grew from %d to %d on a refused create", len(entries), len(after))
		}
	})
}

func TestCreatePersonInvalid(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		actor, org := admin(t, db)
		cases := map[string]struct {
			p     kyoyu.Person
			field string
			want  string
		}{
			"role":  {kyoyu.Person{Email: "r@example.jp", Name: "a", Role: "emperor"}, "role", "invalid_role"},
			"email": {kyoyu.Person{Email: "not-an-address", Name: "a", Role: kyoyu.RoleOrgAdmin}, "email", "invalid_email"},
			"name":  {kyoyu.Person{Email: "n@example.jp", Name: "  ", Role: kyoyu.RoleOrgAdmin}, "name", "required"},
		}
		for name, c := range cases {
			p := c.p
			p.OrganisationID, p.PasswordHash = org.ID, "x"
			e := wantCode(t, db.CreatePerson(ctx, actor, &p), kyoyu.EINVALID)
			if e.Fields[c.field] != c.want {
				t.Errorf("%s: fields = %v, want %s: %s", name, e.Fields, c.field, c.want)
			}
		}
		people, _ := db.People(ctx, 0)
		if len(people) != 1 {
			t.Fatalf("%d people after invalid creates, want 1", len(people))
		}
	})
}

func TestPersonNotFound(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p, err := db.Person(ctx, 424242)
		if p != nil || !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("Person(unknown) = %v, %v; want nil, ErrNotFound", p, err)
		}
		if kyoyu.ErrorCode(err) != kyoyu.ENOTFOUND {
			t.Fatalf("code = %s", kyoyu.ErrorCode(err))
		}
		p, err = db.PersonByEmail(ctx, "nobody@example.jp")
		if p != nil || !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("PersonByEmail(unknown) = %v, %v; want nil, ErrNotFound", p, err)
		}
		o, err := db.Organisation(ctx, 424242)
		if o != nil || !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("Organisation(unknown) = %v, %v", o, err)
		}
		o, err = db.OrganisationByCode(ctx, "nosuch")
		if o != nil || !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("OrganisationByCode(unknown) = %v, %v", o, err)
		}
		s, err := db.Session(ctx, "0123")
		if s != nil || !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("Session(unknown) = %v, %v", s, err)
		}
		tok, err := db.TokenByHash(ctx, "0123")
		if tok != nil || !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("TokenByHash(unknown) = %v, %v", tok, err)
		}
		if err := db.SetPassword(ctx, kyoyu.Actor{}, 424242, "x"); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("SetPassword(unknown) = %v", err)
		}
		if err := db.RevokeToken(ctx, kyoyu.Actor{}, 1, 424242); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("RevokeToken(unknown) = %v", err)
		}
	})
}

// newSession stores a session for p directly, as account.SignIn would.
func newSession(t *testing.T, db *store.DB, p *kyoyu.Person, idHash string) {
	t.Helper()
	s := &kyoyu.Session{IDHash: idHash, PersonID: p.ID, CSRFToken: "csrf-" + idHash, ExpiresAt: db.Now().Add(time.Hour), IP: "192.0.2.1"}
	if err := db.CreateSession(context.Background(), kyoyu.Actor{Person: p, IP: "192.0.2.1"}, s, "password"); err != nil {
		t.Fatalf("create session: %v", err)
	}
}

func newToken(t *testing.T, db *store.DB, p *kyoyu.Person, hash string) *kyoyu.APIToken {
	t.Helper()
	tok := &kyoyu.APIToken{PersonID: p.ID, Name: "ci", Prefix: "kyoyu_abcdef", Hash: hash}
	if err := db.CreateToken(context.Background(), kyoyu.Actor{Person: p}, tok); err != nil {
		t.Fatalf("create token: %v", err)
	}
	return tok
}

func TestDisablePersonEndsSessionsAndRevokesTokens(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		advance := fixClock(db)
		actor, org := admin(t, db)
		p := newPerson(t, db, actor, org, "leaver@example.jp")
		other := newPerson(t, db, actor, org, "stayer@example.jp")
		newSession(t, db, p, "s1")
		newSession(t, db, p, "s2")
		newSession(t, db, other, "s3")
		t1 := newToken(t, db, p, "h1")
		t2 := newToken(t, db, p, "h2")
		t3 := newToken(t, db, other, "h3")

		now := advance(time.Hour)
		if err := db.DisablePerson(ctx, actor, p.ID); err != nil {
			t.Fatalf("disable: %v", err)
		}
		got, err := db.Person(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.DisabledAt == nil || !got.DisabledAt.Equal(now) {
			t.Fatalf("disabled_at = %v, want %v", got.DisabledAt, now)
		}
		for _, h := range []string{"s1", "s2"} {
			if _, err := db.Session(ctx, h); !errors.Is(err, kyoyu.ErrNotFound) {
				t.Errorf("session %s after disable: %v, want ErrNotFound", h, err)
			}
		}
		if _, err := db.Session(ctx, "s3"); err != nil {
			t.Errorf("someone else's session ended: %v", err)
		}
		for _, tok := range []*kyoyu.APIToken{t1, t2} {
			got, err := db.TokenByHash(ctx, tok.Hash)
			if err != nil {
				t.Fatal(err)
			}
			if got.RevokedAt == nil || !got.RevokedAt.Equal(now) {
				t.Errorf("token %d revoked_at = %v, want %v", tok.ID, got.RevokedAt, now)
			}
		}
		if got, _ := db.TokenByHash(ctx, t3.Hash); got.RevokedAt != nil {
			t.Errorf("someone else's token was revoked")
		}
		wantAudited(t, db, "person.disable", actor, "person", fmt.Sprint(p.ID), now)

		// Disabling twice keeps the first time.
		advance(time.Hour)
		if err := db.DisablePerson(ctx, actor, p.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Person(ctx, p.ID); !got.DisabledAt.Equal(now) {
			t.Fatalf("second disable moved disabled_at to %v", got.DisabledAt)
		}
	})
}

func TestSetPasswordClearsLockAndSessions(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		advance := fixClock(db)
		actor, org := admin(t, db)
		p := newPerson(t, db, actor, org, "locked@example.jp")
		newSession(t, db, p, "s1")
		until := advance(0).Add(30 * time.Minute)
		e := store.EntryFor(kyoyu.Actor{Person: p, Organisation: org, IP: "203.0.113.9"}, "auth.sign_in", "person", fmt.Sprint(p.ID), audit.Denied, "wrong password")
		if err := db.RecordSignInFailure(ctx, e, p.ID, &until); err != nil {
			t.Fatal(err)
		}
		got, _ := db.Person(ctx, p.ID)
		if got.FailedLogins != 1 || got.LockedUntil == nil || !got.LockedUntil.Equal(until) {
			t.Fatalf("after failure: failed=%d locked=%v", got.FailedLogins, got.LockedUntil)
		}
		denied := lastAudit(t, db, "auth.sign_in")
		if denied.Outcome != audit.Denied || denied.IP != "203.0.113.9" || denied.PersonID != p.ID {
			t.Fatalf("refusal audited as %+v", denied)
		}

		now := advance(time.Minute)
		if err := db.SetPassword(ctx, actor, p.ID, "new-hash"); err != nil {
			t.Fatal(err)
		}
		got, _ = db.Person(ctx, p.ID)
		if got.PasswordHash != "new-hash" || got.FailedLogins != 0 || got.LockedUntil != nil {
			t.Fatalf("after set password: %+v", got)
		}
		if _, err := db.Session(ctx, "s1"); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("session survived a password change: %v", err)
		}
		wantAudited(t, db, "person.set_password", actor, "person", fmt.Sprint(p.ID), now)

		now = advance(time.Minute)
		if err := db.SetHandlesIncidents(ctx, actor, p.ID, true); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.Person(ctx, p.ID); !got.HandlesIncidents {
			t.Fatal("handles_incidents not set")
		}
		wantAudited(t, db, "person.set_handles_incidents", actor, "person", fmt.Sprint(p.ID), now)
	})
}

func TestSessionsAndTokens(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		advance := fixClock(db)
		actor, org := admin(t, db)
		p := newPerson(t, db, actor, org, "user@example.jp")

		newSession(t, db, p, "s1")
		s, err := db.Session(ctx, "s1")
		if err != nil {
			t.Fatal(err)
		}
		if s.PersonID != p.ID || s.CSRFToken != "csrf-s1" || s.MFAPending || !s.ExpiresAt.Equal(t0.Add(time.Hour)) || s.IP != "192.0.2.1" {
			t.Fatalf("session = %+v", s)
		}
		later := t0.Add(3 * time.Hour)
		if err := db.TouchSession(ctx, "s1", later); err != nil {
			t.Fatal(err)
		}
		if s, _ := db.Session(ctx, "s1"); !s.ExpiresAt.Equal(later) {
			t.Fatalf("touched expiry = %v, want %v", s.ExpiresAt, later)
		}
		newSession(t, db, p, "s2") // expires at t0+1h
		advance(2 * time.Hour)
		n, err := db.DeleteExpiredSessions(ctx)
		if err != nil || n != 1 {
			t.Fatalf("deleted %d expired sessions (%v), want 1", n, err)
		}
		if _, err := db.Session(ctx, "s1"); err != nil {
			t.Fatalf("the live session went too: %v", err)
		}
		if err := db.DeleteSession(ctx, actor, "s1", "auth.sign_out"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Session(ctx, "s1"); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("session after sign-out: %v", err)
		}
		lastAudit(t, db, "auth.sign_out")

		tok := newToken(t, db, p, "hash-1")
		if _, err := db.TokenByHash(ctx, "hash-1"); err != nil {
			t.Fatal(err)
		}
		// Two tokens with one hash would make a token ambiguous.
		dup := &kyoyu.APIToken{PersonID: p.ID, Name: "dup", Prefix: "kyoyu_x", Hash: "hash-1"}
		wantCode(t, db.CreateToken(ctx, actor, dup), kyoyu.ECONFLICT)

		now := advance(time.Minute)
		if err := db.TouchToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.RevokeToken(ctx, actor, p.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		toks, err := db.Tokens(ctx, p.ID)
		if err != nil || len(toks) != 1 {
			t.Fatalf("tokens = %v, %v", toks, err)
		}
		if toks[0].LastUsed == nil || !toks[0].LastUsed.Equal(now) || toks[0].RevokedAt == nil || !toks[0].RevokedAt.Equal(now) {
			t.Fatalf("token = %+v", toks[0])
		}
		wantAudited(t, db, "token.revoke", actor, "api_token", fmt.Sprint(tok.ID), now)
		// Revoking twice is "not found": there is no live token to revoke.
		if err := db.RevokeToken(ctx, actor, p.ID, tok.ID); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("second revoke: %v", err)
		}
	})
}
