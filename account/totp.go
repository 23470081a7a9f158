package account

import (
	"bytes"
	"context"
	"encoding/base32"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"kyoyu"
	"kyoyu/audit"
	"kyoyu/store"
)

// BeginTOTP starts enrolling a second factor: it stores a new secret, not
// yet enabled, and returns it with its otpauth URL and a QR code (PNG) for
// authenticator apps. Sign-in asks for codes only once ConfirmTOTP has
// seen one, so an abandoned enrolment locks nobody out. An enabled factor
// must be disabled (with the password) before a new one is enrolled.
func (s *Service) BeginTOTP(ctx context.Context, pr *Principal, ip string) (secret, url string, qr []byte, err error) {
	p, err := s.DB.Person(ctx, pr.Person.ID)
	if err != nil {
		return "", "", nil, err
	}
	if p.TOTPEnabled {
		return "", "", nil, &kyoyu.Error{Code: kyoyu.ECONFLICT, Message: "totp.already_enabled"}
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.issuer(), AccountName: p.Email})
	if err != nil {
		return "", "", nil, fmt.Errorf("generate TOTP secret: %w", err)
	}
	qr, err = qrPNG(key)
	if err != nil {
		return "", "", nil, err
	}
	if err := s.DB.SetTOTP(ctx, pr.Actor(ip), p.ID, key.Secret(), false); err != nil {
		return "", "", nil, err
	}
	return key.Secret(), key.URL(), qr, nil
}

// PendingTOTP returns an enrolment begun but not yet confirmed, so the
// page can show its QR code again after a mistyped code; ok is false when
// there is none (no secret, or the factor is already on).
func (s *Service) PendingTOTP(pr *Principal) (secret, url string, qr []byte, ok bool, err error) {
	p := pr.Person
	if p.TOTPEnabled || p.TOTPSecret == "" {
		return "", "", nil, false, nil
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(p.TOTPSecret)
	if err != nil {
		return "", "", nil, false, fmt.Errorf("stored TOTP secret: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.issuer(), AccountName: p.Email, Secret: raw})
	if err != nil {
		return "", "", nil, false, fmt.Errorf("TOTP key: %w", err)
	}
	qr, err = qrPNG(key)
	if err != nil {
		return "", "", nil, false, err
	}
	return key.Secret(), key.URL(), qr, true, nil
}

func (s *Service) issuer() string {
	if s.Issuer == "" {
		return "Kyoyu"
	}
	return s.Issuer
}

// qrPNG draws the key's otpauth URL as a 200×200 QR code.
func qrPNG(key *otp.Key) ([]byte, error) {
	img, err := key.Image(200, 200)
	if err != nil {
		return nil, fmt.Errorf("TOTP QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("TOTP QR code: %w", err)
	}
	return buf.Bytes(), nil
}

// ConfirmTOTP enables the enrolled second factor once the person shows a
// current code from it. A wrong code is audited and enables nothing.
func (s *Service) ConfirmTOTP(ctx context.Context, pr *Principal, code, ip string) error {
	p, err := s.DB.Person(ctx, pr.Person.ID)
	if err != nil {
		return err
	}
	if p.TOTPEnabled {
		return &kyoyu.Error{Code: kyoyu.ECONFLICT, Message: "totp.already_enabled"}
	}
	if p.TOTPSecret == "" {
		return &kyoyu.Error{Code: kyoyu.EINVALID, Message: "totp.not_started"}
	}
	if !totp.Validate(strings.TrimSpace(code), p.TOTPSecret) {
		e := store.EntryFor(pr.Actor(ip), "person.totp_enable", "person", fmt.Sprint(p.ID), audit.Denied, "wrong code")
		if err := s.DB.Audit(ctx, e); err != nil {
			return err
		}
		return &kyoyu.Error{Code: kyoyu.EINVALID, Message: "auth.bad_code", Fields: map[string]string{"code": "bad_code"}}
	}
	return s.DB.SetTOTP(ctx, pr.Actor(ip), p.ID, p.TOTPSecret, true)
}

// DisableTOTP turns the second factor off. It asks for the password, so a
// browser left signed in cannot be used to strip the factor; wrong
// passwords count towards the same back-off and lock-out as sign-in.
func (s *Service) DisableTOTP(ctx context.Context, pr *Principal, password, ip string) error {
	p, err := s.DB.Person(ctx, pr.Person.ID)
	if err != nil {
		return err
	}
	now := s.DB.Now()
	if p.LockedUntil != nil && now.Before(*p.LockedUntil) {
		return &kyoyu.Error{Code: kyoyu.ELOCKED, Message: "auth.locked", Fields: map[string]string{"until": p.LockedUntil.Format(time.RFC3339)}}
	}
	if !CheckPassword(p.PasswordHash, password) {
		e := store.EntryFor(pr.Actor(ip), "person.totp_disable", "person", fmt.Sprint(p.ID), audit.Denied,
			fmt.Sprintf("wrong password (failure %d)", p.FailedLogins+1))
		if err := s.DB.RecordSignInFailure(ctx, e, p.ID, lockFor(p.FailedLogins+1, now)); err != nil {
			return err
		}
		return &kyoyu.Error{Code: kyoyu.EINVALID, Message: "totp.wrong_password", Fields: map[string]string{"password": "wrong_password"}}
	}
	if !p.TOTPEnabled && p.TOTPSecret == "" {
		return nil
	}
	return s.DB.SetTOTP(ctx, pr.Actor(ip), p.ID, "", false)
}
