package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/api"
)

// client drives the API as one test's callers and holds every answer to
// the document: each response must be a documented status whose schema
// it matches, and each body a test sends as valid must match the
// documented request schema.
type client struct {
	t       *testing.T
	e       *apiEnv
	v       *validator
	reached map[string]bool     // routes answered 2xx
	bodies  map[string][]string // answers by token
}

func newClient(t *testing.T, e *apiEnv) *client {
	return &client{t: t, e: e, v: newValidator(t), reached: map[string]bool{}, bodies: map[string][]string{}}
}

// answer is one response.
type answer struct {
	status int
	body   []byte
	header http.Header
}

func (a answer) decode(t *testing.T, dst any) {
	t.Helper()
	if err := json.Unmarshal(a.body, dst); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

// errorBody is an Error answer.
func (a answer) err(t *testing.T) api.Error {
	t.Helper()
	var e api.Error
	a.decode(t, &e)
	return e
}

// call sends a body (nil for none) the test means to be valid, as JSON.
func (c *client) call(token, route, target string, body any) answer {
	c.t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			c.t.Fatal(err)
		}
		method, path, _ := strings.Cut(route, " ")
		ptr := pointer("paths", path, strings.ToLower(method), "requestBody", "content", "application/json", "schema")
		c.v.validate(c.t, ptr, "request of "+route, raw)
	}
	ct := ""
	if raw != nil {
		ct = "application/json"
	}
	return c.raw(token, route, target, ct, raw)
}

// raw sends exactly what it is given and checks the answer.
func (c *client) raw(token, route, target, contentType string, body []byte) answer {
	c.t.Helper()
	method, path, _ := strings.Cut(route, " ")
	b, res := c.e.do(c.t, method, target, token, contentType, body)
	a := answer{status: res.StatusCode, body: b, header: res.Header}
	what := fmt.Sprintf("%s %s (%d)", method, target, res.StatusCode)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.t.Errorf("%s: Content-Type %q", what, ct)
	}
	ptr, _, ok := c.v.response(c.t, path, strings.ToLower(method), res.StatusCode)
	if !ok {
		c.t.Errorf("%s: status not documented\n%s", what, b)
		return a
	}
	c.v.validate(c.t, ptr+pointer("content", "application/json", "schema"), what, b)
	if res.StatusCode >= 400 {
		c.v.validate(c.t, pointer("components", "schemas", "Error"), what, b)
	} else {
		c.reached[route] = true
	}
	c.bodies[token] = append(c.bodies[token], what+"\n"+string(b))
	return a
}

// must is call that expects a status.
func (c *client) must(status int, token, route, target string, body any) answer {
	c.t.Helper()
	a := c.call(token, route, target, body)
	if a.status != status {
		c.t.Fatalf("%s %s: status %d, want %d\n%s", route, target, a.status, status, a.body)
	}
	return a
}

// Shapes of the answers, for reading them in tests.
type (
	started struct {
		Case  kyoyu.Case          `json:"case"`
		Draft kyoyu.ReportVersion `json:"draft"`
	}
	draftOnly struct {
		Draft kyoyu.ReportVersion `json:"draft"`
	}
	saved struct {
		SavedAt  time.Time         `json:"saved_at"`
		Problems map[string]string `json:"problems"`
	}
	submitted struct {
		Version    kyoyu.ReportVersion `json:"version"`
		CaseNumber string              `json:"case_number"`
	}
	entry struct {
		Case    kyoyu.Case          `json:"case"`
		Version kyoyu.ReportVersion `json:"version"`
	}
	caseDetail struct {
		Case          kyoyu.Case `json:"case"`
		SourceVisible bool       `json:"source_visible"`
	}
	caseList struct {
		Cases      []kyoyu.Case `json:"cases"`
		Total      int          `json:"total"`
		NextCursor string       `json:"next_cursor"`
	}
)

// start opens a case and returns it with its draft.
func (c *client) start(token string, body map[string]any) started {
	c.t.Helper()
	var s started
	c.must(http.StatusCreated, token, "POST /api/v1/reports", "/api/v1/reports", body).decode(c.t, &s)
	return s
}

func (c *client) save(token string, vid int64, f kyoyu.ReportForm) saved {
	c.t.Helper()
	var s saved
	c.must(http.StatusOK, token, "PUT /api/v1/reports/drafts/{vid}", fmt.Sprintf("/api/v1/reports/drafts/%d", vid), f).decode(c.t, &s)
	return s
}

func (c *client) submit(token string, vid int64) submitted {
	c.t.Helper()
	var s submitted
	c.must(http.StatusOK, token, "POST /api/v1/reports/drafts/{vid}/submit", fmt.Sprintf("/api/v1/reports/drafts/%d/submit", vid), nil).decode(c.t, &s)
	return s
}

// takeWaiting finds the version of a case waiting for the token's
// organisation and takes it up.
func (c *client) takeWaiting(token string, caseID int64) kyoyu.ReportVersion {
	c.t.Helper()
	var in struct {
		Incoming []entry `json:"incoming"`
	}
	c.must(http.StatusOK, token, "GET /api/v1/reports/incoming", "/api/v1/reports/incoming", nil).decode(c.t, &in)
	for _, e := range in.Incoming {
		if e.Case.ID == caseID {
			var d draftOnly
			c.must(http.StatusCreated, token, "POST /api/v1/reports/incoming/{vid}/take",
				fmt.Sprintf("/api/v1/reports/incoming/%d/take", e.Version.ID), nil).decode(c.t, &d)
			return d.Draft
		}
	}
	c.t.Fatalf("case %d is not waiting: %+v", caseID, in.Incoming)
	return kyoyu.ReportVersion{}
}

// forward takes up the case's waiting version and sends it on unchanged.
func (c *client) forward(token string, caseID int64) submitted {
	c.t.Helper()
	d := c.takeWaiting(token, caseID)
	return c.submit(token, d.ID)
}

func (c *client) caseOf(token string, id int64) caseDetail {
	c.t.Helper()
	var d caseDetail
	c.must(http.StatusOK, token, "GET /api/v1/cases/{id}", fmt.Sprintf("/api/v1/cases/%d", id), nil).decode(c.t, &d)
	return d
}

func (c *client) versions(token string, id int64) []kyoyu.ReportVersion {
	c.t.Helper()
	var vs struct {
		Versions []kyoyu.ReportVersion `json:"versions"`
	}
	c.must(http.StatusOK, token, "GET /api/v1/cases/{id}/versions", fmt.Sprintf("/api/v1/cases/%d/versions", id), nil).decode(c.t, &vs)
	return vs.Versions
}

func (c *client) list(token, query string) caseList {
	c.t.Helper()
	var l caseList
	c.must(http.StatusOK, token, "GET /api/v1/cases", "/api/v1/cases"+query, nil).decode(c.t, &l)
	return l
}

// tokenFor makes an API token for a person who is not a demo account.
func (e *apiEnv) tokenFor(t *testing.T, p *kyoyu.Person) string {
	t.Helper()
	ctx := context.Background()
	if err := e.db.CreatePerson(ctx, kyoyu.Actor{}, p); err != nil {
		t.Fatal(err)
	}
	secret, _, err := e.srv.Accounts.CreateToken(ctx, kyoyu.Actor{}, p.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	return secret
}
