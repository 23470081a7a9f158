package store

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"kyoyu"
	"kyoyu/audit"
)

// Webhook is an organisation's endpoint for its notifications.
type Webhook struct {
	ID        int64     `json:"id"`
	OrgID     int64     `json:"org_id"`
	URL       string    `json:"url"`
	Secret    string    `json:"-"` // HMAC key; empty: the server's --webhook-secret
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

const webhookColumns = `id, org_id, url, secret, active, created_at`

func scanWebhook(r rowScanner) (*Webhook, error) {
	w := &Webhook{}
	if err := r.Scan(&w.ID, &w.OrgID, &w.URL, &w.Secret, &w.Active, &w.CreatedAt); err != nil {
		return nil, err
	}
	w.CreatedAt = w.CreatedAt.UTC()
	return w, nil
}

// AddWebhook registers an endpoint for an organisation.
func (db *DB) AddWebhook(ctx context.Context, actor kyoyu.Actor, w *Webhook) error {
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return &kyoyu.Error{Code: kyoyu.EINVALID, Message: "webhook URL: want http(s)://host/path without credentials", Fields: map[string]string{"url": "invalid"}}
	}
	return db.Update(ctx, func(tx *Tx) error {
		w.Active, w.CreatedAt = true, tx.now
		id, err := tx.insert(ctx, `INSERT INTO org_webhooks (org_id, url, secret, active, created_at) VALUES (?, ?, ?, ?, ?)`,
			w.OrgID, w.URL, w.Secret, true, tx.now)
		if err != nil {
			return fmt.Errorf("add webhook: %w", err)
		}
		w.ID = id
		return tx.audit(ctx, actor, "webhook.add", "webhook", fmt.Sprint(id), audit.OK, fmt.Sprintf("organisation=%d %s", w.OrgID, w.URL))
	})
}

// Webhook returns one endpoint, or ErrNotFound.
func (db *DB) Webhook(ctx context.Context, id int64) (*Webhook, error) {
	w, err := scanWebhook(db.queryRow(ctx, `SELECT `+webhookColumns+` FROM org_webhooks WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("webhook %d: %w", id, db.mapErr(err))
	}
	return w, nil
}

// Webhooks lists endpoints, of one organisation when orgID is not 0.
func (db *DB) Webhooks(ctx context.Context, orgID int64) ([]*Webhook, error) {
	q := `SELECT ` + webhookColumns + ` FROM org_webhooks`
	var args []any
	if orgID != 0 {
		q += ` WHERE org_id = ?`
		args = append(args, orgID)
	}
	rows, err := db.query(ctx, q+` ORDER BY org_id, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	var out []*Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// SetWebhookActive turns an endpoint on or off; queued deliveries to an
// inactive endpoint are dropped when their turn comes.
func (db *DB) SetWebhookActive(ctx context.Context, actor kyoyu.Actor, id int64, active bool) error {
	return db.Update(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE org_webhooks SET active = ? WHERE id = ?`, active, id)
		if err != nil {
			return fmt.Errorf("webhook %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("webhook %d: %w", id, kyoyu.ErrNotFound)
		}
		return tx.audit(ctx, actor, "webhook.set_active", "webhook", fmt.Sprint(id), audit.OK, fmt.Sprintf("active=%t", active))
	})
}
