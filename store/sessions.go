package store

import (
	"context"
	"fmt"
	"time"

	"kyoyu"
	"kyoyu/audit"
)

// CreateSession stores a new browser session after a good sign-in, resets
// the person's failure count and audits the sign-in, in one transaction.
func (db *DB) CreateSession(ctx context.Context, actor kyoyu.Actor, s *kyoyu.Session, detail string) error {
	return db.Update(ctx, func(tx *Tx) error {
		s.CreatedAt = tx.now
		if _, err := tx.exec(ctx, `INSERT INTO sessions (id_hash, person_id, csrf_token, mfa_pending, created_at, expires_at, ip) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			s.IDHash, s.PersonID, s.CSRFToken, s.MFAPending, s.CreatedAt, s.ExpiresAt.UTC().Truncate(time.Millisecond), s.IP); err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		if s.MFAPending {
			return tx.audit(ctx, actor, "auth.password_ok", "person", fmt.Sprint(s.PersonID), audit.OK, "second factor required")
		}
		if _, err := tx.exec(ctx, `UPDATE people SET failed_logins = 0, locked_until = NULL WHERE id = ?`, s.PersonID); err != nil {
			return err
		}
		return tx.audit(ctx, actor, "auth.sign_in", "person", fmt.Sprint(s.PersonID), audit.OK, detail)
	})
}

// CompleteMFA turns a pending session into a full one after a good
// second factor; the identifier changes so a stolen pending cookie is worthless.
func (db *DB) CompleteMFA(ctx context.Context, actor kyoyu.Actor, oldHash string, s *kyoyu.Session) error {
	return db.Update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, oldHash); err != nil {
			return err
		}
		s.CreatedAt = tx.now
		if _, err := tx.exec(ctx, `INSERT INTO sessions (id_hash, person_id, csrf_token, mfa_pending, created_at, expires_at, ip) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			s.IDHash, s.PersonID, s.CSRFToken, false, s.CreatedAt, s.ExpiresAt.UTC().Truncate(time.Millisecond), s.IP); err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		if _, err := tx.exec(ctx, `UPDATE people SET failed_logins = 0, locked_until = NULL WHERE id = ?`, s.PersonID); err != nil {
			return err
		}
		return tx.audit(ctx, actor, "auth.sign_in", "person", fmt.Sprint(s.PersonID), audit.OK, "with second factor")
	})
}

// Session returns a session by the hash of its identifier, or ErrNotFound.
// Expiry is the caller's decision, so it can say "expired" rather than "unknown".
func (db *DB) Session(ctx context.Context, idHash string) (*kyoyu.Session, error) {
	s := &kyoyu.Session{}
	err := db.queryRow(ctx, `SELECT id_hash, person_id, csrf_token, mfa_pending, created_at, expires_at, ip FROM sessions WHERE id_hash = ?`, idHash).
		Scan(&s.IDHash, &s.PersonID, &s.CSRFToken, &s.MFAPending, &s.CreatedAt, &s.ExpiresAt, &s.IP)
	if err != nil {
		return nil, fmt.Errorf("session: %w", db.mapErr(err))
	}
	s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC()
	return s, nil
}

// TouchSession slides a session's expiry forward.
func (db *DB) TouchSession(ctx context.Context, idHash string, expires time.Time) error {
	return db.Update(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `UPDATE sessions SET expires_at = ? WHERE id_hash = ?`, expires.UTC().Truncate(time.Millisecond), idHash)
		return err
	})
}

// DeleteSession ends a session (sign-out) and audits it.
func (db *DB) DeleteSession(ctx context.Context, actor kyoyu.Actor, idHash, action string) error {
	return db.Update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash); err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
		if action == "" {
			return nil
		}
		return tx.audit(ctx, actor, action, "session", "", audit.OK, "")
	})
}

// DeleteExpiredSessions removes sessions past their expiry.
func (db *DB) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	var n int64
	err := db.Update(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `DELETE FROM sessions WHERE expires_at < ?`, tx.now)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}
