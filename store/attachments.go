package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kyoyu"
	"kyoyu/audit"
	"kyoyu/policy"
)

// Attachment is a file attached to one report version (別紙): a press
// release, or a sample (検体) that may be live malware.
type Attachment struct {
	ID        int64
	CaseID    int64
	VersionID int64
	// Filename is sanitised on upload; it is offered as the download name
	// and shown as text, never interpreted.
	Filename string
	// ContentType is what the uploader declared. It is shown, never used:
	// every download is application/octet-stream.
	ContentType string
	Size        int64
	SHA256      string // hex, of the plaintext
	IsSample    bool
	Encrypted   bool   // samples always are
	KeyID       string // the key a sealed attachment is encrypted under
	CarriedFrom int64  // the attachment of an earlier version this one copies
	UploadedBy  int64
	CreatedAt   time.Time
	// TLP is the range the attachment is read under: the narrower of its
	// case's and its version's.
	TLP policy.TLP
	// Data is the stored bytes (sealed for samples); only AttachmentData
	// reads it.
	Data []byte
}

const attachmentColumns = `a.id, a.case_id, a.version_id, a.filename, a.content_type, a.size, a.sha256, a.is_sample, a.encrypted,
	a.key_id, COALESCE(a.carried_from, 0), a.uploaded_by, a.created_at, i.tlp, v.tlp`

// attachmentFrom joins an attachment to its version, case and item, so the
// version's visibility rule (policy.VersionWhere) applies to it unchanged.
const attachmentFrom = ` FROM attachments a JOIN report_versions v ON v.id = a.version_id JOIN cases c ON c.id = v.case_id
	JOIN items i ON i.id = c.item_id`

func scanAttachment(r rowScanner, withData bool) (*Attachment, error) {
	a := &Attachment{}
	var itemTLP, versionTLP string
	dest := []any{&a.ID, &a.CaseID, &a.VersionID, &a.Filename, &a.ContentType, &a.Size, &a.SHA256, &a.IsSample, &a.Encrypted,
		&a.KeyID, &a.CarriedFrom, &a.UploadedBy, &a.CreatedAt, &itemTLP, &versionTLP}
	if withData {
		dest = append(dest, &a.Data)
	}
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	a.CreatedAt = a.CreatedAt.UTC()
	a.TLP = policy.Narrower(policy.TLP(itemTLP), policy.TLP(versionTLP))
	return a, nil
}

// visibleAttachments lists the attachments v may see that match cond.
func (db *DB) visibleAttachments(ctx context.Context, v policy.Viewer, cond string, args ...any) ([]*Attachment, error) {
	where, wargs := policy.VersionWhere(v, "v", "i")
	rows, err := db.query(ctx, `SELECT `+attachmentColumns+attachmentFrom+` WHERE `+cond+` AND `+where+` ORDER BY v.revision, a.id`,
		append(args, wargs...)...)
	if err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	defer rows.Close()
	var out []*Attachment
	for rows.Next() {
		a, err := scanAttachment(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Attachments lists the attachments of a version, if v may see the
// version; nothing otherwise.
func (db *DB) Attachments(ctx context.Context, v policy.Viewer, versionID int64) ([]*Attachment, error) {
	return db.visibleAttachments(ctx, v, `a.version_id = ?`, versionID)
}

// CaseAttachments lists the attachments of every version of a case v may
// see, in the order of the versions.
func (db *DB) CaseAttachments(ctx context.Context, v policy.Viewer, caseID int64) ([]*Attachment, error) {
	return db.visibleAttachments(ctx, v, `a.case_id = ?`, caseID)
}

// Attachment returns an attachment of a case without its data; one v may
// not see is ErrNotFound, exactly like one that does not exist.
func (db *DB) Attachment(ctx context.Context, v policy.Viewer, caseID, id int64) (*Attachment, error) {
	return db.attachment(ctx, v, caseID, id, false)
}

// AttachmentData is Attachment with the stored bytes (sealed for samples).
func (db *DB) AttachmentData(ctx context.Context, v policy.Viewer, caseID, id int64) (*Attachment, error) {
	return db.attachment(ctx, v, caseID, id, true)
}

func (db *DB) attachment(ctx context.Context, v policy.Viewer, caseID, id int64, withData bool) (*Attachment, error) {
	where, wargs := policy.VersionWhere(v, "v", "i")
	cols := attachmentColumns
	if withData {
		cols += `, a.data`
	}
	a, err := scanAttachment(db.queryRow(ctx, `SELECT `+cols+attachmentFrom+` WHERE a.id = ? AND a.case_id = ? AND `+where,
		append([]any{id, caseID}, wargs...)...), withData)
	if err != nil {
		return nil, fmt.Errorf("attachment %d: %w", id, db.mapErr(err))
	}
	return a, nil
}

// lockDraft returns the case of a draft orgID is writing, locking the
// version row on PostgreSQL so a submission cannot slip in before the
// change commits (SQLite's transactions already hold the write lock).
func (tx *Tx) lockDraft(ctx context.Context, versionID, orgID int64) (int64, error) {
	q := `SELECT case_id FROM report_versions WHERE id = ? AND org_id = ? AND status = 'draft'`
	if tx.db.Dialect == Postgres {
		q += ` FOR UPDATE`
	}
	var caseID int64
	if err := tx.queryRow(ctx, q, versionID, orgID).Scan(&caseID); err != nil {
		return 0, fmt.Errorf("draft %d: %w", versionID, tx.db.mapErr(err))
	}
	return caseID, nil
}

// AddAttachment stores an attachment on a draft orgID is writing
// (a.VersionID), with its audit entry. Data must already be sealed if the
// attachment is a sample. A version that is not such a draft is not found.
func (db *DB) AddAttachment(ctx context.Context, actor kyoyu.Actor, orgID int64, a *Attachment) error {
	if a.IsSample && !a.Encrypted {
		return errors.New("add attachment: a sample must be sealed before it is stored")
	}
	return db.Update(ctx, func(tx *Tx) error {
		caseID, err := tx.lockDraft(ctx, a.VersionID, orgID)
		if err != nil {
			return err
		}
		a.CaseID, a.CreatedAt = caseID, tx.now
		a.ID, err = tx.insert(ctx, `INSERT INTO attachments (case_id, version_id, filename, content_type, size, sha256, is_sample,
			encrypted, key_id, data, uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.CaseID, a.VersionID, a.Filename, a.ContentType, a.Size, a.SHA256, a.IsSample, a.Encrypted, a.KeyID, a.Data, a.UploadedBy, tx.now)
		if err != nil {
			return fmt.Errorf("add attachment: %w", err)
		}
		return tx.audit(ctx, actor, "attachment.upload", "attachment", fmt.Sprint(a.ID), audit.OK,
			fmt.Sprintf("case=%d version=%d sample=%t size=%d sha256=%s", a.CaseID, a.VersionID, a.IsSample, a.Size, a.SHA256))
	})
}

// DeleteAttachment removes an attachment from a draft orgID is writing.
func (db *DB) DeleteAttachment(ctx context.Context, actor kyoyu.Actor, orgID, versionID, id int64) error {
	return db.Update(ctx, func(tx *Tx) error {
		if _, err := tx.lockDraft(ctx, versionID, orgID); err != nil {
			return err
		}
		var sum string
		if err := tx.queryRow(ctx, `DELETE FROM attachments WHERE id = ? AND version_id = ? RETURNING sha256`, id, versionID).Scan(&sum); err != nil {
			return fmt.Errorf("attachment %d: %w", id, tx.db.mapErr(err))
		}
		return tx.audit(ctx, actor, "attachment.delete", "attachment", fmt.Sprint(id), audit.OK,
			fmt.Sprintf("version=%d sha256=%s", versionID, sum))
	})
}

// CarryAttachment copies an attachment v may see onto a draft of the same
// case that orgID is writing: the next hop's choice of what travels on.
// Carrying the same attachment twice gives back the copy already there.
func (db *DB) CarryAttachment(ctx context.Context, actor kyoyu.Actor, v policy.Viewer, orgID, draftID, id int64) (*Attachment, error) {
	var outID, caseID int64
	err := db.Update(ctx, func(tx *Tx) error {
		var err error
		if caseID, err = tx.lockDraft(ctx, draftID, orgID); err != nil {
			return err
		}
		where, wargs := policy.VersionWhere(v, "v", "i")
		src, err := scanAttachment(tx.queryRow(ctx, `SELECT `+attachmentColumns+attachmentFrom+` WHERE a.id = ? AND a.case_id = ? AND `+where,
			append([]any{id, caseID}, wargs...)...), false)
		if err != nil {
			return fmt.Errorf("attachment %d: %w", id, tx.db.mapErr(err))
		}
		if src.VersionID == draftID {
			outID = src.ID
			return nil
		}
		var have int64
		err = tx.queryRow(ctx, `SELECT id FROM attachments WHERE version_id = ? AND (carried_from = ? OR (sha256 = ? AND filename = ?)) ORDER BY id LIMIT 1`,
			draftID, src.ID, src.SHA256, src.Filename).Scan(&have)
		if err == nil {
			outID = have
			return nil
		} else if err = tx.db.mapErr(err); !errors.Is(err, kyoyu.ErrNotFound) {
			return err
		}
		newID, err := tx.insert(ctx, `INSERT INTO attachments (case_id, version_id, filename, content_type, size, sha256, is_sample,
			encrypted, key_id, data, carried_from, uploaded_by, created_at)
			SELECT case_id, ?, filename, content_type, size, sha256, is_sample, encrypted, key_id, data, id, ?, ? FROM attachments WHERE id = ?`,
			draftID, actorID(actor), tx.now, src.ID)
		if err != nil {
			return fmt.Errorf("carry attachment: %w", err)
		}
		outID = newID
		return tx.audit(ctx, actor, "attachment.carry", "attachment", fmt.Sprint(newID), audit.OK,
			fmt.Sprintf("case=%d from=%d version=%d sample=%t sha256=%s", caseID, src.ID, draftID, src.IsSample, src.SHA256))
	})
	if err != nil {
		return nil, err
	}
	return db.Attachment(ctx, v, caseID, outID)
}

func actorID(a kyoyu.Actor) int64 {
	if a.Person == nil {
		return 0
	}
	return a.Person.ID
}
