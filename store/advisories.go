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

// CreateAdvisory stores a new advisory with its item (not yet shared) and
// the draft of its first version, in one transaction.
func (db *DB) CreateAdvisory(ctx context.Context, actor kyoyu.Actor, it policy.Item, authorID int64, f kyoyu.AdvisoryForm) (*kyoyu.Advisory, error) {
	a := &kyoyu.Advisory{Status: "draft", ReportNumber: 1, IssuerOrgID: it.Originator, TLP: string(it.TLP), Form: f}
	err := db.Update(ctx, func(tx *Tx) error {
		itemID, err := tx.createItem(ctx, it)
		if err != nil {
			return err
		}
		a.ItemID, a.CreatedAt, a.UpdatedAt = itemID, tx.now, tx.now
		if a.ID, err = tx.insert(ctx, `INSERT INTO advisories (item_id, status, issuer_org_id, created_at, updated_at) VALUES (?, 'draft', ?, ?, ?)`,
			itemID, it.Originator, tx.now, tx.now); err != nil {
			return fmt.Errorf("create advisory: %w", err)
		}
		if a.VersionID, err = tx.insertAdvisoryVersion(ctx, a.ID, 1, authorID, f); err != nil {
			return err
		}
		if err := tx.setAdvisorySources(ctx, a.ID, f.SourceCases); err != nil {
			return err
		}
		return tx.audit(ctx, actor, "advisory.create", "item", fmt.Sprint(itemID), audit.OK, fmt.Sprintf("advisory=%d", a.ID))
	})
	return a, err
}

func (tx *Tx) insertAdvisoryVersion(ctx context.Context, advisoryID int64, number int, authorID int64, f kyoyu.AdvisoryForm) (int64, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return 0, err
	}
	id, err := tx.insert(ctx, `INSERT INTO advisory_versions (advisory_id, report_number, status, author_id, form, created_at, updated_at)
		VALUES (?, ?, 'draft', ?, ?, ?, ?)`, advisoryID, number, nullID(authorID), string(b), tx.now, tx.now)
	if err != nil {
		return 0, fmt.Errorf("create advisory version: %w", err)
	}
	return id, nil
}

func (tx *Tx) setAdvisorySources(ctx context.Context, advisoryID int64, cases []int64) error {
	for _, c := range cases {
		if _, err := tx.exec(ctx, `INSERT INTO advisory_sources (advisory_id, case_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, advisoryID, c); err != nil {
			return fmt.Errorf("advisory source %d: %w", c, err)
		}
	}
	return nil
}

// SaveAdvisoryDraft replaces the form of an open draft of the issuer.
func (db *DB) SaveAdvisoryDraft(ctx context.Context, actor kyoyu.Actor, versionID, orgID int64, f kyoyu.AdvisoryForm) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return db.Update(ctx, func(tx *Tx) error {
		var advisoryID int64
		err := tx.queryRow(ctx, `SELECT v.advisory_id FROM advisory_versions v JOIN advisories a ON a.id = v.advisory_id
			WHERE v.id = ? AND v.status = 'draft' AND a.issuer_org_id = ?`, versionID, orgID).Scan(&advisoryID)
		if err != nil {
			return fmt.Errorf("advisory draft %d: %w", versionID, tx.db.mapErr(err))
		}
		if _, err := tx.exec(ctx, `UPDATE advisory_versions SET form = ?, updated_at = ? WHERE id = ?`, string(b), tx.now, versionID); err != nil {
			return err
		}
		if err := tx.setAdvisorySources(ctx, advisoryID, f.SourceCases); err != nil {
			return err
		}
		return tx.audit(ctx, actor, "advisory.draft_save", "advisory_version", fmt.Sprint(versionID), audit.OK, "")
	})
}

// NewAdvisoryVersion opens the next version (第N報) of a published advisory.
func (db *DB) NewAdvisoryVersion(ctx context.Context, actor kyoyu.Actor, advisoryID, authorID int64, f kyoyu.AdvisoryForm) (int64, int, error) {
	var id int64
	var number int
	err := db.Update(ctx, func(tx *Tx) error {
		var open int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM advisory_versions WHERE advisory_id = ? AND status = 'draft'`, advisoryID).Scan(&open); err != nil {
			return err
		}
		if open > 0 {
			return &kyoyu.Error{Code: kyoyu.ECONFLICT, Message: "advisory.draft_open"}
		}
		if err := tx.queryRow(ctx, `SELECT COALESCE(MAX(report_number), 0) + 1 FROM advisory_versions WHERE advisory_id = ?`, advisoryID).Scan(&number); err != nil {
			return err
		}
		var err error
		if id, err = tx.insertAdvisoryVersion(ctx, advisoryID, number, authorID, f); err != nil {
			return err
		}
		return tx.audit(ctx, actor, "advisory.follow_up", "advisory_version", fmt.Sprint(id), audit.OK, fmt.Sprintf("report=%d", number))
	})
	return id, number, err
}

// Publication publishes a draft version.
type Publication struct {
	VersionID    int64
	OrgID        int64 // the issuer
	Item         policy.Item
	NumberFormat func(year, seq int) string
	Deliveries   []kyoyu.Delivery // the recipient ministries, on the first publication
	Notify       []Notification
	AckLinks     []AckLink
}

// AckLink is an acknowledgement link to be created with a delivery.
type AckLink struct {
	Nonce     string
	OrgID     int64 // the delivery's organisation
	PersonID  int64
	ExpiresAt time.Time
}

// PublishAdvisory publishes a draft: numbers the advisory on its first
// publication (gap-free per year), shares its item under its range, records
// the deliveries, ack links and notifications — one transaction.
func (db *DB) PublishAdvisory(ctx context.Context, actor kyoyu.Actor, p Publication) (string, error) {
	var number string
	err := db.Update(ctx, func(tx *Tx) error {
		var advisoryID, itemID int64
		var reportNumber int
		err := tx.queryRow(ctx, `SELECT a.id, a.item_id, v.report_number, COALESCE(a.advisory_number, '') FROM advisory_versions v
			JOIN advisories a ON a.id = v.advisory_id WHERE v.id = ? AND v.status = 'draft' AND a.issuer_org_id = ?`,
			p.VersionID, p.OrgID).Scan(&advisoryID, &itemID, &reportNumber, &number)
		if err != nil {
			return fmt.Errorf("advisory draft %d: %w", p.VersionID, tx.db.mapErr(err))
		}
		if number == "" {
			year := tx.now.In(kyoyu.JST).Year()
			var seq int
			if err := tx.queryRow(ctx, `INSERT INTO advisory_counters (year, last) VALUES (?, 1)
				ON CONFLICT (year) DO UPDATE SET last = advisory_counters.last + 1 RETURNING last`, year).Scan(&seq); err != nil {
				return fmt.Errorf("number advisory: %w", err)
			}
			number = p.NumberFormat(year, seq)
			if _, err := tx.exec(ctx, `UPDATE advisories SET advisory_number = ?, number_year = ?, number_seq = ?, published_at = ? WHERE id = ?`,
				number, year, seq, tx.now, advisoryID); err != nil {
				return err
			}
		}
		if _, err := tx.exec(ctx, `UPDATE advisory_versions SET status = 'published', published_at = ?, updated_at = ? WHERE id = ?`, tx.now, tx.now, p.VersionID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE advisories SET status = 'published', updated_at = ? WHERE id = ?`, tx.now, advisoryID); err != nil {
			return err
		}
		if err := tx.updateItem(ctx, itemID, p.Item); err != nil {
			return err
		}
		reached, err := tx.addDeliveries(ctx, advisoryID, p.Deliveries, p.AckLinks)
		if err != nil {
			return err
		}
		// The version's STIX export is stored for TAXII by a job that
		// commits with the publication, so no publication goes without it.
		if _, err := tx.enqueue(ctx, advisorySTIXJob(advisoryID, p.VersionID)); err != nil {
			return err
		}
		if err := tx.notifyMany(ctx, itemID, onlyReached(p.Notify, p.Deliveries, reached)); err != nil {
			return err
		}
		return tx.audit(ctx, actor, "advisory.publish", "item", fmt.Sprint(itemID), audit.OK,
			fmt.Sprintf("advisory=%d number=%s report=%d tlp=%s", advisoryID, number, reportNumber, p.Item.TLP))
	})
	return number, err
}

// addDeliveries records deliveries (an organisation already reached keeps
// its first delivery) and the ack links of their people, a few hundred
// rows a statement. It returns the organisations newly reached.
func (tx *Tx) addDeliveries(ctx context.Context, advisoryID int64, ds []kyoyu.Delivery, links []AckLink) (map[int64]bool, error) {
	ids := map[int64]int64{} // organisation → its new delivery
	const per = 500
	for start := 0; start < len(ds); start += per {
		chunk := ds[start:min(len(ds), start+per)]
		var b strings.Builder
		b.WriteString(`INSERT INTO advisory_deliveries (advisory_id, org_id, stage, from_org_id, tlp, delivered_at) VALUES `)
		args := make([]any, 0, len(chunk)*6)
		for i, d := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?)")
			args = append(args, advisoryID, d.OrgID, d.Stage, d.FromOrgID, d.TLP, tx.now)
		}
		b.WriteString(` ON CONFLICT (advisory_id, org_id) DO NOTHING RETURNING id, org_id`)
		rows, err := tx.query(ctx, b.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("deliveries: %w", err)
		}
		for rows.Next() {
			var id, org int64
			if err := rows.Scan(&id, &org); err != nil {
				rows.Close()
				return nil, err
			}
			ids[org] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("deliveries: %w", err)
		}
	}
	var rows [][]any
	for _, l := range links {
		id, ok := ids[l.OrgID]
		if !ok {
			continue // already delivered earlier: its links exist
		}
		rows = append(rows, []any{l.Nonce, id, l.PersonID, l.ExpiresAt.UTC().Truncate(time.Millisecond)})
	}
	if err := tx.insertRows(ctx, "ack_links", []string{"nonce", "delivery_id", "person_id", "expires_at"}, rows); err != nil {
		return nil, fmt.Errorf("ack links: %w", err)
	}
	reached := make(map[int64]bool, len(ids))
	for org := range ids {
		reached[org] = true
	}
	return reached, nil
}

// onlyReached leaves out the notifications for people of organisations a
// hop delivered to that had it already: they were told the first time,
// and their acknowledgement links are the first delivery's.
func onlyReached(ns []Notification, ds []kyoyu.Delivery, reached map[int64]bool) []Notification {
	target := map[int64]bool{}
	for _, d := range ds {
		target[d.OrgID] = true
	}
	out := ns[:0:0]
	for _, n := range ns {
		if n.OrgID != 0 && target[n.OrgID] && !reached[n.OrgID] {
			continue
		}
		out = append(out, n)
	}
	return out
}

// Forward records a hop of the cascade: deliveries to the next
// organisations, the range narrowed if the forwarder narrowed it, and
// notifications — one transaction.
func (db *DB) Forward(ctx context.Context, actor kyoyu.Actor, advisoryID int64, item policy.Item, ds []kyoyu.Delivery, links []AckLink, notify []Notification) error {
	return db.Update(ctx, func(tx *Tx) error {
		var itemID int64
		if err := tx.queryRow(ctx, `SELECT item_id FROM advisories WHERE id = ?`, advisoryID).Scan(&itemID); err != nil {
			return fmt.Errorf("advisory %d: %w", advisoryID, tx.db.mapErr(err))
		}
		if err := tx.updateItem(ctx, itemID, item); err != nil {
			return err
		}
		reached, err := tx.addDeliveries(ctx, advisoryID, ds, links)
		if err != nil {
			return err
		}
		if err := tx.notifyMany(ctx, itemID, onlyReached(notify, ds, reached)); err != nil {
			return err
		}
		return tx.audit(ctx, actor, "advisory.forward", "item", fmt.Sprint(itemID), audit.OK, fmt.Sprintf("advisory=%d to=%d organisations", advisoryID, len(ds)))
	})
}

const advisoryColumns = `a.id, a.item_id, COALESCE(a.advisory_number, ''), a.status, a.issuer_org_id, i.tlp, a.published_at, a.created_at, a.updated_at`

// Advisory returns an advisory as v may see it, with its latest version v
// may read (the issuer's open draft only for the issuer), or ErrNotFound.
func (db *DB) Advisory(ctx context.Context, v policy.Viewer, id int64) (*kyoyu.Advisory, error) {
	where, args := policy.Where(v, "i")
	a := &kyoyu.Advisory{}
	var pub sqlNullTime
	err := db.queryRow(ctx, `SELECT `+advisoryColumns+` FROM advisories a JOIN items i ON i.id = a.item_id WHERE a.id = ? AND `+where,
		append([]any{id}, args...)...).Scan(&a.ID, &a.ItemID, &a.Number, &a.Status, &a.IssuerOrgID, &a.TLP, &pub, &a.CreatedAt, &a.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("advisory %d: %w", id, db.mapErr(err))
	}
	a.PublishedAt = pub.ptr()
	q := `SELECT id, report_number, form FROM advisory_versions WHERE advisory_id = ?`
	// Once published, everyone — the issuer too — reads the latest
	// published version; a follow-up draft is read through AdvisoryDraft.
	// Before, only the issuer reads its draft.
	if a.Status == "published" || v.Anonymous || a.IssuerOrgID != v.OrgID {
		q += ` AND status = 'published'`
	}
	var form string
	if err := db.queryRow(ctx, q+` ORDER BY report_number DESC LIMIT 1`, id).Scan(&a.VersionID, &a.ReportNumber, &form); err != nil {
		return nil, fmt.Errorf("advisory %d: %w", id, db.mapErr(err))
	}
	if err := json.Unmarshal([]byte(form), &a.Form); err != nil {
		return nil, err
	}
	return a, nil
}

// AdvisoryDraft returns the open draft version of an advisory of orgID.
func (db *DB) AdvisoryDraft(ctx context.Context, versionID, orgID int64) (*kyoyu.Advisory, error) {
	var advisoryID int64
	err := db.queryRow(ctx, `SELECT v.advisory_id FROM advisory_versions v JOIN advisories a ON a.id = v.advisory_id
		WHERE v.id = ? AND v.status = 'draft' AND a.issuer_org_id = ?`, versionID, orgID).Scan(&advisoryID)
	if err != nil {
		return nil, fmt.Errorf("advisory draft %d: %w", versionID, db.mapErr(err))
	}
	a := &kyoyu.Advisory{}
	var form string
	var pub sqlNullTime
	err = db.queryRow(ctx, `SELECT `+advisoryColumns+`, v.id, v.report_number, v.form FROM advisories a JOIN items i ON i.id = a.item_id
		JOIN advisory_versions v ON v.advisory_id = a.id WHERE v.id = ?`, versionID).
		Scan(&a.ID, &a.ItemID, &a.Number, &a.Status, &a.IssuerOrgID, &a.TLP, &pub, &a.CreatedAt, &a.UpdatedAt, &a.VersionID, &a.ReportNumber, &form)
	if err != nil {
		return nil, err
	}
	a.PublishedAt = pub.ptr()
	return a, json.Unmarshal([]byte(form), &a.Form)
}

// ListAdvisories lists the advisories v may see, newest first.
func (db *DB) ListAdvisories(ctx context.Context, v policy.Viewer, limit int) ([]*kyoyu.Advisory, error) {
	where, args := policy.Where(v, "i")
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := db.query(ctx, `SELECT `+advisoryColumns+` FROM advisories a JOIN items i ON i.id = a.item_id WHERE `+where+
		` ORDER BY COALESCE(a.published_at, a.created_at) DESC, a.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list advisories: %w", err)
	}
	var ids []int64
	for rows.Next() {
		a := &kyoyu.Advisory{}
		var pub sqlNullTime
		if err := rows.Scan(&a.ID, &a.ItemID, &a.Number, &a.Status, &a.IssuerOrgID, &a.TLP, &pub, &a.CreatedAt, &a.UpdatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, a.ID)
	}
	rows.Close()
	var out []*kyoyu.Advisory
	for _, id := range ids {
		a, err := db.Advisory(ctx, v, id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// AdvisorySources lists the source cases of an advisory (ids only; reading
// them goes through their own visibility).
func (db *DB) AdvisorySources(ctx context.Context, advisoryID int64) ([]int64, error) {
	rows, err := db.query(ctx, `SELECT case_id FROM advisory_sources WHERE advisory_id = ? ORDER BY case_id`, advisoryID)
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

// OpenAdvisoryDraftID returns the id of the issuer's open draft of a
// published advisory (a follow-up being written), or 0.
func (db *DB) OpenAdvisoryDraftID(ctx context.Context, advisoryID, orgID int64) (int64, error) {
	var id int64
	err := db.queryRow(ctx, `SELECT v.id FROM advisory_versions v JOIN advisories a ON a.id = v.advisory_id
		WHERE v.advisory_id = ? AND v.status = 'draft' AND a.issuer_org_id = ?`, advisoryID, orgID).Scan(&id)
	if isNoRows(err) {
		return 0, nil
	}
	return id, err
}
