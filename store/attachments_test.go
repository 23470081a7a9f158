package store_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/demo"
	"kyoyu/directory"
	"kyoyu/internal/testkit"
	"kyoyu/policy"
	"kyoyu/store"
)

func TestSecretKey(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if k, err := db.SecretKey(ctx, strings.Repeat("0f", 32)); err != nil || k[0] != 0x0f || len(k) != 32 {
			t.Fatalf("configured key: %x %v", k, err)
		}
		if _, err := db.SecretKey(ctx, "abc"); err == nil {
			t.Fatal("a malformed key accepted")
		}
		// Servers starting together end with one key.
		keys := make([][]byte, 8)
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() {
				k, err := db.SecretKey(ctx, "")
				if err != nil {
					t.Error(err)
				}
				keys[i] = k
			})
		}
		wg.Wait()
		for _, k := range keys[1:] {
			if len(k) != 32 || !bytes.Equal(k, keys[0]) {
				t.Fatalf("keys differ: %x / %x", k, keys[0])
			}
		}
		es, err := db.AuditEntries(ctx, store.AuditFilter{Action: "secret.create"})
		// Made once, and the entry never carries the value.
		if err != nil || len(es) != 1 || es[0].Detail != "" {
			t.Fatalf("secret.create entries: %+v %v", es, err)
		}
	})
}

func TestAttachmentRules(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := directory.LoadBase(ctx, db); err != nil {
			t.Fatal(err)
		}
		if _, err := demo.Load(ctx, db, account.Argon2{Memory: 1024, Time: 1, Threads: 1}); err != nil {
			t.Fatal(err)
		}
		who := func(email string) (policy.Viewer, kyoyu.Actor) {
			p, err := db.PersonByEmail(ctx, email)
			if err != nil {
				t.Fatal(err)
			}
			o, err := db.Organisation(ctx, p.OrganisationID)
			if err != nil {
				t.Fatal(err)
			}
			return policy.ViewerOf(p, o), kyoyu.Actor{Person: p, Organisation: o}
		}
		op, opActor := who("reporter@operator.demo.kyoyu.jp")
		meti, metiActor := who("liaison@meti.demo.kyoyu.jp")
		draft := &kyoyu.ReportVersion{Stage: kyoyu.StageOperator, OrgID: op.OrgID, AuthorID: op.PersonID, Form: kyoyu.ReportForm{TLP: "red"}}
		err := db.CreateCase(ctx, opActor, store.NewCase{
			Case:  &kyoyu.Case{Route: kyoyu.RouteMinistry, OriginatorOrgID: op.OrgID, OperatorOrgID: op.OrgID, MinistryOrgID: meti.OrgID},
			Item:  policy.Item{Kind: policy.Report, TLP: policy.Red, Originator: op.OrgID},
			Draft: draft,
		})
		if err != nil {
			t.Fatal(err)
		}
		sum := strings.Repeat("ab", 32)
		a := &store.Attachment{VersionID: draft.ID, Filename: "log.txt", Size: 3, SHA256: sum, UploadedBy: op.PersonID, Data: []byte("abc")}
		if err := db.AddAttachment(ctx, metiActor, meti.OrgID, a); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("another organisation attached to the draft: %v", err)
		}
		unsealed := *a
		unsealed.IsSample = true
		if err := db.AddAttachment(ctx, opActor, op.OrgID, &unsealed); err == nil {
			t.Fatal("an unsealed sample was stored")
		}
		// The database refuses it too.
		q := `INSERT INTO attachments (case_id, version_id, filename, size, sha256, is_sample, encrypted, data, uploaded_by, created_at)
			VALUES (?, ?, 'x', 1, ?, TRUE, FALSE, ?, ?, CURRENT_TIMESTAMP)`
		if db.Dialect == store.Postgres {
			for i := 1; strings.Contains(q, "?"); i++ {
				q = strings.Replace(q, "?", "$"+string(rune('0'+i)), 1)
			}
		}
		if _, err := db.SQL().ExecContext(ctx, q, draft.CaseID, draft.ID, sum, []byte("x"), op.PersonID); err == nil {
			t.Fatal("the schema lets a sample be stored in the clear")
		}
		if err := db.AddAttachment(ctx, opActor, op.OrgID, a); err != nil {
			t.Fatal(err)
		}
		if got, err := db.AttachmentData(ctx, op, draft.CaseID, a.ID); err != nil || string(got.Data) != "abc" || got.TLP != policy.Red {
			t.Fatalf("read back: %+v %v", got, err)
		}
		if got, _ := db.Attachments(ctx, meti, draft.ID); len(got) != 0 {
			t.Fatal("the ministry sees an attachment of a draft it never received")
		}
		if _, err := db.Attachment(ctx, op, draft.CaseID+1, a.ID); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("attachment found under another case: %v", err)
		}
		if err := db.DeleteAttachment(ctx, metiActor, meti.OrgID, draft.ID, a.ID); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("another organisation deleted: %v", err)
		}
		if err := db.DeleteAttachment(ctx, opActor, op.OrgID, draft.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteAttachment(ctx, opActor, op.OrgID, draft.ID, a.ID); !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("deleted twice: %v", err)
		}
	})
}
