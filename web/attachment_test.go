package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/demo"
	"kyoyu/directory"
	"kyoyu/internal/testkit"
	"kyoyu/policy"
	"kyoyu/quarantine/quarantinetest"
	"kyoyu/report"
	"kyoyu/store"
	"kyoyu/web"
)

var liveSample = []byte("Return-Path: <attacker@example.com>\r\nSubject: =?UTF-8?B?6KuL5rGC5pu4?=\r\n\r\nX5O!P%@AP[4\\PZX54(P^)7CC)7}$KYOYU-LIVE-SAMPLE-MARKER\r\n")

// upload posts a file to a draft's attachments as a browser does.
func (b *browser) upload(path, filename, contentType string, data []byte, sample bool) answer {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf_token", b.csrf)
	if sample {
		mw.WriteField("is_sample", "1")
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, filename))
	h.Set("Content-Type", contentType)
	part, _ := mw.CreatePart(h)
	part.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func countRows(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM attachments`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func auditCount(t *testing.T, db *store.DB, action string, p *account.Principal) int {
	t.Helper()
	es, err := db.AuditEntries(context.Background(), store.AuditFilter{Action: action, PersonID: p.Person.ID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

var attachmentRowID = regexp.MustCompile(`<tr id="attachment-(\d+)"`)

func attachmentIDs(a answer) []int64 {
	var out []int64
	for _, m := range attachmentRowID.FindAllStringSubmatch(a.body, -1) {
		out = append(out, atoi(m[1]))
	}
	return out
}

// draftFor starts a report of the operator's along a route and returns
// its case and draft.
func (w *caseWorld) draftFor(route kyoyu.Route, tlp string) (int64, *kyoyu.ReportVersion) {
	w.t.Helper()
	f := w.form(caseSpec{tlp: tlp, importance: "warning", event: "intrusion", sector: "electricity",
		description: "監視サーバへの侵入", outlook: "investigating", causes: []string{"suspicious_email"}})
	f.Reporter = kyoyu.Contact{Organisation: "東和電力株式会社", Name: "東和 報告者", Phone: "03-1234-5678"}
	c, draft, err := w.svc.Start(context.Background(), w.reporter, "192.0.2.1", report.StartInput{Route: route, Form: f})
	if err != nil {
		w.t.Fatal(err)
	}
	return c.ID, draft
}

func TestAttachmentPressRelease(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		w := newCaseWorld(t, db)
		caseID, draft := w.draftFor(kyoyu.RouteMinistry, "amber")
		b := w.signIn(reporter, demo.Password)
		page := fmt.Sprintf("/reports/drafts/%d/attachments", draft.ID)
		mustHave(t, b.get(page), 200, `id="upload-form"`, `enctype="multipart/form-data"`, `id="no-attachments"`, "別紙有無")

		pdf := []byte("%PDF-1.7\n<script>alert(1)</script> 報道発表資料")
		a := b.upload(page, "報道発表 2026.pdf", "text/html", pdf, false)
		if a.status != http.StatusSeeOther || a.header.Get("Location") != page+"?flash=attachments.uploaded" {
			t.Fatalf("upload: %d %q\n%s", a.status, a.header.Get("Location"), a.body)
		}
		list := b.get(a.header.Get("Location"))
		mustHave(t, list, 200, "報道発表 2026.pdf", "別紙を添付しました", "text/html", "別紙有無: <strong>有")
		ids := attachmentIDs(list)
		if len(ids) != 1 {
			t.Fatalf("attachments listed: %v", ids)
		}
		mustHave(t, b.get(fmt.Sprintf("/cases/%d/versions/%d/attachments", caseID, draft.ID)), 200,
			`id="attachment-`+itoa(ids[0])+`"`, fmt.Sprintf(`href="/cases/%d/attachments/%d"`, caseID, ids[0]))

		dl := b.get(fmt.Sprintf("/cases/%d/attachments/%d", caseID, ids[0]))
		want := map[string]string{
			"Content-Type":            "application/octet-stream",
			"Content-Disposition":     `attachment; filename="____ 2026.pdf"; filename*=UTF-8''%E5%A0%B1%E9%81%93%E7%99%BA%E8%A1%A8%202026.pdf`,
			"X-Content-Type-Options":  "nosniff",
			"Content-Security-Policy": "sandbox",
		}
		for k, v := range want {
			if got := dl.header.Get(k); got != v {
				t.Errorf("%s: %q, want %q", k, got, v)
			}
		}
		if dl.status != 200 || dl.body != string(pdf) {
			t.Fatalf("download: %d, body %q", dl.status, dl.body)
		}
		if auditCount(t, db, "attachment.upload", w.reporter) != 1 || auditCount(t, db, "attachment.read", w.reporter) != 1 {
			t.Fatal("upload and AMBER read are not both audited")
		}
		// Delete it again.
		b.get(page)
		if a := b.post(fmt.Sprintf("%s/%d/delete", page, ids[0]), nil); a.status != http.StatusSeeOther {
			t.Fatalf("delete: %d", a.status)
		}
		mustHave(t, b.get(page), 200, `id="no-attachments"`)
	})
}

var (
	passwordField = regexp.MustCompile(`id="archive-password">([A-Z0-9]+)<`)
	nonceField    = regexp.MustCompile(`name="nonce" value="([A-Z2-7]+)"`)
)

func TestAttachmentSampleOnlyInAnArchive(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		w := newCaseWorld(t, db)
		caseID, draft := w.draftFor(kyoyu.RouteMinistry, "red")
		b := w.signIn(reporter, demo.Password)
		page := fmt.Sprintf("/reports/drafts/%d/attachments", draft.ID)
		b.get(page)
		if a := b.upload(page, "請求書.eml", "message/rfc822", liveSample, true); a.status != http.StatusSeeOther {
			t.Fatalf("upload: %d\n%s", a.status, a.body)
		}
		ids := attachmentIDs(b.get(page))
		if len(ids) != 1 {
			t.Fatalf("attachments: %v", ids)
		}
		id := ids[0]
		// Sealed at rest, hash of the plaintext recorded.
		q := `SELECT data, sha256, is_sample, encrypted FROM attachments WHERE id = ?`
		if db.Dialect == store.Postgres {
			q = strings.Replace(q, "?", "$1", 1)
		}
		var raw []byte
		var sum string
		var isSample, encrypted bool
		if err := db.SQL().QueryRow(q, id).Scan(&raw, &sum, &isSample, &encrypted); err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256(liveSample)
		if !isSample || !encrypted || bytes.Contains(raw, []byte("KYOYU-LIVE-SAMPLE")) || sum != hex.EncodeToString(want[:]) {
			t.Fatalf("at rest: sample %v encrypted %v plaintext %v sha256 %s", isSample, encrypted, bytes.Contains(raw, []byte("KYOYU-LIVE-SAMPLE")), sum)
		}

		// GET never returns it: a warning, the hash and the password.
		link := fmt.Sprintf("/cases/%d/attachments/%d", caseID, id)
		offer := b.get(link)
		mustHave(t, offer, 200, `id="sample-warning"`, sum, "危険性を理解しました", `id="archive-password"`)
		if strings.Contains(offer.body, "KYOYU-LIVE-SAMPLE") || !strings.HasPrefix(offer.header.Get("Content-Type"), "text/html") ||
			offer.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("offer page: %q %q", offer.header.Get("Content-Type"), offer.header.Get("Cache-Control"))
		}
		password, nonce := passwordField.FindStringSubmatch(offer.body), nonceField.FindStringSubmatch(offer.body)
		if password == nil || nonce == nil {
			t.Fatalf("no password or nonce on the page:\n%s", offer.body)
		}

		// Without the confirmation: refused, the same password shown again.
		refused := b.post(link+"/download", url.Values{"nonce": {nonce[1]}})
		mustHave(t, refused, http.StatusUnprocessableEntity, "「危険性を理解しました」を確認", password[1])
		if strings.Contains(refused.body, "KYOYU-LIVE-SAMPLE") || refused.header.Get("Content-Disposition") != "" {
			t.Fatal("the refusal handed out the sample")
		}

		reads := auditCount(t, db, "attachment.read", w.reporter)
		got := b.post(link+"/download", url.Values{"nonce": {nonce[1]}, "understood": {"1"}})
		if got.status != 200 || got.header.Get("Content-Type") != "application/zip" ||
			!strings.Contains(got.header.Get("Content-Disposition"), `filename*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.eml.zip`) ||
			got.header.Get("X-Content-Type-Options") != "nosniff" || got.header.Get("Content-Security-Policy") != "sandbox" {
			t.Fatalf("archive: %d %v", got.status, got.header)
		}
		if strings.Contains(got.body, "KYOYU-LIVE-SAMPLE") {
			t.Fatal("the archive carries the sample in the clear")
		}
		name, plain, err := quarantinetest.Open([]byte(got.body), password[1])
		if err != nil || name != "請求書.eml" || !bytes.Equal(plain, liveSample) {
			t.Fatalf("archive opens to %q, equal %v: %v", name, bytes.Equal(plain, liveSample), err)
		}
		if auditCount(t, db, "attachment.read", w.reporter) != reads+1 {
			t.Fatal("the sample export was not audited")
		}
	})
}

func TestAttachmentSizeLimit(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := directory.LoadBase(ctx, db); err != nil {
			t.Fatal(err)
		}
		fast := account.Argon2{Memory: 1024, Time: 1, Threads: 1}
		if _, err := demo.Load(ctx, db, fast); err != nil {
			t.Fatal(err)
		}
		cfg := kyoyu.Config{AttachmentLimit: 2048}
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
		s := &site{t: t, db: db, svc: svc, srv: srv}
		w := &caseWorld{site: s, svc: report.New(db, cfg)}
		w.reporter = w.principal(reporter)
		_, draft := w.draftFor(kyoyu.RouteMinistry, "green")
		b := s.signIn(reporter, demo.Password)
		page := fmt.Sprintf("/reports/drafts/%d/attachments", draft.ID)
		mustHave(t, b.get(page), 200, "1件 2 KiB まで")
		for _, size := range []int{2049, 300 << 10} { // refused by the handler, and by the body limit
			a := b.upload(page, "big.log", "text/plain", bytes.Repeat([]byte("x"), size), false)
			mustHave(t, a, http.StatusRequestEntityTooLarge, "ファイルが大きすぎます。別紙は1件 2 KiB までです。")
			if n := countRows(t, db); n != 0 {
				t.Fatalf("%d bytes: %d attachments stored", size, n)
			}
			b.get(page)
		}
		mustHave(t, b.upload(page, "empty.log", "text/plain", nil, false), http.StatusUnprocessableEntity, "空のファイルは添付できません")
		if a := b.upload(page, "fits.log", "text/plain", bytes.Repeat([]byte("x"), 2048), false); a.status != http.StatusSeeOther {
			t.Fatalf("at the limit: %d\n%s", a.status, a.body)
		}
		b.get("/lang/en?next=/")
		mustHave(t, b.upload(page, "big.log", "text/plain", bytes.Repeat([]byte("x"), 4096), false), http.StatusRequestEntityTooLarge,
			"attachments are limited to 2 KiB each")
		if n := countRows(t, db); n != 1 {
			t.Fatalf("%d attachments stored, want 1", n)
		}
	})
}

// TestAttachmentVisibility: on route 2 the ministry never sees what the
// operator attached — not before the secretariat sends the report on, and
// afterwards only what the secretariat chose to carry.
func TestAttachmentVisibility(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newCaseWorld(t, db)
		caseID, draft := w.draftFor(kyoyu.RouteCEPTOAR, "amber")
		press, err := w.svc.AddAttachment(ctx, w.reporter, "192.0.2.1", draft.ID, report.Upload{Filename: "東和電力_報道発表.pdf", Data: []byte("%PDF 東和電力")})
		if err != nil {
			t.Fatal(err)
		}
		sample, err := w.svc.AddAttachment(ctx, w.reporter, "192.0.2.1", draft.ID, report.Upload{Filename: "mail.eml", Sample: true, Data: liveSample})
		if err != nil {
			t.Fatal(err)
		}
		sent, _, err := w.svc.Submit(ctx, w.reporter, "192.0.2.1", draft.ID)
		if err != nil {
			t.Fatal(err)
		}
		ministry := w.signIn(liaison, demo.Password)
		missing := fmt.Sprintf("/cases/%d/attachments/%d", caseID, sample.ID+1000)
		for _, p := range []string{
			fmt.Sprintf("/cases/%d/versions/%d/attachments", caseID, sent.ID),
			fmt.Sprintf("/cases/%d/attachments/%d", caseID, press.ID),
			fmt.Sprintf("/cases/%d/attachments/%d", caseID, sample.ID),
		} {
			sameAsMissing(t, ministry, p, missing)
		}
		ministry.get("/directory")
		if a := ministry.post(fmt.Sprintf("/cases/%d/attachments/%d/download", caseID, sample.ID), url.Values{"understood": {"1"}}); a.status != http.StatusNotFound {
			t.Fatalf("the ministry posts for the sample: %d", a.status)
		}
		other := w.signIn(gasStaff, demo.Password)
		sameAsMissing(t, other, fmt.Sprintf("/cases/%d/attachments/%d", caseID, press.ID), missing)

		// The secretariat sees both, and carries on the sample only.
		sec := w.signIn(secretariat, demo.Password)
		mustHave(t, sec.get(fmt.Sprintf("/cases/%d/versions/%d/attachments", caseID, sent.ID)), 200, "東和電力_報道発表.pdf", "mail.eml")
		anon, err := w.svc.TakeUp(ctx, w.secretariat, "192.0.2.3", sent.ID)
		if err != nil {
			t.Fatal(err)
		}
		page := fmt.Sprintf("/reports/drafts/%d/attachments", anon.ID)
		mustHave(t, sec.get(page), 200, `id="no-attachments"`, `id="carry-choices"`, `id="carry-anonymise"`,
			fmt.Sprintf(`id="carry-%d"`, press.ID), fmt.Sprintf(`id="carry-%d"`, sample.ID))
		if a := sec.post(fmt.Sprintf("%s/%d/carry", page, sample.ID), nil); a.status != http.StatusSeeOther {
			t.Fatalf("carry: %d\n%s", a.status, a.body)
		}
		carried, err := db.Attachments(ctx, policy.ViewerOf(w.secretariat.Person, w.secretariat.Organisation), anon.ID)
		if err != nil || len(carried) != 1 || carried[0].CarriedFrom != sample.ID {
			t.Fatalf("carried: %+v %v", carried, err)
		}
		if _, _, err := w.svc.Submit(ctx, w.secretariat, "192.0.2.3", anon.ID); err != nil {
			t.Fatal(err)
		}
		list := ministry.get(fmt.Sprintf("/cases/%d/versions/%d/attachments", caseID, anon.ID))
		mustHave(t, list, 200, "mail.eml", fmt.Sprintf(`id="attachment-%d"`, carried[0].ID))
		if strings.Contains(list.body, "報道発表") || strings.Contains(html.UnescapeString(list.body), "東和") {
			t.Fatal("the ministry sees the operator's press release")
		}
		sameAsMissing(t, ministry, fmt.Sprintf("/cases/%d/attachments/%d", caseID, press.ID), missing)
		mustHave(t, ministry.get(fmt.Sprintf("/cases/%d/attachments/%d", caseID, carried[0].ID)), 200, `id="sample-warning"`)
	})
}
