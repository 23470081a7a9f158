package store

import (
	"context"
	"fmt"
	"time"

	"kyoyu"
	"kyoyu/audit"
)

const deliveryColumns = `d.id, d.advisory_id, d.org_id, o.name_ja, d.stage, d.from_org_id, d.tlp, d.delivered_at,
	d.acknowledged_at, COALESCE(d.acknowledged_by, 0), d.ack_via, d.reminded_at`

func scanDelivery(r rowScanner) (*kyoyu.Delivery, error) {
	d := &kyoyu.Delivery{}
	var ack, rem sqlNullTime
	if err := r.Scan(&d.ID, &d.AdvisoryID, &d.OrgID, &d.OrgName, &d.Stage, &d.FromOrgID, &d.TLP, &d.DeliveredAt,
		&ack, &d.AcknowledgedBy, &d.AckVia, &rem); err != nil {
		return nil, err
	}
	d.DeliveredAt = d.DeliveredAt.UTC()
	d.AcknowledgedAt, d.RemindedAt = ack.ptr(), rem.ptr()
	return d, nil
}

// Deliveries lists every delivery of an advisory, by stage and time. Only
// the issuer reads them all; the service checks that.
func (db *DB) Deliveries(ctx context.Context, advisoryID int64) ([]*kyoyu.Delivery, error) {
	rows, err := db.query(ctx, `SELECT `+deliveryColumns+` FROM advisory_deliveries d JOIN organisations o ON o.id = d.org_id
		WHERE d.advisory_id = ? ORDER BY d.stage, d.delivered_at, d.id`, advisoryID)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []*kyoyu.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeliveryTo returns an organisation's delivery of an advisory, or ErrNotFound.
func (db *DB) DeliveryTo(ctx context.Context, advisoryID, orgID int64) (*kyoyu.Delivery, error) {
	d, err := scanDelivery(db.queryRow(ctx, `SELECT `+deliveryColumns+` FROM advisory_deliveries d JOIN organisations o ON o.id = d.org_id
		WHERE d.advisory_id = ? AND d.org_id = ?`, advisoryID, orgID))
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", db.mapErr(err))
	}
	return d, nil
}

// Acknowledge records an organisation's receipt (the first one counts).
// It reports whether this call was the one that acknowledged.
func (db *DB) Acknowledge(ctx context.Context, actor kyoyu.Actor, deliveryID, personID int64, via string) (bool, error) {
	var done bool
	err := db.Update(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE advisory_deliveries SET acknowledged_at = ?, acknowledged_by = ?, ack_via = ? WHERE id = ? AND acknowledged_at IS NULL`,
			tx.now, personID, via, deliveryID)
		if err != nil {
			return fmt.Errorf("acknowledge: %w", err)
		}
		n, _ := res.RowsAffected()
		done = n == 1
		var itemID int64
		if err := tx.queryRow(ctx, `SELECT a.item_id FROM advisory_deliveries d JOIN advisories a ON a.id = d.advisory_id WHERE d.id = ?`, deliveryID).Scan(&itemID); err != nil {
			return err
		}
		e := EntryFor(actor, "advisory.acknowledge", "item", fmt.Sprint(itemID), audit.OK, fmt.Sprintf("delivery=%d via=%s first=%v", deliveryID, via, done))
		return tx.appendAudit(ctx, e)
	})
	return done, err
}

// UseAckLink spends a single-use acknowledgement link: it answers the
// delivery and person if the link exists, is unused and not expired, and
// marks it used in the same transaction; otherwise ErrNotFound or an
// EINVALID error saying it was used or expired.
func (db *DB) UseAckLink(ctx context.Context, nonce string) (deliveryID, personID int64, err error) {
	err = db.Update(ctx, func(tx *Tx) error {
		var expires time.Time
		var used sqlNullTime
		if err := tx.queryRow(ctx, `SELECT delivery_id, person_id, expires_at, used_at FROM ack_links WHERE nonce = ?`, nonce).
			Scan(&deliveryID, &personID, &expires, &used); err != nil {
			return fmt.Errorf("ack link: %w", tx.db.mapErr(err))
		}
		if used.Valid {
			return &kyoyu.Error{Code: kyoyu.EINVALID, Message: "advisory.ack_link_used"}
		}
		if tx.now.After(expires) {
			return &kyoyu.Error{Code: kyoyu.EINVALID, Message: "advisory.ack_link_expired"}
		}
		_, err := tx.exec(ctx, `UPDATE ack_links SET used_at = ? WHERE nonce = ? AND used_at IS NULL`, tx.now, nonce)
		return err
	})
	return deliveryID, personID, err
}

// AckLinkState reads a link without spending it (for the confirmation page).
func (db *DB) AckLinkState(ctx context.Context, nonce string) (deliveryID, personID int64, used, expired bool, err error) {
	var expires time.Time
	var u sqlNullTime
	err = db.queryRow(ctx, `SELECT delivery_id, person_id, expires_at, used_at FROM ack_links WHERE nonce = ?`, nonce).Scan(&deliveryID, &personID, &expires, &u)
	if err != nil {
		return 0, 0, false, false, fmt.Errorf("ack link: %w", db.mapErr(err))
	}
	return deliveryID, personID, u.Valid, db.Now().After(expires), nil
}

// DeliveryByID reads one delivery.
func (db *DB) DeliveryByID(ctx context.Context, id int64) (*kyoyu.Delivery, error) {
	d, err := scanDelivery(db.queryRow(ctx, `SELECT `+deliveryColumns+` FROM advisory_deliveries d JOIN organisations o ON o.id = d.org_id WHERE d.id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("delivery %d: %w", id, db.mapErr(err))
	}
	return d, nil
}

// RemindSilent finds deliveries unacknowledged since before `before` and
// not yet reminded, marks each and stores the reminders build returns.
func (db *DB) RemindSilent(ctx context.Context, before time.Time, build func(d *kyoyu.Delivery, itemID int64) ([]Notification, []AckLink, error)) (int, error) {
	rows, err := db.query(ctx, `SELECT `+deliveryColumns+` FROM advisory_deliveries d JOIN organisations o ON o.id = d.org_id
		WHERE d.acknowledged_at IS NULL AND d.reminded_at IS NULL AND d.delivered_at < ? ORDER BY d.id LIMIT 1000`, before.UTC())
	if err != nil {
		return 0, fmt.Errorf("find silent deliveries: %w", err)
	}
	var ds []*kyoyu.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return 0, err
		}
		ds = append(ds, d)
	}
	rows.Close()
	n := 0
	for _, d := range ds {
		var itemID int64
		if err := db.queryRow(ctx, `SELECT item_id FROM advisories WHERE id = ?`, d.AdvisoryID).Scan(&itemID); err != nil {
			return n, err
		}
		ns, links, err := build(d, itemID)
		if err != nil {
			return n, err
		}
		err = db.Update(ctx, func(tx *Tx) error {
			res, err := tx.exec(ctx, `UPDATE advisory_deliveries SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL AND acknowledged_at IS NULL`, tx.now, d.ID)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return nil
			}
			n++
			// Fresh acknowledgement links, so the reminder is one click
			// away from done like the first notice (whose links may be
			// used up or expired).
			rows := make([][]any, 0, len(links))
			for _, l := range links {
				rows = append(rows, []any{l.Nonce, d.ID, l.PersonID, l.ExpiresAt.UTC()})
			}
			if err := tx.insertRows(ctx, "ack_links", []string{"nonce", "delivery_id", "person_id", "expires_at"}, rows); err != nil {
				return fmt.Errorf("reminder ack links: %w", err)
			}
			for _, x := range ns {
				x.ItemID = itemID
				if err := tx.notify(ctx, x); err != nil {
					return err
				}
			}
			return tx.audit(ctx, kyoyu.Actor{IP: "system"}, "advisory.remind_silent", "item", fmt.Sprint(itemID), audit.OK, fmt.Sprintf("delivery=%d", d.ID))
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// InquiryMessage is one message of an inquiry thread (問合せ) between NISC
// and one ministry about one advisory.
type InquiryMessage struct {
	ID         int64     `json:"id"`
	AdvisoryID int64     `json:"advisory_id"`
	MinistryID int64     `json:"ministry_id"`
	FromOrgID  int64     `json:"from_org_id"`
	PersonID   int64     `json:"person_id"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

// AddInquiryMessage appends to a thread.
func (db *DB) AddInquiryMessage(ctx context.Context, actor kyoyu.Actor, m *InquiryMessage, notify []Notification) error {
	return db.Update(ctx, func(tx *Tx) error {
		m.CreatedAt = tx.now
		var err error
		if m.ID, err = tx.insert(ctx, `INSERT INTO advisory_messages (advisory_id, ministry_id, from_org_id, person_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			m.AdvisoryID, m.MinistryID, m.FromOrgID, m.PersonID, m.Body, tx.now); err != nil {
			return fmt.Errorf("inquiry: %w", err)
		}
		var itemID int64
		if err := tx.queryRow(ctx, `SELECT item_id FROM advisories WHERE id = ?`, m.AdvisoryID).Scan(&itemID); err != nil {
			return err
		}
		for _, n := range notify {
			n.ItemID = itemID
			if err := tx.notify(ctx, n); err != nil {
				return err
			}
		}
		return tx.audit(ctx, actor, "advisory.inquiry", "item", fmt.Sprint(itemID), audit.OK, fmt.Sprintf("advisory=%d ministry=%d", m.AdvisoryID, m.MinistryID))
	})
}

// InquiryThread lists the messages between NISC and one ministry; with
// ministryID 0, every thread of the advisory (for the issuer).
func (db *DB) InquiryThread(ctx context.Context, advisoryID, ministryID int64) ([]InquiryMessage, error) {
	q := `SELECT id, advisory_id, ministry_id, from_org_id, person_id, body, created_at FROM advisory_messages WHERE advisory_id = ?`
	args := []any{advisoryID}
	if ministryID != 0 {
		q += ` AND ministry_id = ?`
		args = append(args, ministryID)
	}
	rows, err := db.query(ctx, q+` ORDER BY ministry_id, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("inquiry thread: %w", err)
	}
	defer rows.Close()
	var out []InquiryMessage
	for rows.Next() {
		var m InquiryMessage
		if err := rows.Scan(&m.ID, &m.AdvisoryID, &m.MinistryID, &m.FromOrgID, &m.PersonID, &m.Body, &m.CreatedAt); err != nil {
			return nil, err
		}
		m.CreatedAt = m.CreatedAt.UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// Feedback is one recipient organisation's answer to an advisory.
type Feedback struct {
	AdvisoryID int64     `json:"advisory_id"`
	OrgID      int64     `json:"org_id"`
	PersonID   int64     `json:"person_id"`
	Answer     string    `json:"answer"` // useful, already_known, seen_here, not_applicable
	Comment    string    `json:"comment"`
	CreatedAt  time.Time `json:"created_at"`
}

// SetFeedback records (or replaces) an organisation's answer.
func (db *DB) SetFeedback(ctx context.Context, actor kyoyu.Actor, f *Feedback) error {
	return db.Update(ctx, func(tx *Tx) error {
		f.CreatedAt = tx.now
		if _, err := tx.exec(ctx, `INSERT INTO advisory_feedback (advisory_id, org_id, person_id, answer, comment, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (advisory_id, org_id) DO UPDATE SET person_id = excluded.person_id, answer = excluded.answer, comment = excluded.comment, created_at = excluded.created_at`,
			f.AdvisoryID, f.OrgID, f.PersonID, f.Answer, f.Comment, tx.now); err != nil {
			return fmt.Errorf("feedback: %w", err)
		}
		var itemID int64
		if err := tx.queryRow(ctx, `SELECT item_id FROM advisories WHERE id = ?`, f.AdvisoryID).Scan(&itemID); err != nil {
			return err
		}
		return tx.audit(ctx, actor, "advisory.feedback", "item", fmt.Sprint(itemID), audit.OK, f.Answer)
	})
}

// AdvisoryFeedback lists every answer to an advisory.
func (db *DB) AdvisoryFeedback(ctx context.Context, advisoryID int64) ([]Feedback, error) {
	rows, err := db.query(ctx, `SELECT advisory_id, org_id, person_id, answer, comment, created_at FROM advisory_feedback WHERE advisory_id = ? ORDER BY created_at`, advisoryID)
	if err != nil {
		return nil, fmt.Errorf("feedback: %w", err)
	}
	defer rows.Close()
	var out []Feedback
	for rows.Next() {
		var f Feedback
		if err := rows.Scan(&f.AdvisoryID, &f.OrgID, &f.PersonID, &f.Answer, &f.Comment, &f.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// AdvisoriesFromCases lists the published advisories that used any of the
// given cases as a source.
func (db *DB) AdvisoriesFromCases(ctx context.Context, caseID int64) ([]int64, error) {
	rows, err := db.query(ctx, `SELECT DISTINCT s.advisory_id FROM advisory_sources s JOIN advisories a ON a.id = s.advisory_id
		WHERE s.case_id = ? AND a.status = 'published' ORDER BY s.advisory_id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
