package store

import (
	"context"
	"database/sql"
	"fmt"

	"kyoyu"
	"kyoyu/audit"
)

// CreateToken stores an API token's hash.
func (db *DB) CreateToken(ctx context.Context, actor kyoyu.Actor, t *kyoyu.APIToken) error {
	return db.Update(ctx, func(tx *Tx) error {
		t.CreatedAt = tx.now
		id, err := tx.insert(ctx, `INSERT INTO api_tokens (person_id, name, prefix, token_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			t.PersonID, t.Name, t.Prefix, t.Hash, t.CreatedAt)
		if err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		t.ID = id
		return tx.audit(ctx, actor, "token.create", "api_token", fmt.Sprint(id), audit.OK, fmt.Sprintf("person=%d name=%s", t.PersonID, t.Name))
	})
}

const tokenColumns = `id, person_id, name, prefix, token_hash, created_at, last_used_at, revoked_at`

func scanToken(r rowScanner) (*kyoyu.APIToken, error) {
	t := &kyoyu.APIToken{}
	var used, revoked sql.NullTime
	if err := r.Scan(&t.ID, &t.PersonID, &t.Name, &t.Prefix, &t.Hash, &t.CreatedAt, &used, &revoked); err != nil {
		return nil, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	if used.Valid {
		u := used.Time.UTC()
		t.LastUsed = &u
	}
	if revoked.Valid {
		r := revoked.Time.UTC()
		t.RevokedAt = &r
	}
	return t, nil
}

// TokenByHash finds a token by the hash of its secret, or ErrNotFound.
func (db *DB) TokenByHash(ctx context.Context, hash string) (*kyoyu.APIToken, error) {
	t, err := scanToken(db.queryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE token_hash = ?`, hash))
	if err != nil {
		return nil, fmt.Errorf("token: %w", db.mapErr(err))
	}
	return t, nil
}

// Tokens lists a person's tokens.
func (db *DB) Tokens(ctx context.Context, personID int64) ([]*kyoyu.APIToken, error) {
	rows, err := db.query(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE person_id = ? ORDER BY id`, personID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []*kyoyu.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes one of a person's tokens.
func (db *DB) RevokeToken(ctx context.Context, actor kyoyu.Actor, personID, tokenID int64) error {
	return db.Update(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND person_id = ? AND revoked_at IS NULL`, tx.now, tokenID, personID)
		if err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("token %d: %w", tokenID, kyoyu.ErrNotFound)
		}
		return tx.audit(ctx, actor, "token.revoke", "api_token", fmt.Sprint(tokenID), audit.OK, "")
	})
}

// TouchToken records when a token was last used.
func (db *DB) TouchToken(ctx context.Context, id int64) error {
	return db.Update(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, tx.now, id)
		return err
	})
}
