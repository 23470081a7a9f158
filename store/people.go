package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/audit"
)

const personColumns = `id, organisation_id, email, name, role, handles_incidents, password_hash,
	totp_secret, totp_enabled, failed_logins, locked_until, locale, created_at, disabled_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanPerson(r rowScanner) (*kyoyu.Person, error) {
	p := &kyoyu.Person{}
	var role string
	var locked, disabled sql.NullTime
	if err := r.Scan(&p.ID, &p.OrganisationID, &p.Email, &p.Name, &role, &p.HandlesIncidents, &p.PasswordHash,
		&p.TOTPSecret, &p.TOTPEnabled, &p.FailedLogins, &locked, &p.Locale, &p.CreatedAt, &disabled); err != nil {
		return nil, err
	}
	p.Role = kyoyu.Role(role)
	p.CreatedAt = p.CreatedAt.UTC()
	if locked.Valid {
		t := locked.Time.UTC()
		p.LockedUntil = &t
	}
	if disabled.Valid {
		t := disabled.Time.UTC()
		p.DisabledAt = &t
	}
	return p, nil
}

// NormaliseEmail is how e-mail addresses are compared and stored.
func NormaliseEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CreatePerson adds an account. PasswordHash must already be set.
func (db *DB) CreatePerson(ctx context.Context, actor kyoyu.Actor, p *kyoyu.Person) error {
	return db.Update(ctx, func(tx *Tx) error {
		if err := tx.createPerson(ctx, p); err != nil {
			return err
		}
		return tx.audit(ctx, actor, "person.create", "person", fmt.Sprint(p.ID), audit.OK,
			fmt.Sprintf("%s role=%s organisation=%d", p.Email, p.Role, p.OrganisationID))
	})
}

func (tx *Tx) createPerson(ctx context.Context, p *kyoyu.Person) error {
	p.Email = NormaliseEmail(p.Email)
	fields := map[string]string{}
	if p.Email == "" || !strings.Contains(p.Email, "@") {
		fields["email"] = "invalid_email"
	}
	if strings.TrimSpace(p.Name) == "" {
		fields["name"] = "required"
	}
	if !p.Role.Valid() {
		fields["role"] = "invalid_role"
	}
	if len(fields) > 0 {
		return &kyoyu.Error{Code: kyoyu.EINVALID, Message: "invalid account", Fields: fields}
	}
	if p.Locale == "" {
		p.Locale = "ja"
	}
	p.CreatedAt = tx.now
	id, err := tx.insert(ctx, `INSERT INTO people (organisation_id, email, name, role, handles_incidents, password_hash, locale, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, p.OrganisationID, p.Email, p.Name, string(p.Role), p.HandlesIncidents, p.PasswordHash, p.Locale, p.CreatedAt)
	if err != nil {
		if sqliteIsConflict(err) || postgresIsConflict(err) {
			return &kyoyu.Error{Code: kyoyu.ECONFLICT, Message: "an account with this e-mail exists", Fields: map[string]string{"email": "taken"}, Err: err}
		}
		return fmt.Errorf("create person %s: %w", p.Email, err)
	}
	p.ID = id
	return nil
}

// Person returns an account by id, or ErrNotFound.
func (db *DB) Person(ctx context.Context, id int64) (*kyoyu.Person, error) {
	p, err := scanPerson(db.queryRow(ctx, `SELECT `+personColumns+` FROM people WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("person %d: %w", id, db.mapErr(err))
	}
	return p, nil
}

// PersonByEmail returns an account by e-mail, or ErrNotFound.
func (db *DB) PersonByEmail(ctx context.Context, email string) (*kyoyu.Person, error) {
	p, err := scanPerson(db.queryRow(ctx, `SELECT `+personColumns+` FROM people WHERE email = ?`, NormaliseEmail(email)))
	if err != nil {
		return nil, fmt.Errorf("person %s: %w", email, db.mapErr(err))
	}
	return p, nil
}

// People lists accounts, of one organisation when orgID is not 0.
func (db *DB) People(ctx context.Context, orgID int64) ([]*kyoyu.Person, error) {
	q := `SELECT ` + personColumns + ` FROM people`
	var args []any
	if orgID != 0 {
		q += ` WHERE organisation_id = ?`
		args = append(args, orgID)
	}
	rows, err := db.query(ctx, q+` ORDER BY organisation_id, email`, args...)
	if err != nil {
		return nil, fmt.Errorf("list people: %w", err)
	}
	defer rows.Close()
	var out []*kyoyu.Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SetPassword replaces an account's password hash, clears any lock-out and
// ends its sessions elsewhere.
func (db *DB) SetPassword(ctx context.Context, actor kyoyu.Actor, personID int64, hash string) error {
	return db.Update(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE people SET password_hash = ?, failed_logins = 0, locked_until = NULL WHERE id = ?`, hash, personID)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("person %d: %w", personID, kyoyu.ErrNotFound)
		}
		if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE person_id = ?`, personID); err != nil {
			return err
		}
		return tx.audit(ctx, actor, "person.set_password", "person", fmt.Sprint(personID), audit.OK, "")
	})
}

// SetHandlesIncidents marks whether a person handles incident information
// (need to know, read by AMBER).
func (db *DB) SetHandlesIncidents(ctx context.Context, actor kyoyu.Actor, personID int64, on bool) error {
	return db.Update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `UPDATE people SET handles_incidents = ? WHERE id = ?`, on, personID); err != nil {
			return fmt.Errorf("set handles_incidents: %w", err)
		}
		return tx.audit(ctx, actor, "person.set_handles_incidents", "person", fmt.Sprint(personID), audit.OK, fmt.Sprint(on))
	})
}

// DisablePerson removes someone from service: they can no longer sign in,
// their sessions end and their tokens are revoked. The row stays, so the
// audit log and authored items keep their author.
func (db *DB) DisablePerson(ctx context.Context, actor kyoyu.Actor, personID int64) error {
	return db.Update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `UPDATE people SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL`, tx.now, personID); err != nil {
			return fmt.Errorf("disable person: %w", err)
		}
		if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE person_id = ?`, personID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE person_id = ? AND revoked_at IS NULL`, tx.now, personID); err != nil {
			return err
		}
		return tx.audit(ctx, actor, "person.disable", "person", fmt.Sprint(personID), audit.OK, "")
	})
}

// SetTOTP stores a second-factor secret; enabled turns it on once the
// person has proved they can produce codes.
func (db *DB) SetTOTP(ctx context.Context, actor kyoyu.Actor, personID int64, secret string, enabled bool) error {
	return db.Update(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `UPDATE people SET totp_secret = ?, totp_enabled = ? WHERE id = ?`, secret, enabled, personID); err != nil {
			return fmt.Errorf("set TOTP: %w", err)
		}
		action := "person.totp_disable"
		if enabled {
			action = "person.totp_enable"
		} else if secret != "" {
			action = "person.totp_enrol"
		}
		return tx.audit(ctx, actor, action, "person", fmt.Sprint(personID), audit.OK, "")
	})
}

// RecordSignInFailure counts a failed sign-in, sets the lock-out the caller
// computed, and audits the refusal in the same transaction.
func (db *DB) RecordSignInFailure(ctx context.Context, e audit.Entry, personID int64, lockedUntil *time.Time) error {
	return db.Update(ctx, func(tx *Tx) error {
		if personID != 0 {
			if _, err := tx.exec(ctx, `UPDATE people SET failed_logins = failed_logins + 1, locked_until = ? WHERE id = ?`, lockedUntil, personID); err != nil {
				return fmt.Errorf("record failed sign-in: %w", err)
			}
		}
		return tx.appendAudit(ctx, e)
	})
}

// PeopleOf lists the accounts of the given organisations, in one query
// per thousand organisations (an advisory may reach thousands).
func (db *DB) PeopleOf(ctx context.Context, orgIDs []int64) ([]*kyoyu.Person, error) {
	var out []*kyoyu.Person
	for start := 0; start < len(orgIDs); start += 1000 {
		chunk := orgIDs[start:min(len(orgIDs), start+1000)]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := db.query(ctx, `SELECT `+personColumns+` FROM people WHERE organisation_id IN (`+
			strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",")+`) ORDER BY organisation_id, email`, args...)
		if err != nil {
			return nil, fmt.Errorf("list people: %w", err)
		}
		for rows.Next() {
			p, err := scanPerson(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
