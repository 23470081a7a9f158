package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"kyoyu/policy"
)

// Notification tells one person that something happened to an item. It
// holds a locale key and parameters, never the item's content, and is
// listed only while its reader may see the item.
type Notification struct {
	ID       int64 `json:"id"`
	PersonID int64 `json:"person_id"`
	ItemID   int64 `json:"-"`
	// OrgID, when set, is the organisation the person is told for: an
	// advisory hop tells only the people of organisations it newly reached.
	OrgID     int64             `json:"-"`
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

// notifyMany stores many notifications with their jobs, as notify does one
// by one, in a few statements: an advisory reaching every organisation
// tells 20,000 people in one transaction. The webhook path (rare: few
// organisations register endpoints) stays per notification.
func (tx *Tx) notifyMany(ctx context.Context, itemID int64, ns []Notification) error {
	const per = 500 // rows per statement: 6 parameters each, well within both databases' limits
	for start := 0; start < len(ns); start += per {
		chunk := ns[start:min(len(ns), start+per)]
		var b strings.Builder
		b.WriteString(`INSERT INTO notifications (person_id, item_id, kind, link, params, created_at) VALUES `)
		args := make([]any, 0, len(chunk)*6)
		for i, n := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?)")
			params := []byte("{}")
			if n.Params != nil {
				params, _ = json.Marshal(n.Params)
			}
			args = append(args, n.PersonID, nullID(itemID), n.Kind, n.Link, string(params), tx.now)
		}
		b.WriteString(` RETURNING id, person_id, kind, link`)
		rows, err := tx.query(ctx, b.String(), args...)
		if err != nil {
			return fmt.Errorf("notify %d people: %w", len(chunk), err)
		}
		stored := make([]Notification, 0, len(chunk))
		for rows.Next() {
			n := Notification{ItemID: itemID}
			if err := rows.Scan(&n.ID, &n.PersonID, &n.Kind, &n.Link); err != nil {
				rows.Close()
				return err
			}
			stored = append(stored, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(stored) != len(chunk) {
			return fmt.Errorf("notify: %d of %d notifications stored", len(stored), len(chunk))
		}
		// Ids in the order they were given, so the first notification of a
		// webhook event keys it, as with notify.
		slices.SortFunc(stored, func(a, b Notification) int { return cmp.Compare(a.ID, b.ID) })
		jobs := make([][]any, 0, len(stored))
		for _, n := range stored {
			jobs = append(jobs, []any{JobEmail, fmt.Sprintf(`{"notification_id":%d}`, n.ID), JobPending, 0, DefaultMaxAttempts,
				tx.now, fmt.Sprintf("email:notification:%d", n.ID), tx.now})
		}
		if err := tx.insertRowsOnConflict(ctx, "jobs", []string{"kind", "payload", "status", "attempts", "max_attempts", "run_at", "dedupe_key", "created_at"},
			jobs, " ON CONFLICT (dedupe_key) DO NOTHING"); err != nil {
			return err
		}
		hooked, err := tx.peopleWithWebhooks(ctx, stored)
		if err != nil {
			return err
		}
		for _, n := range stored {
			if hooked[n.PersonID] {
				if err := tx.queueWebhooks(ctx, n.ID, n); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// peopleWithWebhooks tells which of the notified people belong to an
// organisation with an active webhook endpoint.
func (tx *Tx) peopleWithWebhooks(ctx context.Context, ns []Notification) (map[int64]bool, error) {
	var any1 int
	err := tx.queryRow(ctx, `SELECT 1 FROM org_webhooks WHERE active LIMIT 1`).Scan(&any1)
	if isNoRows(err) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	args := make([]any, 0, len(ns))
	for _, n := range ns {
		args = append(args, n.PersonID)
	}
	rows, err := tx.query(ctx, `SELECT DISTINCT p.id FROM people p JOIN org_webhooks w ON w.org_id = p.organisation_id AND w.active
		WHERE p.id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("webhooks of %d people: %w", len(args), err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}
