package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"kyoyu"
	"kyoyu/audit"
)

// secretKeyName is the row holding the generated secret key.
const secretKeyName = "secret_key"

// SecretKey returns the 32-byte secret key: the configured one (64 hex
// characters, checked by Config.Validate) if any, else the one kept in this
// database, generated on first use. Keeping a generated key in the database
// means every server on it shares the key without configuration; it does
// not protect samples from whoever holds the database, which a key
// configured outside it (--secret-key) does.
func (db *DB) SecretKey(ctx context.Context, configured string) ([]byte, error) {
	if configured != "" {
		key, err := hex.DecodeString(configured)
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("secret key: want 64 hexadecimal characters")
		}
		return key, nil
	}
	var value string
	err := db.queryRow(ctx, `SELECT value FROM secrets WHERE name = ?`, secretKeyName).Scan(&value)
	if err != nil {
		if err = db.mapErr(err); !errors.Is(err, kyoyu.ErrNotFound) {
			return nil, fmt.Errorf("read secret key: %w", err)
		}
		if value, err = db.createSecret(ctx, secretKeyName); err != nil {
			return nil, err
		}
	}
	key, err := hex.DecodeString(value)
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("secret key in the database is malformed")
	}
	return key, nil
}

// createSecret stores a new random secret unless another server stored one
// first, and returns whichever is stored: the insert that loses the race
// does nothing, so all servers end with the same value.
func (db *DB) createSecret(ctx context.Context, name string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	var value string
	err := db.Update(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
			name, hex.EncodeToString(b), tx.now)
		if err != nil {
			return fmt.Errorf("create secret: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			// The value is never logged; only that it was made.
			if err := tx.audit(ctx, kyoyu.Actor{IP: "system"}, "secret.create", "secret", name, audit.OK, ""); err != nil {
				return err
			}
		}
		return tx.queryRow(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&value)
	})
	return value, err
}
