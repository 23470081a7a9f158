package e2e

// Helpers of the HTTP adversarial test: real people who sign in through
// the sign-in form or hold API tokens, requests as each of them, and the
// few things read back from the pages (case links, operator cells, paging
// links) with regular expressions, since the test must read what a person
// reads rather than what a handler meant to show.

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"kyoyu"
	"kyoyu/policy"
)

// httpPerson is one real account of the world, seen by the server as the
// viewer v.
type httpPerson struct {
	p      *kyoyu.Person
	org    *kyoyu.Organisation
	v      policy.Viewer
	token  string       // API bearer token
	client *http.Client // browser: carries the session cookie
}

const adversarialPassword = "adversarial-pass-2026"

// noRedirect answers a redirect as it is, so a refusal (303 to /signin)
// is seen as one.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func (hw *httpWorld) newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: hw.transport, CheckRedirect: noRedirect}
}

// response is one answer, read whole.
type response struct {
	status   int
	body     string
	location string
}

// get fetches path with client c, sending token as a bearer if set.
func (hw *httpWorld) get(c *http.Client, token, path string) (response, error) {
	req, err := http.NewRequest(http.MethodGet, hw.base+path, nil)
	if err != nil {
		return response{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept-Language", "ja")
	resp, err := c.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("GET %s: %w", path, err)
	}
	hw.requests.Add(1)
	return response{status: resp.StatusCode, body: string(b), location: resp.Header.Get("Location")}, nil
}

// api fetches an API path as p.
func (hw *httpWorld) api(p *httpPerson, path string) (response, error) {
	return hw.get(hw.anon, p.token, path)
}

// page fetches a page as p, signed in (or as the visitor when p is nil).
func (hw *httpWorld) page(p *httpPerson, path string) (response, error) {
	if p == nil {
		return hw.get(hw.anon, "", path)
	}
	return hw.get(p.client, "", path)
}

// signIn signs p in through the form, as a browser does: the form's page
// sets the CSRF cookie, the POST carries it back as csrf_token.
func (hw *httpWorld) signIn(p *httpPerson) error {
	c := hw.newClient()
	r, err := hw.get(c, "", "/signin")
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		return fmt.Errorf("GET /signin: status %d", r.status)
	}
	u, _ := url.Parse(hw.base)
	csrf := ""
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "kyoyu_csrf" {
			csrf = ck.Value
		}
	}
	if csrf == "" {
		return fmt.Errorf("GET /signin set no CSRF cookie")
	}
	resp, err := c.PostForm(hw.base+"/signin", url.Values{"email": {p.p.Email}, "password": {adversarialPassword},
		"csrf_token": {csrf}, "next": {"/"}})
	if err != nil {
		return fmt.Errorf("POST /signin: %w", err)
	}
	resp.Body.Close()
	hw.requests.Add(1)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		return fmt.Errorf("POST /signin as %s: status %d, location %q", p.p.Email, resp.StatusCode, resp.Header.Get("Location"))
	}
	if r, err = hw.get(c, "", "/"); err != nil || r.status != http.StatusOK {
		return fmt.Errorf("home after signing in as %s: status %d, %v", p.p.Email, r.status, err)
	}
	p.client = c
	return nil
}

var (
	nameRe      = regexp.MustCompile(`実名事業者(\d+)`)
	labelRe     = regexp.MustCompile(`匿名事業者(\d+)`)
	listRowRe   = regexp.MustCompile(`(?s)<tr id="case-(\d+)"[^>]*>(.*?)</tr>`)
	listNextRe  = regexp.MustCompile(`<a href="([^"]*)" id="cases-next"`)
	listTotalRe = regexp.MustCompile(`<p id="case-total"[^>]*>\D*(\d+)`)
	detailOpRe  = regexp.MustCompile(`(?s)<td id="case-operator">(.*?)</td>`)
	publicRe    = regexp.MustCompile(`href="/public/cases/(\d+)"`)
	feedRe      = regexp.MustCompile(`<link href="[^"]*/public/cases/(\d+)"`)
	noteBodyRe  = regexp.MustCompile(`(?s)<table id="notifications">.*?<tbody>(.*?)</tbody>`)
	noteRowRe   = regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`)
	noteItemRe  = regexp.MustCompile(`第(\d+)報`)
	hrefRe      = regexp.MustCompile(`href="([^"]*)"`)
	auditRowRe  = regexp.MustCompile(`(?s)<tr id="entry-(\d+)"[^>]*>(.*?)</tr>`)
	auditNextRe = regexp.MustCompile(`<a href="([^"]*)" id="audit-older"`)
	footerRe    = regexp.MustCompile(`(?s)<footer>.*?</footer>`)
	consentRe   = regexp.MustCompile(`(?s)<section id="consent".*?</section>`)
)

// matchIDs lists the numbers re captures in s, once each.
func matchIDs(re *regexp.Regexp, s string) []int64 {
	var out []int64
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		if n, err := strconv.ParseInt(m[1], 10, 64); err == nil && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// operatorShown reads whether text (one row, cell or page about item id)
// names the item's source or its label. Anything else in it — another
// item's name or label, or neither — is a problem to report.
func operatorShown(text string, id int64) (seeSource bool, problem string) {
	names, labels := matchIDs(nameRe, text), matchIDs(labelRe, text)
	for _, n := range names {
		if n != id {
			return false, fmt.Sprintf("names %s, the source of another item", sourceName(n))
		}
	}
	for _, n := range labels {
		if n != id {
			return false, fmt.Sprintf("shows %s, the label of another item", label(n))
		}
	}
	switch {
	case slices.Contains(names, id):
		return true, ""
	case slices.Contains(labels, id):
		return false, ""
	}
	return false, fmt.Sprintf("shows neither %s nor %s as the operator", sourceName(id), label(id))
}

// nextLink is a page's link to the next page, unescaped, or "".
func nextLink(re *regexp.Regexp, body string) string {
	m := re.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// samePage compares two error pages with what legitimately differs between
// them taken out: the path itself (in the language switch's next=, escaped)
// and the footer's clock.
func samePage(a, pathA, b, pathB string) bool {
	norm := func(s, path string) string {
		s = strings.ReplaceAll(s, path, "{path}")
		s = strings.ReplaceAll(s, strings.ReplaceAll(path, "/", "%2f"), "{path}")
		return footerRe.ReplaceAllString(s, "")
	}
	return norm(a, pathA) == norm(b, pathB)
}

// apiCase is what the test reads of a case in the API's JSON.
type apiCase struct {
	ID              int64  `json:"id"`
	Operator        string `json:"operator"`
	OperatorOrgID   int64  `json:"operator_org_id"`
	OriginatorOrgID int64  `json:"originator_org_id"`
	Anonymised      bool   `json:"anonymised"`
}
