package report_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/internal/testkit"
	"kyoyu/quarantine/quarantinetest"
	"kyoyu/report"
	"kyoyu/store"
)

// malware stands in for a live sample: its marker must never be found in
// the database or in anything handed out except the unpacked archive.
var malware = []byte("Return-Path: <attacker@example.com>\r\nSubject: 請求書\r\n\r\nX5O!P%@AP[4\\PZX54(P^)7CC)7}$KYOYU-LIVE-SAMPLE-MARKER\r\n")

func countAudit(t *testing.T, db *store.DB, action string, who *account.Principal) int {
	t.Helper()
	f := store.AuditFilter{Action: action, Limit: 500}
	if who != nil {
		f.PersonID = who.Person.ID
	}
	es, err := db.AuditEntries(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func countAttachments(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM attachments`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func names(as []*store.Attachment) string {
	var out []string
	for _, a := range as {
		out = append(out, a.Filename)
	}
	return strings.Join(out, ",")
}

// TestAttachmentsTravelOnlyWhereChosen walks route 2 (operator → CEPTOAR →
// ministry → NISC): the operator attaches a press release naming itself
// and a sample; the secretariat carries on only the sample; nobody past
// the secretariat ever sees the press release, and NISC takes the sample
// out in an archive that opens with the password it was shown.
func TestAttachmentsTravelOnlyWhereChosen(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		c, draft, err := w.svc.Start(ctx, w.reporter, "192.0.2.1", report.StartInput{Route: kyoyu.RouteCEPTOAR, Form: form("amber")})
		if err != nil {
			t.Fatal(err)
		}
		press, err := w.svc.AddAttachment(ctx, w.reporter, "192.0.2.1", draft.ID, report.Upload{Filename: "東和電力_報道発表.pdf",
			ContentType: "application/pdf", Data: []byte("%PDF-1.7 東和電力株式会社 報道発表")})
		if err != nil {
			t.Fatal(err)
		}
		sample, err := w.svc.AddAttachment(ctx, w.reporter, "192.0.2.1", draft.ID, report.Upload{Filename: `C:\Users\me\invoice‮fdp.eml`,
			ContentType: "message/rfc822; charset=utf-8", Sample: true, Data: malware})
		if err != nil {
			t.Fatal(err)
		}
		if sample.Filename != "invoicefdp.eml" || sample.ContentType != "message/rfc822" {
			t.Fatalf("sample kept as %q (%q)", sample.Filename, sample.ContentType)
		}
		// At rest: the sample is sealed, its hash is of the plaintext.
		var raw []byte
		var encrypted bool
		var sum string
		q := `SELECT data, encrypted, sha256 FROM attachments WHERE id = ?`
		if db.Dialect == store.Postgres {
			q = strings.Replace(q, "?", "$1", 1)
		}
		if err := db.SQL().QueryRow(q, sample.ID).Scan(&raw, &encrypted, &sum); err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256(malware)
		if !encrypted || bytes.Contains(raw, []byte("KYOYU-LIVE-SAMPLE")) || sum != hex.EncodeToString(want[:]) {
			t.Fatalf("sample at rest: encrypted %v, sha256 %s, contains plaintext %v", encrypted, sum, bytes.Contains(raw, []byte("KYOYU-LIVE-SAMPLE")))
		}
		if n := countAudit(t, db, "attachment.upload", w.reporter); n != 2 {
			t.Fatalf("%d upload audit entries, want 2", n)
		}
		// Only the draft's own organisation changes it.
		if _, err := w.svc.AddAttachment(ctx, w.other, "192.0.2.9", draft.ID, report.Upload{Filename: "x", Data: []byte("x")}); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("another operator attaches to the draft: %v", err)
		}
		if err := w.svc.DeleteAttachment(ctx, w.secretariat, "192.0.2.9", draft.ID, press.ID); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("the secretariat deletes from the operator's draft: %v", err)
		}

		sent, _, err := w.svc.Submit(ctx, w.reporter, "192.0.2.1", draft.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.AddAttachment(ctx, w.reporter, "192.0.2.1", sent.ID, report.Upload{Filename: "late", Data: []byte("x")}); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("attached to a sent version: %v", err)
		}
		if err := w.svc.DeleteAttachment(ctx, w.reporter, "192.0.2.1", sent.ID, press.ID); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("deleted from a sent version: %v", err)
		}
		// The ministry never sees what the operator attached before anonymisation.
		for _, id := range []int64{press.ID, sample.ID} {
			if _, err := db.Attachment(ctx, view(w.liaison), c.ID, id); !errors.Is(err, kyoyu.ErrNotFound) {
				t.Fatalf("the ministry sees operator attachment %d: %v", id, err)
			}
		}
		if as, _ := db.CaseAttachments(ctx, view(w.liaison), c.ID); len(as) != 0 {
			t.Fatalf("the ministry lists %s", names(as))
		}
		if _, err := w.svc.OfferSample(ctx, w.liaison, c.ID, sample.ID, ""); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("sample offered to the ministry: %v", err)
		}

		// The secretariat's draft inherits nothing; it carries on the sample only.
		anon, err := w.svc.TakeUp(ctx, w.secretariat, "192.0.2.3", sent.ID)
		if err != nil {
			t.Fatal(err)
		}
		if has, _ := w.svc.HasAttachments(ctx, w.secretariat, anon.ID); has {
			t.Fatal("the next hop's draft inherited attachments")
		}
		choices, err := w.svc.CarryChoices(ctx, w.secretariat, anon.ID)
		if err != nil || names(choices) != "東和電力_報道発表.pdf,invoicefdp.eml" {
			t.Fatalf("choices %q (%v)", names(choices), err)
		}
		if _, err := w.svc.CarryAttachment(ctx, w.liaison, "192.0.2.9", anon.ID, sample.ID); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("the ministry carries into the secretariat's draft: %v", err)
		}
		carried, err := w.svc.CarryAttachment(ctx, w.secretariat, "192.0.2.3", anon.ID, sample.ID)
		if err != nil {
			t.Fatal(err)
		}
		again, err := w.svc.CarryAttachment(ctx, w.secretariat, "192.0.2.3", anon.ID, sample.ID)
		if err != nil || again.ID != carried.ID || carried.CarriedFrom != sample.ID || !carried.IsSample || carried.SHA256 != sample.SHA256 {
			t.Fatalf("carried %+v, again %+v (%v)", carried, again, err)
		}
		if choices, _ := w.svc.CarryChoices(ctx, w.secretariat, anon.ID); names(choices) != "東和電力_報道発表.pdf" {
			t.Fatalf("choices after carrying: %q", names(choices))
		}
		if n := countAudit(t, db, "attachment.carry", w.secretariat); n != 1 {
			t.Fatalf("%d carry audit entries, want 1", n)
		}
		toMinistry, _, err := w.svc.Submit(ctx, w.secretariat, "192.0.2.3", anon.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Attachments(ctx, view(w.liaison), toMinistry.ID)
		if err != nil || names(got) != "invoicefdp.eml" {
			t.Fatalf("the ministry sees %q on the secretariat's version (%v)", names(got), err)
		}
		if _, err := db.Attachment(ctx, view(w.liaison), c.ID, press.ID); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("the press release reached the ministry: %v", err)
		}

		// The ministry cannot reach past what it sees, and carries the sample to NISC.
		mine, err := w.svc.TakeUp(ctx, w.liaison, "192.0.2.4", toMinistry.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.CarryAttachment(ctx, w.liaison, "192.0.2.4", mine.ID, press.ID); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("the ministry carried the invisible press release: %v", err)
		}
		if _, err := w.svc.CarryAttachment(ctx, w.liaison, "192.0.2.4", mine.ID, carried.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.svc.Submit(ctx, w.liaison, "192.0.2.4", mine.ID); err != nil {
			t.Fatal(err)
		}
		atNISC, err := db.CaseAttachments(ctx, view(w.analyst), c.ID)
		if err != nil || len(atNISC) != 1 || atNISC[0].VersionID != mine.ID {
			t.Fatalf("NISC sees %q (%v)", names(atNISC), err)
		}
		if as, _ := db.CaseAttachments(ctx, view(w.other), c.ID); len(as) != 0 {
			t.Fatalf("an operator of another sector sees %q", names(as))
		}

		// NISC takes the sample out: never raw, only confirmed, in an archive.
		x := atNISC[0]
		if _, err := w.svc.Download(ctx, w.analyst, "192.0.2.5", c.ID, x.ID); kyoyu.ErrorCode(err) != kyoyu.ECONFLICT {
			t.Fatalf("raw download of a sample: %v", err)
		}
		offer, err := w.svc.OfferSample(ctx, w.analyst, c.ID, x.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.ExportSample(ctx, w.analyst, "192.0.2.5", c.ID, x.ID, offer.Nonce, false); kyoyu.ErrorCode(err) != kyoyu.EINVALID {
			t.Fatalf("export without confirmation: %v", err)
		}
		reads := countAudit(t, db, "attachment.read", w.analyst)
		exp, err := w.svc.ExportSample(ctx, w.analyst, "192.0.2.5", c.ID, x.ID, offer.Nonce, true)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(exp.Archive, []byte("KYOYU-LIVE-SAMPLE")) || exp.Filename != "invoicefdp.eml.zip" {
			t.Fatalf("archive %q contains the plaintext: %v", exp.Filename, bytes.Contains(exp.Archive, []byte("KYOYU-LIVE-SAMPLE")))
		}
		name, plain, err := quarantinetest.Open(exp.Archive, offer.Password)
		if err != nil || name != "invoicefdp.eml" || !bytes.Equal(plain, malware) {
			t.Fatalf("archive opens to %q, equal %v (%v)", name, bytes.Equal(plain, malware), err)
		}
		if countAudit(t, db, "attachment.read", w.analyst) != reads+1 {
			t.Fatal("the export was not audited")
		}
		// The password belongs to the offer and the person.
		if again, _ := w.svc.OfferSample(ctx, w.analyst, c.ID, x.ID, offer.Nonce); again.Password != offer.Password {
			t.Fatal("the same offer shows another password")
		}
		if fresh, _ := w.svc.OfferSample(ctx, w.analyst, c.ID, x.ID, ""); fresh.Password == offer.Password {
			t.Fatal("a new offer reuses the password")
		}

		// The operator reads its own AMBER press release: audited, exact bytes.
		reads = countAudit(t, db, "attachment.read", w.reporter)
		a, err := w.svc.Download(ctx, w.reporter, "192.0.2.1", c.ID, press.ID)
		if err != nil || string(a.Data) != "%PDF-1.7 東和電力株式会社 報道発表" {
			t.Fatalf("press release: %v", err)
		}
		if countAudit(t, db, "attachment.read", w.reporter) != reads+1 {
			t.Fatal("a read of AMBER material was not audited")
		}
	})
}

func TestAttachmentLimitsAndKeys(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := setup(t, db)
		_, draft, err := w.svc.Start(ctx, w.reporter, "192.0.2.1", report.StartInput{Route: kyoyu.RouteMinistry, Form: form("green")})
		if err != nil {
			t.Fatal(err)
		}
		small := *w.svc
		small.Cfg.AttachmentLimit = 1024
		if _, err := small.AddAttachment(ctx, w.reporter, "192.0.2.1", draft.ID, report.Upload{Filename: "big.log", Data: make([]byte, 1025)}); kyoyu.ErrorCode(err) != kyoyu.ETOOLARGE {
			t.Fatalf("over the limit: %v", err)
		}
		if _, err := small.AddAttachment(ctx, w.reporter, "192.0.2.1", draft.ID, report.Upload{Filename: "empty.log"}); kyoyu.ErrorCode(err) != kyoyu.EINVALID {
			t.Fatalf("empty file: %v", err)
		}
		if n := countAttachments(t, db); n != 0 {
			t.Fatalf("%d attachments stored after refusals", n)
		}
		if _, err := small.AddAttachment(ctx, w.reporter, "192.0.2.1", draft.ID, report.Upload{Filename: "ok.log", Data: make([]byte, 1024)}); err != nil {
			t.Fatalf("at the limit: %v", err)
		}
		// Without a configured key, every server on the database shares the one it keeps.
		k1, err := db.SecretKey(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		k2, _ := db.SecretKey(ctx, "")
		if len(k1) != 32 || !bytes.Equal(k1, k2) || countAudit(t, db, "secret.create", nil) != 1 {
			t.Fatalf("database key: %x / %x", k1, k2)
		}
		s, err := w.svc.AddAttachment(ctx, w.reporter, "192.0.2.1", draft.ID, report.Upload{Filename: "s.eml", Sample: true, Data: malware})
		if err != nil {
			t.Fatal(err)
		}
		// A server with another key says so instead of handing out garbage.
		other := *w.svc
		other.Cfg.SecretKey = strings.Repeat("ab", 32)
		offer, err := other.OfferSample(ctx, w.reporter, draft.CaseID, s.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.ExportSample(ctx, w.reporter, "192.0.2.1", draft.CaseID, s.ID, offer.Nonce, true); err == nil || !strings.Contains(err.Error(), "--secret-key") {
			t.Fatalf("export under another key: %v", err)
		}
	})
}

func TestSanitiseFilename(t *testing.T) {
	long := strings.Repeat("報", 100) + ".pdf" // 304 bytes
	for in, want := range map[string]string{
		"報道発表.pdf":                "報道発表.pdf",
		`C:\fakepath\log.txt`:     "log.txt",
		"../../etc/passwd":        "passwd",
		"invoice\u202efdp.exe":    "invoicefdp.exe",
		"a\x00b\nc.txt":           "a_b_c.txt",
		`what?<x>|"y":*.txt`:      "what__x___y___.txt",
		"  .hidden. ":             "hidden",
		"CON.txt":                 "_CON.txt",
		"":                        "attachment",
		"...":                     "attachment",
		"bad\xffutf8.bin":         "bad_utf8.bin",
		long:                      strings.Repeat("報", 83) + ".pdf",
		"zero\u200bwidth\ufeff.z": "zerowidth.z",
	} {
		if got := report.SanitiseFilename(in); got != want {
			t.Errorf("SanitiseFilename(%q) = %q, want %q", in, got, want)
		}
		if len(report.SanitiseFilename(in)) > report.MaxFilename {
			t.Errorf("SanitiseFilename(%q) is over %d bytes", in, report.MaxFilename)
		}
	}
}
