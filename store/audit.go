package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"kyoyu"
	"kyoyu/audit"
	"kyoyu/policy"
)

// appendAudit adds one entry to the hash chain inside tx. The write lock
// (SQLite's, taken at BEGIN; an advisory lock on PostgreSQL) makes seq
// gap-free and the chain linear even with several servers.
func (tx *Tx) appendAudit(ctx context.Context, e audit.Entry) error {
	if tx.db.Dialect == Postgres {
		if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(4247002)`); err != nil {
			return fmt.Errorf("audit: lock: %w", err)
		}
	}
	if e.ItemID == 0 {
		id, err := tx.itemOf(ctx, e.ObjectType, e.ObjectID)
		if err != nil {
			return fmt.Errorf("audit: item of %s %s: %w", e.ObjectType, e.ObjectID, err)
		}
		e.ItemID = id
	}
	var seq int64
	prev := audit.Genesis
	err := tx.queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit: read head: %w", err)
	}
	e.Seq = seq + 1
	if e.At.IsZero() {
		e.At = tx.now
	}
	e.Seal(prev)
	if _, err := tx.exec(ctx, `INSERT INTO audit_log (seq, at, person_id, person_email, organisation_id,
		organisation_name, action, object_type, object_id, item_id, outcome, detail, ip, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At, nullID(e.PersonID), e.PersonEmail, nullID(e.OrganisationID), e.OrganisationName,
		e.Action, e.ObjectType, e.ObjectID, nullID(e.ItemID), e.Outcome, e.Detail, e.IP, e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	if _, err := tx.exec(ctx, `INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`, e.Seq, e.Hash); err != nil {
		return fmt.Errorf("audit: move head: %w", err)
	}
	return nil
}

// itemOf finds the shareable item an audited object belongs to (0 for
// objects that are not part of one: people, tokens, the directory).
func (tx *Tx) itemOf(ctx context.Context, objType, objID string) (int64, error) {
	var q string
	switch objType {
	case "case":
		q = `SELECT item_id FROM cases WHERE id = ?`
	case "report_version":
		q = `SELECT c.item_id FROM report_versions v JOIN cases c ON c.id = v.case_id WHERE v.id = ?`
	case "attachment":
		q = `SELECT c.item_id FROM attachments a JOIN cases c ON c.id = a.case_id WHERE a.id = ?`
	case "item":
		q = `SELECT id FROM items WHERE id = ?`
	default:
		return 0, nil
	}
	id, err := strconv.ParseInt(objID, 10, 64)
	if err != nil {
		return 0, nil
	}
	var item int64
	err = tx.queryRow(ctx, q, id).Scan(&item)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return item, err
}

// audit records what actor did, in tx.
func (tx *Tx) audit(ctx context.Context, actor kyoyu.Actor, action, objType, objID, outcome, detail string) error {
	return tx.appendAudit(ctx, EntryFor(actor, action, objType, objID, outcome, detail))
}

// EntryFor builds an audit entry for actor; the store fills seq, time and hashes.
func EntryFor(actor kyoyu.Actor, action, objType, objID, outcome, detail string) audit.Entry {
	e := audit.Entry{Action: action, ObjectType: objType, ObjectID: objID, Outcome: outcome, Detail: detail, IP: actor.IP}
	if actor.Person != nil {
		e.PersonID = actor.Person.ID
		e.PersonEmail = actor.Person.Email
	}
	if actor.Organisation != nil {
		e.OrganisationID = actor.Organisation.ID
		e.OrganisationName = actor.Organisation.NameJA
	}
	return e
}

// Audit appends an entry on its own, for events that change nothing else
// (a refused sign-in, a read of RED material).
func (db *DB) Audit(ctx context.Context, e audit.Entry) error {
	return db.Update(ctx, func(tx *Tx) error { return tx.appendAudit(ctx, e) })
}

// AuditMany appends several entries in one transaction, in order (the
// audited rows of one page of an export): all or none.
func (db *DB) AuditMany(ctx context.Context, es []audit.Entry) error {
	if len(es) == 0 {
		return nil
	}
	return db.Update(ctx, func(tx *Tx) error {
		for _, e := range es {
			if err := tx.appendAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// AuditFilter selects audit entries for a view.
type AuditFilter struct {
	PersonID       int64
	OrganisationID int64
	Action         string
	BeforeSeq      int64 // keyset paging: entries with seq < BeforeSeq
	Limit          int
	// Viewer, when set, hides entries about items the viewer may not see,
	// and entries by other organisations about items whose source the
	// viewer may not know (who wrote an anonymised report names its source).
	Viewer *policy.Viewer
}

// AuditEntries lists entries newest first.
func (db *DB) AuditEntries(ctx context.Context, f AuditFilter) ([]audit.Entry, error) {
	q := `SELECT ` + auditColumns + ` FROM audit_log WHERE 1=1`
	var args []any
	if f.PersonID != 0 {
		q += ` AND person_id = ?`
		args = append(args, f.PersonID)
	}
	if f.OrganisationID != 0 {
		q += ` AND organisation_id = ?`
		args = append(args, f.OrganisationID)
	}
	if f.Action != "" {
		q += ` AND action = ?`
		args = append(args, f.Action)
	}
	if f.BeforeSeq != 0 {
		q += ` AND seq < ?`
		args = append(args, f.BeforeSeq)
	}
	if f.Viewer != nil {
		where, wargs := policy.Where(*f.Viewer, "i")
		src, sargs := policy.SourceVisible(*f.Viewer, "i")
		q += ` AND (item_id IS NULL OR EXISTS (SELECT 1 FROM items i WHERE i.id = audit_log.item_id AND ` + where +
			` AND (` + src + ` OR audit_log.organisation_id = ?)))`
		args = append(append(append(args, wargs...), sargs...), f.Viewer.OrgID)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q += fmt.Sprintf(` ORDER BY seq DESC LIMIT %d`, f.Limit)
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

const auditColumns = `seq, at, person_id, person_email, organisation_id, organisation_name,
	action, object_type, object_id, COALESCE(item_id, 0), outcome, detail, ip, prev_hash, hash`

func scanAudit(rows *sql.Rows) (audit.Entry, error) {
	var e audit.Entry
	var pid, oid sql.NullInt64
	err := rows.Scan(&e.Seq, &e.At, &pid, &e.PersonEmail, &oid, &e.OrganisationName,
		&e.Action, &e.ObjectType, &e.ObjectID, &e.ItemID, &e.Outcome, &e.Detail, &e.IP, &e.PrevHash, &e.Hash)
	e.PersonID, e.OrganisationID = pid.Int64, oid.Int64
	e.At = e.At.UTC()
	return e, err
}

// VerifyAudit walks the whole chain in order and returns the first
// problem (an *audit.Problem), or nil and the number of entries checked.
func (db *DB) VerifyAudit(ctx context.Context) (int64, error) {
	v := audit.NewVerifier()
	rows, err := db.query(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return v.Checked, fmt.Errorf("read audit log: %w", err)
		}
		if err := v.Next(e); err != nil {
			return v.Checked, err
		}
	}
	if err := rows.Err(); err != nil {
		return v.Checked, fmt.Errorf("read audit log: %w", err)
	}
	var seq int64
	var hash string
	err = db.queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return v.Checked, fmt.Errorf("read audit head: %w", err)
	}
	return v.Checked, v.End(seq, hash)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
