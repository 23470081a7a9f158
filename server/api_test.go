package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/audit"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

// apiError is the API's error body.
type apiError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields"`
}

// apiGet calls the API with an Authorization header (none if auth is "").
func (b *browser) apiGet(path, auth string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.ts.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return res, string(body)
}

func decodeError(t *testing.T, res *http.Response, body string) apiError {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type %q, want JSON", ct)
	}
	var e apiError
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error body is not JSON: %v\n%s", err, body)
	}
	return e
}

func TestAPIRefusals(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := start(t, db, "")
		b := e.browser(t)
		good, _, err := e.srv.Accounts.CreateToken(ctx, kyoyu.Actor{}, e.person.ID, "good")
		if err != nil {
			t.Fatal(err)
		}
		revoked, rt, err := e.srv.Accounts.CreateToken(ctx, kyoyu.Actor{}, e.person.ID, "revoked")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.RevokeToken(ctx, kyoyu.Actor{}, e.person.ID, rt.ID); err != nil {
			t.Fatal(err)
		}
		unknown := account.TokenPrefix + strings.Repeat("A", len(good)-len(account.TokenPrefix))

		// No credentials at all.
		res, body := b.apiGet("/api/v1/me", "")
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("no Authorization: %d, want 401", res.StatusCode)
		}
		if er := decodeError(t, res, body); er.Code != kyoyu.EUNAUTHORIZED || er.Message != "auth.required" {
			t.Errorf("no Authorization: %+v", er)
		}
		if h := res.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer ") {
			t.Errorf("no Authorization: WWW-Authenticate %q", h)
		}
		// A cookie session is not an API credential.
		b.mustSignIn()
		if res, _ := b.apiGet("/api/v1/me", ""); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("session cookie on the API: %d, want 401", res.StatusCode)
		}
		if res, _ := b.apiGet("/api/v1/me", "Basic "+good); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("Basic scheme: %d, want 401", res.StatusCode)
		}

		// Each bad token is refused with its own reason, and audited.
		before := len(e.auditRows(t, "auth.token"))
		for _, c := range []struct{ token, message, detail string }{
			{"not-a-token", "auth.token_malformed", "malformed token"},
			{good + "x", "auth.token_malformed", "malformed token"},
			{unknown, "auth.token_unknown", "unknown token"},
			{revoked, "auth.token_revoked", "revoked token"},
		} {
			res, body := b.apiGet("/api/v1/me", "Bearer "+c.token)
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: %d, want 401", c.message, res.StatusCode)
			}
			if er := decodeError(t, res, body); er.Code != kyoyu.EUNAUTHORIZED || er.Message != c.message {
				t.Errorf("%s: body %+v", c.message, er)
			}
			if h := res.Header.Get("WWW-Authenticate"); !strings.Contains(h, `error="invalid_token"`) {
				t.Errorf("%s: WWW-Authenticate %q", c.message, h)
			}
			if strings.Contains(body, c.token) && c.token != "" {
				t.Errorf("%s: the refusal echoes the token", c.message)
			}
			rows := e.auditRows(t, "auth.token")
			before++
			if len(rows) != before {
				t.Errorf("%s: %d auth.token rows, want %d", c.message, len(rows), before)
				continue
			}
			r := rows[0]
			if r.Outcome != audit.Denied || r.IP != "127.0.0.1" || !strings.HasPrefix(r.Detail, c.detail) {
				t.Errorf("%s: audit row %+v", c.message, r)
			}
			if c.message == "auth.token_revoked" && r.PersonID != e.person.ID {
				t.Errorf("revoked token: audit row names person %d, want %d", r.PersonID, e.person.ID)
			}
		}
		// The refusals changed nothing: the revoked token was never "used".
		toks, err := db.Tokens(ctx, e.person.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range toks {
			if tk.ID == rt.ID && tk.LastUsed != nil {
				t.Errorf("the revoked token was marked used at %v", tk.LastUsed)
			}
		}

		// A good token: the caller's e-mail, organisation and role.
		res, body = b.apiGet("/api/v1/me", "Bearer "+good)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("/api/v1/me: %d\n%s", res.StatusCode, body)
		}
		var me struct {
			Person       kyoyu.Person       `json:"person"`
			Organisation kyoyu.Organisation `json:"organisation"`
			Role         kyoyu.Role         `json:"role"`
		}
		if err := json.Unmarshal([]byte(body), &me); err != nil {
			t.Fatal(err)
		}
		if me.Person.Email != testEmail || me.Organisation.ID != e.org.ID || me.Organisation.Code != "meti" || me.Role != kyoyu.RoleMinistryLiaison {
			t.Errorf("/api/v1/me = %+v", me)
		}
		if strings.Contains(body, "argon2") || strings.Contains(body, "password") {
			t.Errorf("/api/v1/me shows credentials:\n%s", body)
		}

		// Unknown routes and methods answer in JSON, not HTML.
		for _, path := range []string{"/api/v1/nope", "/api/v1/me/extra", "/api/v2/me"} {
			res, body := b.apiGet(path, "Bearer "+good)
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", path, res.StatusCode)
				continue
			}
			if strings.HasPrefix(path, "/api/v1/") {
				if er := decodeError(t, res, body); er.Code != kyoyu.ENOTFOUND {
					t.Errorf("%s: %+v", path, er)
				}
			}
		}
		req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/api/v1/me", strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+good)
		res, raw := b.do(req)
		if res.StatusCode/100 != 4 {
			t.Errorf("POST /api/v1/me: %d", res.StatusCode)
		} else if er := decodeError(t, res, raw); er.Code == "" {
			t.Errorf("POST /api/v1/me: %s", raw)
		}

		// An invalid parameter names the field.
		res, body = b.apiGet("/api/v1/organisations?kind=bogus", "Bearer "+good)
		if er := decodeError(t, res, body); res.StatusCode != http.StatusUnprocessableEntity || er.Code != kyoyu.EINVALID || er.Fields["kind"] == "" {
			t.Errorf("kind=bogus: %d %+v", res.StatusCode, er)
		}
	})
}
