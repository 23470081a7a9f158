package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/audit"
	"kyoyu/policy"
)

// NewCase is a case as its first report's draft creates it.
type NewCase struct {
	Case  *kyoyu.Case
	Item  policy.Item
	Draft *kyoyu.ReportVersion
}

// CreateCase stores a new case with its item (not yet shared) and the
// draft of its first report, in one transaction.
func (db *DB) CreateCase(ctx context.Context, actor kyoyu.Actor, nc NewCase) error {
	return db.Update(ctx, func(tx *Tx) error {
		itemID, err := tx.createItem(ctx, nc.Item)
		if err != nil {
			return err
		}
		c := nc.Case
		c.ItemID, c.Status, c.CreatedAt, c.UpdatedAt = itemID, kyoyu.CaseDraft, tx.now, tx.now
		if c.Channel == "" {
			c.Channel = "web"
		}
		c.ID, err = tx.insert(ctx, `INSERT INTO cases (item_id, route, status, originator_org_id, operator_org_id, operator_name, operator_label,
			secretariat_org_id, ministry_org_id, channel, taken_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			itemID, string(c.Route), string(c.Status), c.OriginatorOrgID, nullID(c.OperatorOrgID), c.OperatorName, c.OperatorLabel,
			nullID(c.SecretariatOrgID), c.MinistryOrgID, c.Channel, c.TakenBy, tx.now, tx.now)
		if err != nil {
			return fmt.Errorf("create case: %w", err)
		}
		v := nc.Draft
		v.CaseID, v.ReportNumber, v.Revision, v.Status = c.ID, 1, 1, kyoyu.VersionDraft
		if err := tx.insertVersion(ctx, v); err != nil {
			return err
		}
		return tx.audit(ctx, actor, "case.create", "case", fmt.Sprint(c.ID), audit.OK, string(c.Route))
	})
}

func (tx *Tx) insertVersion(ctx context.Context, v *kyoyu.ReportVersion) error {
	form, err := json.Marshal(v.Form)
	if err != nil {
		return err
	}
	v.CreatedAt, v.UpdatedAt = tx.now, tx.now
	v.ID, err = tx.insert(ctx, `INSERT INTO report_versions (case_id, report_number, revision, stage, status, org_id, author_id, to_org_id,
		released, source_only, tlp, form, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.CaseID, v.ReportNumber, v.Revision, string(v.Stage), string(v.Status), v.OrgID, nullID(v.AuthorID), nullID(v.ToOrgID),
		v.Released, v.SourceOnly, v.Form.TLP, string(form), tx.now, tx.now)
	if err != nil {
		return fmt.Errorf("create report version: %w", err)
	}
	return nil
}

// AddVersion adds a new draft to a case: the next hop's version of the
// current report, or a follow-up (the next report number).
func (db *DB) AddVersion(ctx context.Context, actor kyoyu.Actor, v *kyoyu.ReportVersion) error {
	return db.Update(ctx, func(tx *Tx) error {
		if err := tx.queryRow(ctx, `SELECT COALESCE(MAX(revision), 0) + 1 FROM report_versions WHERE case_id = ?`, v.CaseID).Scan(&v.Revision); err != nil {
			return err
		}
		v.Status = kyoyu.VersionDraft
		if err := tx.insertVersion(ctx, v); err != nil {
			return err
		}
		return tx.audit(ctx, actor, "report.draft_create", "report_version", fmt.Sprint(v.ID),
			audit.OK, fmt.Sprintf("case=%d report=%d stage=%s", v.CaseID, v.ReportNumber, v.Stage))
	})
}

// SaveDraft replaces the form of a draft its organisation is writing. A
// version that is not a draft of that organisation is not found.
func (db *DB) SaveDraft(ctx context.Context, actor kyoyu.Actor, versionID, orgID int64, form kyoyu.ReportForm) error {
	b, err := json.Marshal(form)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE report_versions SET form = ?, tlp = ?, updated_at = ? WHERE id = ? AND org_id = ? AND status = 'draft'`,
			string(b), form.TLP, tx.now, versionID, orgID)
		if err != nil {
			return fmt.Errorf("save draft: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("draft %d: %w", versionID, kyoyu.ErrNotFound)
		}
		return tx.audit(ctx, actor, "report.draft_save", "report_version", fmt.Sprint(versionID), audit.OK, "")
	})
}

// Submission sends a draft to the next hop.
type Submission struct {
	VersionID int64
	OrgID     int64 // the organisation sending it (must own the draft)
	ToOrgID   int64
	Status    kyoyu.CaseStatus // where the case stands afterwards
	// Release is set when the version reaches NISC: the case is shared
	// under its range, numbered if new, and its lists and filters follow
	// this version.
	Release bool
	// Item holds the range, sectors and relations after this submission.
	Item policy.Item
	// NumberFormat makes a case number from the JST year and the sequence.
	NumberFormat func(year, seq int) string
	// FollowUpDue is when a follow-up is expected, if this version promises one.
	FollowUpDue *time.Time
	// Label replaces the operator's name for those who may not see it
	// (set by the secretariat that anonymises).
	Label string
	// Notify is who is told, in the same transaction.
	Notify []Notification
}

// Submit sends a draft on, records the new holder, and on release numbers
// the case (gap-free per year, under the counter row's lock), shares it and
// notifies, all in one transaction. It returns the case number.
func (db *DB) Submit(ctx context.Context, actor kyoyu.Actor, s Submission) (string, error) {
	var number string
	err := db.Update(ctx, func(tx *Tx) error {
		var caseID, itemID int64
		var reportNumber int
		var formJSON string
		err := tx.queryRow(ctx, `SELECT v.case_id, c.item_id, v.report_number, v.form FROM report_versions v JOIN cases c ON c.id = v.case_id
			WHERE v.id = ? AND v.org_id = ? AND v.status = 'draft'`, s.VersionID, s.OrgID).Scan(&caseID, &itemID, &reportNumber, &formJSON)
		if err != nil {
			return fmt.Errorf("draft %d: %w", s.VersionID, tx.db.mapErr(err))
		}
		var form kyoyu.ReportForm
		if err := json.Unmarshal([]byte(formJSON), &form); err != nil {
			return fmt.Errorf("draft %d: %w", s.VersionID, err)
		}
		if _, err := tx.exec(ctx, `UPDATE report_versions SET status = 'submitted', to_org_id = ?, released = ?, submitted_at = ?, updated_at = ? WHERE id = ?`,
			s.ToOrgID, s.Release, tx.now, tx.now, s.VersionID); err != nil {
			return fmt.Errorf("submit: %w", err)
		}
		if err := tx.updateItem(ctx, itemID, s.Item); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE cases SET status = ?, updated_at = ? WHERE id = ?`, string(s.Status), tx.now, caseID); err != nil {
			return err
		}
		if s.Label != "" {
			if _, err := tx.exec(ctx, `UPDATE cases SET operator_label = ? WHERE id = ?`, s.Label, caseID); err != nil {
				return err
			}
		}
		if err := tx.queryRow(ctx, `SELECT COALESCE(case_number, '') FROM cases WHERE id = ?`, caseID).Scan(&number); err != nil {
			return err
		}
		if s.Release {
			if number == "" {
				year := tx.now.In(kyoyu.JST).Year()
				var seq int
				// The upsert takes the counter row's lock until commit: concurrent
				// submissions on any server queue here, and a rollback returns the number.
				if err := tx.queryRow(ctx, `INSERT INTO case_counters (year, last) VALUES (?, 1)
					ON CONFLICT (year) DO UPDATE SET last = case_counters.last + 1 RETURNING last`, year).Scan(&seq); err != nil {
					return fmt.Errorf("number case: %w", err)
				}
				number = s.NumberFormat(year, seq)
				if _, err := tx.exec(ctx, `UPDATE cases SET case_number = ?, case_year = ?, case_seq = ?, received_at = ? WHERE id = ?`,
					number, year, seq, tx.now, caseID); err != nil {
					return fmt.Errorf("number case: %w", err)
				}
			}
			if err := tx.releaseColumns(ctx, caseID, reportNumber, form, s.FollowUpDue); err != nil {
				return err
			}
			if err := tx.reindexCase(ctx, caseID); err != nil {
				return err
			}
			// The version's STIX export is stored for TAXII by a job that
			// commits with the release, so no release goes without it.
			if _, err := tx.enqueue(ctx, caseSTIXJob(caseID, s.VersionID)); err != nil {
				return err
			}
		}
		// A ministry's liaisons are told together: a few statements, not
		// three per person.
		if err := tx.notifyMany(ctx, itemID, s.Notify); err != nil {
			return err
		}
		detail := fmt.Sprintf("case=%d report=%d to=%d", caseID, reportNumber, s.ToOrgID)
		if number != "" {
			detail += " number=" + number
		}
		return tx.audit(ctx, actor, "report.submit", "report_version", fmt.Sprint(s.VersionID), audit.OK, detail)
	})
	return number, err
}

// releaseColumns copies the released version's classification onto the
// case, for lists and filters.
func (tx *Tx) releaseColumns(ctx context.Context, caseID int64, reportNumber int, f kyoyu.ReportForm, due *time.Time) error {
	title := strings.TrimSpace(f.Description)
	if i := strings.IndexAny(title, "\n。"); i > 0 {
		title = title[:i]
	}
	if r := []rune(title); len(r) > 80 {
		title = string(r[:80]) + "…"
	}
	var dueAt any
	if due != nil {
		dueAt = due.UTC().Truncate(time.Millisecond)
	}
	if _, err := tx.exec(ctx, `UPDATE cases SET report_count = ?, sector_code = ?, importance = ?, event_class = ?, system_status = ?,
		outlook = ?, title = ?, last_report_at = ?, follow_up_due_at = ?, reminded_at = NULL WHERE id = ?`,
		reportNumber, f.Sector, f.Importance, f.EventClass, f.SystemStatus, f.Outlook, title, tx.now, dueAt, caseID); err != nil {
		return fmt.Errorf("release case columns: %w", err)
	}
	if _, err := tx.exec(ctx, `DELETE FROM case_causes WHERE case_id = ?`, caseID); err != nil {
		return err
	}
	for _, c := range f.Causes {
		if _, err := tx.exec(ctx, `INSERT INTO case_causes (case_id, cause) VALUES (?, ?) ON CONFLICT DO NOTHING`, caseID, c); err != nil {
			return err
		}
	}
	return nil
}

// updateItem sets an item's range, sharing and relations. Holders and
// exclusions only grow: nobody loses sight of what reached them, and an
// exclusion is never lifted silently.
func (tx *Tx) updateItem(ctx context.Context, id int64, it policy.Item) error {
	if !it.TLP.Valid() {
		return &kyoyu.Error{Code: kyoyu.EINVALID, Message: "unknown sharing range", Fields: map[string]string{"tlp": "invalid"}}
	}
	if _, err := tx.exec(ctx, `UPDATE items SET tlp = ?, shared = ?, anonymised = ?, updated_at = ? WHERE id = ?`,
		string(it.TLP), it.Shared, it.Anonymised, tx.now, id); err != nil {
		return fmt.Errorf("update item: %w", err)
	}
	// Analysis partners are NISC's choice (SetPartners), never a
	// submission's: a submission computed from an older read must not
	// bring back a partner NISC has just let go.
	for _, rel := range []string{policy.RelRecipient, policy.RelRecipientMinistry, policy.RelSource} {
		if _, err := tx.exec(ctx, `DELETE FROM item_orgs WHERE item_id = ? AND relation = ?`, id, rel); err != nil {
			return err
		}
	}
	if _, err := tx.exec(ctx, `DELETE FROM item_sectors WHERE item_id = ?`, id); err != nil {
		return err
	}
	it.Partners = nil
	return tx.setItemRelations(ctx, id, it)
}

// reindexCase indexes the text of every released version of a case.
func (tx *Tx) reindexCase(ctx context.Context, caseID int64) error {
	rows, err := tx.query(ctx, `SELECT form FROM report_versions WHERE case_id = ? AND released ORDER BY revision`, caseID)
	if err != nil {
		return err
	}
	var texts []string
	for rows.Next() {
		var form string
		if err := rows.Scan(&form); err != nil {
			rows.Close()
			return err
		}
		var f kyoyu.ReportForm
		if err := json.Unmarshal([]byte(form), &f); err != nil {
			rows.Close()
			return err
		}
		texts = append(texts, releasedText(f))
	}
	rows.Close()
	return tx.indexCase(ctx, caseID, strings.Join(texts, "\n"))
}

// CountLabels counts the labels a secretariat has given, so the next one
// differs.
func (db *DB) CountLabels(ctx context.Context, secretariat int64) (int, error) {
	var n int
	err := db.queryRow(ctx, `SELECT COUNT(*) FROM cases WHERE secretariat_org_id = ? AND operator_label <> ''`, secretariat).Scan(&n)
	return n, err
}

// RemindOverdue finds cases whose promised follow-up is overdue and not yet
// reminded, marks them and stores the reminders build returns, one case per
// transaction, so two servers never remind twice and a crash loses nothing.
func (db *DB) RemindOverdue(ctx context.Context, build func(ref *CaseRef) ([]Notification, error)) (int, error) {
	rows, err := db.query(ctx, `SELECT id FROM cases WHERE follow_up_due_at < ? AND reminded_at IS NULL ORDER BY follow_up_due_at LIMIT 500`, db.Now())
	if err != nil {
		return 0, fmt.Errorf("find overdue cases: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	n := 0
	for _, id := range ids {
		ref, err := db.CaseRef(ctx, id)
		if err != nil {
			return n, err
		}
		ns, err := build(ref)
		if err != nil {
			return n, err
		}
		err = db.Update(ctx, func(tx *Tx) error {
			res, err := tx.exec(ctx, `UPDATE cases SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL AND follow_up_due_at < ?`, tx.now, id, tx.now)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return nil // another server got there first
			}
			n++
			for _, x := range ns {
				x.ItemID = ref.ItemID
				if err := tx.notify(ctx, x); err != nil {
					return err
				}
			}
			return tx.audit(ctx, kyoyu.Actor{IP: "system"}, "case.remind_overdue", "case", fmt.Sprint(id), audit.OK, fmt.Sprintf("%d reminders", len(ns)))
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
