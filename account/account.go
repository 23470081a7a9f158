package account

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"

	"kyoyu"
	"kyoyu/audit"
	"kyoyu/store"
)

// Lock-out policy: from the third failure in a row each attempt must wait
// twice as long as the one before (2 s, 4 s … 256 s); from the tenth the
// account is locked for half an hour. A good sign-in resets the count.
const (
	backoffFrom  = 3
	lockoutFrom  = 10
	lockoutSpell = 30 * time.Minute
)

// Service signs people in and checks their credentials.
type Service struct {
	DB         *store.DB
	Argon2     Argon2
	SessionTTL time.Duration
	Issuer     string // shown in authenticator apps
}

// New returns a Service with the configured session lifetime.
func New(db *store.DB, cfg kyoyu.Config) *Service {
	return &Service{DB: db, Argon2: DefaultArgon2, SessionTTL: cfg.SessionTTL, Issuer: "Kyoyu"}
}

// SignInResult is what a successful password check produced.
type SignInResult struct {
	SessionID string // the raw cookie value; only its hash is stored
	Session   *kyoyu.Session
	Person    *kyoyu.Person
}

var errBadCredentials = &kyoyu.Error{Code: kyoyu.EUNAUTHORIZED, Message: "auth.bad_credentials"}

// SignIn checks e-mail and password. With a second factor enrolled it
// returns a pending session and an EMFAREQUIRED error alongside it.
// Every outcome is audited.
func (s *Service) SignIn(ctx context.Context, email, password, ip string) (*SignInResult, error) {
	now := s.DB.Now()
	p, err := s.DB.PersonByEmail(ctx, email)
	if errors.Is(err, kyoyu.ErrNotFound) {
		CheckPassword(dummyHash, password) // spend the same time as for a real account
		e := audit.Entry{Action: "auth.sign_in", Outcome: audit.Denied, PersonEmail: store.NormaliseEmail(email), IP: ip, Detail: "unknown account"}
		if err := s.DB.Audit(ctx, e); err != nil {
			return nil, err
		}
		return nil, errBadCredentials
	} else if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	actor := kyoyu.Actor{Person: p, IP: ip}
	if org, err := s.DB.Organisation(ctx, p.OrganisationID); err == nil {
		actor.Organisation = org
	}
	deny := func(reason string, lock *time.Time, count bool) error {
		e := store.EntryFor(actor, "auth.sign_in", "person", fmt.Sprint(p.ID), audit.Denied, reason)
		id := int64(0)
		if count {
			id = p.ID
		}
		return s.DB.RecordSignInFailure(ctx, e, id, lock)
	}
	if p.DisabledAt != nil {
		CheckPassword(dummyHash, password)
		if err := deny("account disabled", nil, false); err != nil {
			return nil, err
		}
		return nil, errBadCredentials
	}
	if p.LockedUntil != nil && now.Before(*p.LockedUntil) {
		if err := deny("locked until "+p.LockedUntil.Format(time.RFC3339), p.LockedUntil, false); err != nil {
			return nil, err
		}
		return nil, &kyoyu.Error{Code: kyoyu.ELOCKED, Message: "auth.locked", Fields: map[string]string{"until": p.LockedUntil.Format(time.RFC3339)}}
	}
	if !CheckPassword(p.PasswordHash, password) {
		lock := lockFor(p.FailedLogins+1, now)
		if err := deny(fmt.Sprintf("wrong password (failure %d)", p.FailedLogins+1), lock, true); err != nil {
			return nil, err
		}
		return nil, errBadCredentials
	}
	res := &SignInResult{SessionID: randomToken(32), Person: p}
	res.Session = &kyoyu.Session{
		IDHash: HashSecret(res.SessionID), PersonID: p.ID, CSRFToken: randomToken(32),
		MFAPending: p.TOTPEnabled, ExpiresAt: now.Add(s.SessionTTL), IP: ip,
	}
	if p.TOTPEnabled {
		// A pending session lives only long enough to type a code.
		res.Session.ExpiresAt = now.Add(5 * time.Minute)
	}
	if err := s.DB.CreateSession(ctx, actor, res.Session, "password"); err != nil {
		return nil, err
	}
	if p.TOTPEnabled {
		return res, &kyoyu.Error{Code: kyoyu.EMFAREQUIRED, Message: "auth.mfa_required"}
	}
	return res, nil
}

// lockFor returns when the next attempt is allowed after n failures in a row.
func lockFor(n int, now time.Time) *time.Time {
	var d time.Duration
	switch {
	case n >= lockoutFrom:
		d = lockoutSpell
	case n >= backoffFrom:
		d = time.Duration(math.Pow(2, float64(n-backoffFrom+1))) * time.Second
	default:
		return nil
	}
	t := now.Add(d)
	return &t
}

// dummyHash is checked against when there is no account, so timing does
// not tell which e-mail addresses exist.
var dummyHash, _ = DefaultArgon2.hashUnchecked("kyoyu-dummy-password")

func (a Argon2) hashUnchecked(pw string) (string, error) {
	return a.HashPassword(pw + strings.Repeat("x", MinPasswordLength))
}

// CompleteSecondFactor checks a TOTP code for a pending session and, if it
// is right, replaces it with a full session.
func (s *Service) CompleteSecondFactor(ctx context.Context, pendingID, code, ip string) (*SignInResult, error) {
	now := s.DB.Now()
	sess, err := s.DB.Session(ctx, HashSecret(pendingID))
	if err != nil || !sess.MFAPending || now.After(sess.ExpiresAt) {
		return nil, &kyoyu.Error{Code: kyoyu.EUNAUTHORIZED, Message: "auth.session_expired"}
	}
	p, err := s.DB.Person(ctx, sess.PersonID)
	if err != nil {
		return nil, err
	}
	actor := kyoyu.Actor{Person: p, IP: ip}
	if org, err := s.DB.Organisation(ctx, p.OrganisationID); err == nil {
		actor.Organisation = org
	}
	if p.LockedUntil != nil && now.Before(*p.LockedUntil) {
		return nil, &kyoyu.Error{Code: kyoyu.ELOCKED, Message: "auth.locked", Fields: map[string]string{"until": p.LockedUntil.Format(time.RFC3339)}}
	}
	if !totp.Validate(strings.TrimSpace(code), p.TOTPSecret) {
		e := store.EntryFor(actor, "auth.second_factor", "person", fmt.Sprint(p.ID), audit.Denied, "wrong code")
		if err := s.DB.RecordSignInFailure(ctx, e, p.ID, lockFor(p.FailedLogins+1, now)); err != nil {
			return nil, err
		}
		return nil, &kyoyu.Error{Code: kyoyu.EUNAUTHORIZED, Message: "auth.bad_code"}
	}
	res := &SignInResult{SessionID: randomToken(32), Person: p}
	res.Session = &kyoyu.Session{IDHash: HashSecret(res.SessionID), PersonID: p.ID, CSRFToken: randomToken(32), ExpiresAt: now.Add(s.SessionTTL), IP: ip}
	if err := s.DB.CompleteMFA(ctx, actor, sess.IDHash, res.Session); err != nil {
		return nil, err
	}
	return res, nil
}

// Principal is a signed-in caller: who, for which organisation, and how.
type Principal struct {
	Person       *kyoyu.Person
	Organisation *kyoyu.Organisation
	Session      *kyoyu.Session  // browser callers
	Token        *kyoyu.APIToken // API callers
}

// Actor returns the principal as the audit log sees it.
func (p *Principal) Actor(ip string) kyoyu.Actor {
	if p == nil {
		return kyoyu.Actor{IP: ip}
	}
	return kyoyu.Actor{Person: p.Person, Organisation: p.Organisation, IP: ip}
}

// Authenticate resolves a session cookie. An unknown, expired or pending
// session is EUNAUTHORIZED with a message saying which.
func (s *Service) Authenticate(ctx context.Context, sessionID string) (*Principal, error) {
	return s.AuthenticateFrom(ctx, sessionID, "")
}

// AuthenticateFrom is Authenticate for a request from ip; presenting an
// expired session is audited.
func (s *Service) AuthenticateFrom(ctx context.Context, sessionID, ip string) (*Principal, error) {
	if sessionID == "" {
		return nil, &kyoyu.Error{Code: kyoyu.EUNAUTHORIZED, Message: "auth.required"}
	}
	sess, err := s.DB.Session(ctx, HashSecret(sessionID))
	if errors.Is(err, kyoyu.ErrNotFound) {
		return nil, &kyoyu.Error{Code: kyoyu.EUNAUTHORIZED, Message: "auth.session_expired"}
	} else if err != nil {
		return nil, err
	}
	now := s.DB.Now()
	if now.After(sess.ExpiresAt) {
		_ = s.DB.DeleteSession(ctx, kyoyu.Actor{}, sess.IDHash, "")
		e := audit.Entry{Action: "auth.session", Outcome: audit.Denied, PersonID: sess.PersonID, ObjectType: "person",
			ObjectID: fmt.Sprint(sess.PersonID), IP: ip, Detail: "expired session"}
		if err := s.DB.Audit(ctx, e); err != nil {
			return nil, err
		}
		return nil, &kyoyu.Error{Code: kyoyu.EUNAUTHORIZED, Message: "auth.session_expired"}
	}
	if sess.MFAPending {
		return nil, &kyoyu.Error{Code: kyoyu.EUNAUTHORIZED, Message: "auth.mfa_required"}
	}
	pr, err := s.principal(ctx, sess.PersonID)
	if err != nil {
		return nil, err
	}
	pr.Session = sess
	// Slide the expiry, but write at most once a minute per session.
	if sess.ExpiresAt.Sub(now) < s.SessionTTL-time.Minute {
		_ = s.DB.TouchSession(ctx, sess.IDHash, now.Add(s.SessionTTL))
	}
	return pr, nil
}

func (s *Service) principal(ctx context.Context, personID int64) (*Principal, error) {
	p, err := s.DB.Person(ctx, personID)
	if err != nil {
		return nil, err
	}
	if p.DisabledAt != nil {
		return nil, &kyoyu.Error{Code: kyoyu.EUNAUTHORIZED, Message: "auth.account_disabled"}
	}
	org, err := s.DB.Organisation(ctx, p.OrganisationID)
	if err != nil {
		return nil, err
	}
	return &Principal{Person: p, Organisation: org}, nil
}

// SignOut ends a browser session.
func (s *Service) SignOut(ctx context.Context, pr *Principal, ip string) error {
	return s.DB.DeleteSession(ctx, pr.Actor(ip), pr.Session.IDHash, "auth.sign_out")
}

// TokenPrefix starts every API token, so leaked tokens are easy to find.
const TokenPrefix = "kyoyu_"

// CreateToken makes an API token for a person and returns its secret,
// which is shown once and never stored.
func (s *Service) CreateToken(ctx context.Context, actor kyoyu.Actor, personID int64, name string) (string, *kyoyu.APIToken, error) {
	if strings.TrimSpace(name) == "" {
		name = "api"
	}
	secret := TokenPrefix + randomToken(32)
	t := &kyoyu.APIToken{PersonID: personID, Name: name, Prefix: secret[:len(TokenPrefix)+6], Hash: HashSecret(secret)}
	if err := s.DB.CreateToken(ctx, actor, t); err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// AuthenticateToken resolves a bearer token. A malformed, unknown or
// revoked token is refused with a message saying which, and audited.
func (s *Service) AuthenticateToken(ctx context.Context, raw, ip string) (*Principal, error) {
	refuse := func(reason, msg string, personID int64) error {
		e := audit.Entry{Action: "auth.token", Outcome: audit.Denied, PersonID: personID, IP: ip, Detail: reason}
		if err := s.DB.Audit(ctx, e); err != nil {
			return err
		}
		return &kyoyu.Error{Code: kyoyu.EUNAUTHORIZED, Message: msg}
	}
	if !strings.HasPrefix(raw, TokenPrefix) || len(raw) != len(TokenPrefix)+43 {
		return nil, refuse("malformed token", "auth.token_malformed", 0)
	}
	t, err := s.DB.TokenByHash(ctx, HashSecret(raw))
	if errors.Is(err, kyoyu.ErrNotFound) {
		return nil, refuse("unknown token", "auth.token_unknown", 0)
	} else if err != nil {
		return nil, err
	}
	if t.RevokedAt != nil {
		return nil, refuse(fmt.Sprintf("revoked token %d", t.ID), "auth.token_revoked", t.PersonID)
	}
	pr, err := s.principal(ctx, t.PersonID)
	if err != nil {
		return nil, err
	}
	pr.Token = t
	now := s.DB.Now()
	if t.LastUsed == nil || now.Sub(*t.LastUsed) > time.Minute {
		_ = s.DB.TouchToken(ctx, t.ID)
	}
	return pr, nil
}
