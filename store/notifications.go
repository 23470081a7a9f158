package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"kyoyu/policy"
)

// Notification tells one person that something happened to an item. It
// holds a locale key and parameters, never the item's content, and is
// listed only while its reader may see the item.
type Notification struct {
	ID        int64             `json:"id"`
	PersonID  int64             `json:"person_id"`
	ItemID    int64             `json:"-"`
	Kind      string            `json:"kind"` // a locale key, e.g. notify.case_numbered
	Link      string            `json:"link"`
	Params    map[string]string `json:"params"`
	CreatedAt time.Time         `json:"created_at"`
	ReadAt    *time.Time        `json:"read_at,omitempty"`
}

func (tx *Tx) notify(ctx context.Context, n Notification) error {
	params, _ := json.Marshal(n.Params)
	if n.Params == nil {
		params = []byte("{}")
	}
	id, err := tx.insert(ctx, `INSERT INTO notifications (person_id, item_id, kind, link, params, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		n.PersonID, nullID(n.ItemID), n.Kind, n.Link, string(params), tx.now)
	if err != nil {
		return fmt.Errorf("notify person %d: %w", n.PersonID, err)
	}
	// The e-mail and webhooks commit with the notification, or not at all;
	// the outbox sends them afterwards (docs/OUTBOX.md).
	if _, err := tx.enqueue(ctx, NewJob{Kind: JobEmail, DedupeKey: fmt.Sprintf("email:notification:%d", id),
		Payload: EmailJob{NotificationID: id}}); err != nil {
		return err
	}
	return tx.queueWebhooks(ctx, id, n)
}

// Notification returns one notification by id, for the outbox, which
// checks that its person may still see the item before telling them.
func (db *DB) Notification(ctx context.Context, id int64) (*Notification, error) {
	var n Notification
	var params string
	var read sqlNullTime
	err := db.queryRow(ctx, `SELECT id, person_id, COALESCE(item_id, 0), kind, link, params, created_at, read_at FROM notifications WHERE id = ?`, id).
		Scan(&n.ID, &n.PersonID, &n.ItemID, &n.Kind, &n.Link, &params, &n.CreatedAt, &read)
	if err != nil {
		return nil, fmt.Errorf("notification %d: %w", id, db.mapErr(err))
	}
	_ = json.Unmarshal([]byte(params), &n.Params)
	n.CreatedAt = n.CreatedAt.UTC()
	n.ReadAt = read.ptr()
	return &n, nil
}

// Notify stores notifications on their own (reminders and the like).
func (db *DB) Notify(ctx context.Context, ns ...Notification) error {
	return db.Update(ctx, func(tx *Tx) error {
		for _, n := range ns {
			if err := tx.notify(ctx, n); err != nil {
				return err
			}
		}
		return nil
	})
}

// Notifications lists a person's newest notifications about items the
// viewer may see now (a narrowed range hides earlier notifications too).
func (db *DB) Notifications(ctx context.Context, v policy.Viewer, limit int) ([]Notification, error) {
	where, args := policy.Where(v, "i")
	q := `SELECT n.id, n.person_id, COALESCE(n.item_id, 0), n.kind, n.link, n.params, n.created_at, n.read_at
		FROM notifications n LEFT JOIN items i ON i.id = n.item_id
		WHERE n.person_id = ? AND (n.item_id IS NULL OR ` + where + `) ORDER BY n.id DESC LIMIT ?`
	rows, err := db.query(ctx, q, append(append([]any{v.PersonID}, args...), limit)...)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var n Notification
		var params string
		var read sqlNullTime
		if err := rows.Scan(&n.ID, &n.PersonID, &n.ItemID, &n.Kind, &n.Link, &params, &n.CreatedAt, &read); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(params), &n.Params)
		n.CreatedAt = n.CreatedAt.UTC()
		n.ReadAt = read.ptr()
		out = append(out, n)
	}
	return out, rows.Err()
}
