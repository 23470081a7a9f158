package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"kyoyu"
	"kyoyu/audit"
)

// TAXIIStatus is the record of one POST of objects to a TAXII collection:
// its status resource as answered (JSON), readable by its poster alone.
type TAXIIStatus struct {
	ID        string
	PersonID  int64
	ItemID    int64 // the item the objects were stored as, 0 if none
	Body      json.RawMessage
	CreatedAt time.Time
}

// SaveTAXIIStatus records a status resource.
func (db *DB) SaveTAXIIStatus(ctx context.Context, actor kyoyu.Actor, s *TAXIIStatus) error {
	return db.Update(ctx, func(tx *Tx) error {
		s.CreatedAt = tx.now
		if _, err := tx.exec(ctx, `INSERT INTO taxii_statuses (id, person_id, item_id, body, created_at) VALUES (?, ?, ?, ?, ?)`,
			s.ID, s.PersonID, nullID(s.ItemID), string(s.Body), tx.now); err != nil {
			return fmt.Errorf("save taxii status: %w", err)
		}
		return tx.audit(ctx, actor, "taxii.post", "taxii_status", s.ID, audit.OK, fmt.Sprintf("item=%d", s.ItemID))
	})
}

// TAXIIStatusOf returns a status resource if personID posted it;
// otherwise ErrNotFound, exactly like one that does not exist.
func (db *DB) TAXIIStatusOf(ctx context.Context, id string, personID int64) (*TAXIIStatus, error) {
	s := &TAXIIStatus{}
	var body string
	err := db.queryRow(ctx, `SELECT id, person_id, COALESCE(item_id, 0), body, created_at FROM taxii_statuses WHERE id = ? AND person_id = ?`, id, personID).
		Scan(&s.ID, &s.PersonID, &s.ItemID, &body, &s.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("taxii status %s: %w", id, db.mapErr(err))
	}
	s.Body, s.CreatedAt = json.RawMessage(body), s.CreatedAt.UTC()
	return s, nil
}

// PublishedAdvisoryVersion reads an advisory with one of its published
// versions, to store that version's STIX. It checks no access: the caller
// stores only what every reader of the advisory may see, and the store
// filters every read of it.
func (db *DB) PublishedAdvisoryVersion(ctx context.Context, advisoryID, versionID int64) (*kyoyu.Advisory, error) {
	a := &kyoyu.Advisory{}
	var pub sqlNullTime
	err := db.queryRow(ctx, `SELECT `+advisoryColumns+` FROM advisories a JOIN items i ON i.id = a.item_id WHERE a.id = ?`, advisoryID).
		Scan(&a.ID, &a.ItemID, &a.Number, &a.Status, &a.IssuerOrgID, &a.TLP, &pub, &a.CreatedAt, &a.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("advisory %d: %w", advisoryID, db.mapErr(err))
	}
	a.PublishedAt = pub.ptr()
	var form string
	err = db.queryRow(ctx, `SELECT id, report_number, form FROM advisory_versions WHERE id = ? AND advisory_id = ? AND status = 'published'`,
		versionID, advisoryID).Scan(&a.VersionID, &a.ReportNumber, &form)
	if err != nil {
		return nil, fmt.Errorf("advisory %d version %d: %w", advisoryID, versionID, db.mapErr(err))
	}
	if err := json.Unmarshal([]byte(form), &a.Form); err != nil {
		return nil, fmt.Errorf("advisory %d version %d: %w", advisoryID, versionID, err)
	}
	return a, nil
}
