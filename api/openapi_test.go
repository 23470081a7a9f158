package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/api"
	"kyoyu/demo"
	"kyoyu/directory"
	"kyoyu/internal/testkit"
	"kyoyu/server"
	"kyoyu/store"
)

// docURL is where the document is registered with the schema compiler;
// component schemas are compiled as docURL#/components/schemas/Name.
const docURL = "https://kyoyu.invalid/api/v1/openapi.json"

var methods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// readDoc returns the document twice: raw bytes, and decoded for walking.
func readDoc(t *testing.T) ([]byte, map[string]any) {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	return raw, doc
}

// obj walks a decoded document by keys, failing the test on a missing step.
func obj(t *testing.T, v any, keys ...string) map[string]any {
	t.Helper()
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("openapi.json: %q is not inside an object", k)
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("openapi.json: no %q", k)
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("openapi.json: %s is not an object", strings.Join(keys, "/"))
	}
	return m
}

// operations lists "METHOD /path" for every operation in the document.
func operations(t *testing.T, doc map[string]any) []string {
	var out []string
	for path, item := range obj(t, doc, "paths") {
		for _, m := range methods {
			if _, ok := item.(map[string]any)[m]; ok {
				out = append(out, strings.ToUpper(m)+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	_, doc := readDoc(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	inDoc := map[string]bool{}
	for _, op := range operations(t, doc) {
		inDoc[op] = true
	}
	served := map[string]bool{}
	for _, r := range api.Routes {
		served[r] = true
		if !inDoc[r] {
			t.Errorf("%s is served (api.Routes) but not in openapi.json", r)
		}
	}
	for op := range inDoc {
		if !served[op] {
			t.Errorf("%s is in openapi.json but not served (api.Routes)", op)
		}
	}
	// Every route but the document itself needs a token and says so.
	for _, r := range api.Routes {
		method, path, _ := strings.Cut(r, " ")
		op := obj(t, doc, "paths", path, strings.ToLower(method))
		sec, own := op["security"].([]any)
		public := own && len(sec) == 0
		if public != (path == "/api/v1/openapi.json") {
			t.Errorf("%s: public = %v", r, public)
		}
		if !public {
			if _, ok := obj(t, op, "responses")["401"]; !ok {
				t.Errorf("%s needs a token but documents no 401", r)
			}
		}
	}
}

func TestOpenAPIEnumsMatchDomain(t *testing.T) {
	_, doc := readDoc(t)
	schemas := obj(t, doc, "components", "schemas")
	enum := func(name string) []string {
		var out []string
		for _, v := range obj(t, schemas, name)["enum"].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	var roles, kinds []string
	for _, r := range kyoyu.Roles {
		roles = append(roles, string(r))
	}
	for _, k := range kyoyu.OrgKinds {
		kinds = append(kinds, string(k))
	}
	if got := enum("Role"); !slices.Equal(got, roles) {
		t.Errorf("Role enum = %v, want kyoyu.Roles %v", got, roles)
	}
	if got := enum("OrgKind"); !slices.Equal(got, kinds) {
		t.Errorf("OrgKind enum = %v, want kyoyu.OrgKinds %v", got, kinds)
	}
	ref := func(keys ...string) string {
		s, _ := obj(t, schemas, keys...)["$ref"].(string)
		return s
	}
	if r := ref("Organisation", "properties", "kinds", "items"); r != "#/components/schemas/OrgKind" {
		t.Errorf("Organisation.kinds items = %q, want the OrgKind enum", r)
	}
	if r := ref("Person", "properties", "role"); r != "#/components/schemas/Role" {
		t.Errorf("Person.role = %q, want the Role enum", r)
	}
	if r := ref("Me", "properties", "role"); r != "#/components/schemas/Role" {
		t.Errorf("Me.role = %q, want the Role enum", r)
	}
	for _, name := range []string{"Person", "Organisation", "Role", "OrgKind", "Sector", "Service", "CEPTOAR", "Me", "Error"} {
		if _, ok := schemas[name]; !ok {
			t.Errorf("components.schemas has no %s", name)
		}
	}
	if s := obj(t, doc, "components", "securitySchemes", "bearer"); s["type"] != "http" || s["scheme"] != "bearer" {
		t.Errorf("securitySchemes.bearer = %v, want HTTP bearer", s)
	}
}

// validator compiles schemas out of the document; date-time and e-mail
// formats are asserted, not just annotated.
type validator struct {
	c     *jsonschema.Compiler
	doc   map[string]any
	cache map[string]*jsonschema.Schema
}

func newValidator(t *testing.T) *validator {
	raw, doc := readDoc(t)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, inst); err != nil {
		t.Fatal(err)
	}
	return &validator{c: c, doc: doc, cache: map[string]*jsonschema.Schema{}}
}

// pointer builds a JSON pointer fragment from unescaped tokens.
func pointer(tokens ...string) string {
	var b strings.Builder
	for _, tok := range tokens {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
		b.WriteString("/" + url.PathEscape(tok))
	}
	return b.String()
}

func (v *validator) schema(t *testing.T, ptr string) *jsonschema.Schema {
	t.Helper()
	if s, ok := v.cache[ptr]; ok {
		return s
	}
	s, err := v.c.Compile(docURL + "#" + ptr)
	if err != nil {
		t.Fatalf("compile %s: %v", ptr, err)
	}
	v.cache[ptr] = s
	return s
}

func (v *validator) validate(t *testing.T, ptr string, what string, body []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Errorf("%s: body is not JSON: %v\n%s", what, err, body)
		return
	}
	if err := v.schema(t, ptr).Validate(inst); err != nil {
		t.Errorf("%s: body does not match %s:\n%v", what, ptr, err)
	}
}

// response resolves the documented response of an operation for a status
// and returns its JSON pointer (following a $ref to components) and object.
func (v *validator) response(t *testing.T, path, method string, status int) (string, map[string]any, bool) {
	t.Helper()
	responses := obj(t, v.doc, "paths", path, method, "responses")
	r, ok := responses[fmt.Sprint(status)].(map[string]any)
	ptr := pointer("paths", path, method, "responses", fmt.Sprint(status))
	if !ok {
		if r, ok = responses["default"].(map[string]any); !ok {
			return "", nil, false
		}
		ptr = pointer("paths", path, method, "responses", "default")
	}
	if ref, ok := r["$ref"].(string); ok {
		ptr = strings.TrimPrefix(ref, "#")
		name := strings.TrimPrefix(ref, "#/components/responses/")
		r = obj(t, v.doc, "components", "responses", name)
	}
	return ptr, r, true
}

// param resolves a parameter that refers to components.parameters.
func (v *validator) param(t *testing.T, p map[string]any) map[string]any {
	t.Helper()
	if ref, ok := p["$ref"].(string); ok {
		return obj(t, v.doc, "components", "parameters", strings.TrimPrefix(ref, "#/components/parameters/"))
	}
	return p
}

type queryCase struct {
	value string
	ok    bool // a valid value: 2xx expected
}

// queryCases gives the values each documented query parameter is tried
// with; a parameter missing here fails the test, so new ones get exercised.
// Where two routes share a name the values hold for both (sector: an
// unknown code is an empty list of organisations but a refused case filter,
// so both are tried per route in routeQueryCases).
func queryCases() map[string][]queryCase {
	qc := map[string][]queryCase{
		"kind":        {{"bogus", false}},
		"lang":        {{"ja", true}, {"en", true}, {"fr", false}},
		"sector":      {{"electricity", true}, {"port", true}},
		"event_class": {{"intrusion", true}, {"meteor_strike", false}},
		"cause":       {{"vulnerability", true}, {"bogus", false}},
		"importance":  {{"warning", true}, {"urgent", false}},
		"tlp":         {{"amber", true}, {"red", true}, {"black", false}},
		"status":      {{"at_nisc", true}, {"draft", true}, {"lost", false}},
		"overdue":     {{"true", true}, {"false", true}, {"sometimes", false}},
		"mine":        {{"1", true}, {"yes please", false}},
		"count":       {{"exact", true}, {"about", false}},
		"from":        {{"2026-01-01", true}, {"2026-01-01T00:00:00+09:00", true}, {"yesterday", false}},
		"to":          {{"2030-12-31", true}, {"2030-12-31T23:59:59Z", true}, {"2026-13-01", false}},
		"q":           {{"侵入", true}, {"東和電力", true}, {"ransomware", true}, {"！？", false}},
		"limit":       {{"1", true}, {"200", true}, {"0", false}, {"201", false}, {"ten", false}},
		"cursor":      {{"not-a-cursor", false}, {"eyJhdCI6IjIwMjYtMDEtMDFUMDA6MDA6MDBaIiwiaWQiOjF9", true}},
		// STIX objects (stix.go).
		"type":        {{"indicator", true}, {"indicator,x-acme-widget", true}, {"Not a type", false}},
		"added_after": {{"2026-01-01T00:00:00Z", true}, {"yesterday", false}},
		"next":        {{"not-a-cursor", false}, {"eyJhIjoiMjAyNi0wMS0wMVQwMDowMDowMFoiLCJpIjoiaW5kaWNhdG9yLS04ZTJlMmQyYi0xN2Q0LTRjYmYtOTM4Zi05OGVlNDZiM2NkM2YiLCJtIjoiIiwidCI6MX0", true}},
	}
	for _, k := range kyoyu.OrgKinds {
		qc["kind"] = append(qc["kind"], queryCase{string(k), true})
	}
	return qc
}

// routeQueryCases adds the values whose outcome differs by route.
func routeQueryCases(path, name string) []queryCase {
	qc := queryCases()[name]
	if name == "sector" {
		qc = append(qc, queryCase{"no_such_sector", path == "/api/v1/organisations"})
	}
	return qc
}

// concrete fills a route's path parameters with placeholder ids.
func concrete(path string) string {
	return strings.NewReplacer("{id}", "1", "{vid}", "1", "{rid}", "1", "{ministry}", "1").Replace(path)
}

func TestOpenAPIResponsesMatchSchemas(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := startAPI(t, db)
		v := newValidator(t)

		// Every component schema compiles, used or not.
		for name := range obj(t, v.doc, "components", "schemas") {
			v.schema(t, pointer("components", "schemas", name))
		}

		served, _ := e.get(t, "/api/v1/openapi.json", "")
		raw, _ := readDoc(t)
		if !bytes.Equal(served, raw) {
			t.Error("GET /api/v1/openapi.json does not serve api/openapi.json")
		}

		// Lists have something to show for every role.
		if err := demo.LoadCases(context.Background(), db, kyoyu.Config{}, account.Argon2{Memory: 1024, Time: 1, Threads: 1}); err != nil {
			t.Fatal(err)
		}

		check := func(path, method, target, token string, wantOK bool) {
			t.Helper()
			body, res := e.do(t, strings.ToUpper(method), target, token, "", nil)
			what := fmt.Sprintf("%s %s (%d)", strings.ToUpper(method), target, res.StatusCode)
			if ok := res.StatusCode/100 == 2; ok != wantOK {
				t.Errorf("%s: success = %v, want %v\n%s", what, ok, wantOK, body)
			}
			ct := res.Header.Get("Content-Type")
			csv := res.StatusCode == http.StatusOK && strings.HasPrefix(ct, "text/csv")
			if !strings.HasPrefix(ct, "application/json") && !csv {
				t.Errorf("%s: Content-Type %q", what, ct)
			}
			ptr, r, ok := v.response(t, path, method, res.StatusCode)
			if !ok {
				t.Errorf("%s: status %d is not documented", what, res.StatusCode)
				return
			}
			headers, _ := r["headers"].(map[string]any)
			for h := range headers {
				if res.Header.Get(h) == "" {
					t.Errorf("%s: documented header %s missing", what, h)
				}
			}
			if csv {
				// A CSV answer (GET /api/v1/cases.csv): documented as such.
				if content, _ := r["content"].(map[string]any); content["text/csv"] == nil {
					t.Errorf("%s: answered CSV, which is not documented", what)
				}
				return
			}
			v.validate(t, ptr+pointer("content", "application/json", "schema"), what, body)
			if res.StatusCode >= 400 {
				v.validate(t, pointer("components", "schemas", "Error"), what, body)
			}
		}

		for _, route := range api.Routes {
			method, path, _ := strings.Cut(route, " ")
			m := strings.ToLower(method)
			if m != "get" || strings.Contains(path, "{") {
				// Routes that act or name an object are walked with real
				// objects in reports_test.go (which checks it reached each
				// one); here only their refusals of bad tokens.
				target := concrete(path)
				check(path, m, target, "", false)
				check(path, m, target, "kyoyu_short", false)
				check(path, m, target, e.unknownToken, false)
				check(path, m, target, e.revokedToken, false)
				continue
			}
			op := obj(t, v.doc, "paths", path, m)
			public := path == "/api/v1/openapi.json"
			// Every role's token, so /me shows every role.
			for _, role := range kyoyu.Roles {
				check(path, m, path, e.tokens[role], true)
			}
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				p := v.param(t, p.(map[string]any))
				if p["in"] != "query" {
					t.Errorf("%s: parameter %v in %v is not exercised", route, p["name"], p["in"])
					continue
				}
				name := p["name"].(string)
				cases := routeQueryCases(path, name)
				if len(cases) == 0 {
					t.Errorf("%s: query parameter %s has no test cases", route, name)
				}
				for _, c := range cases {
					check(path, m, path+"?"+url.Values{name: {c.value}}.Encode(), e.tokens[kyoyu.RoleNISCAnalyst], c.ok)
				}
			}
			if public {
				continue
			}
			// Refusals are documented errors too.
			check(path, m, path, "", false)
			check(path, m, path, "kyoyu_short", false)
			check(path, m, path, e.unknownToken, false)
			check(path, m, path, e.revokedToken, false)
		}

		// An unknown route answers with an Error, too.
		body, res := e.get(t, "/api/v1/no-such-route", e.tokens[kyoyu.RoleNISCAnalyst])
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown route: status %d", res.StatusCode)
		}
		v.validate(t, pointer("components", "responses", "NotFound", "content", "application/json", "schema"), "unknown route", body)
		v.validate(t, pointer("components", "schemas", "Error"), "unknown route", body)
	})
}

// apiEnv is a running server with the directory, the demo community and a
// token per role.
type apiEnv struct {
	ts           *httptest.Server
	srv          *server.Server
	db           *store.DB
	tokens       map[kyoyu.Role]string
	unknownToken string
	revokedToken string
}

func startAPI(t *testing.T, db *store.DB) *apiEnv {
	t.Helper()
	ctx := context.Background()
	if err := directory.LoadBase(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := directory.Apply(ctx, db, kyoyu.Actor{}, "2024-ports"); err != nil {
		t.Fatal(err)
	}
	fast := account.Argon2{Memory: 1024, Time: 1, Threads: 1}
	if _, err := demo.Load(ctx, db, fast); err != nil {
		t.Fatal(err)
	}
	cfg := kyoyu.Config{DB: "sqlite:unused"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv.Accounts.Argon2 = fast
	e := &apiEnv{srv: srv, db: db, tokens: map[kyoyu.Role]string{}}
	for _, a := range demo.Accounts {
		p, err := db.PersonByEmail(ctx, a.Email)
		if err != nil {
			t.Fatal(err)
		}
		secret, tok, err := srv.Accounts.CreateToken(ctx, kyoyu.Actor{}, p.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[a.Role] = secret
		if a.Role == kyoyu.RoleOperatorReporter {
			// A second token of the reporter's, revoked.
			secret, tok, err = srv.Accounts.CreateToken(ctx, kyoyu.Actor{}, p.ID, "revoked")
			if err != nil {
				t.Fatal(err)
			}
			if err := db.RevokeToken(ctx, kyoyu.Actor{}, p.ID, tok.ID); err != nil {
				t.Fatal(err)
			}
			e.revokedToken = secret
		}
	}
	e.unknownToken = account.TokenPrefix + strings.Repeat("A", 43)
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(e.ts.Close)
	return e
}

func (e *apiEnv) get(t *testing.T, path, token string) ([]byte, *http.Response) {
	t.Helper()
	return e.do(t, http.MethodGet, path, token, "", nil)
}

// do sends a request; a body goes with the given Content-Type.
func (e *apiEnv) do(t *testing.T, method, path, token, contentType string, body []byte) ([]byte, *http.Response) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer, res
}
