// Package kyoyu holds the domain of the platform: the parties of Japan's
// critical-infrastructure information-sharing framework, the people who act
// for them, and the error type every layer speaks. Adapters live in
// sub-packages named after what they wrap (store, web, api, …).
package kyoyu

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in one table (see api/errors.go
// and web/errors.go), so no layer above the store ever parses a message.
const (
	ECONFLICT     = "conflict"     // unique violation, stale version
	EINTERNAL     = "internal"     // a bug or an outage
	EINVALID      = "invalid"      // bad input; Fields says where
	ENOTFOUND     = "not_found"    // absent, or not visible to the caller
	EUNAUTHORIZED = "unauthorized" // no or bad credentials
	EFORBIDDEN    = "forbidden"    // signed in, but the action is not the role's
	ELOCKED       = "locked"       // too many failed sign-ins; retry later
	ECSRF         = "csrf"         // missing or stale form token
	ETOOLARGE     = "too_large"    // over a configured size limit
	EMFAREQUIRED  = "mfa_required" // password right, second factor needed
	EUNSUPPORTED  = "unsupported"  // a media type or format we do not speak
)

// Error is the one error type of the domain. Message is safe to show to the
// user (already localised where the caller had a locale, otherwise a key).
type Error struct {
	Code    string
	Message string
	// Fields maps a form field to its problem (a locale key), for EINVALID.
	Fields map[string]string
	// Err is the underlying cause, never shown to users.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrNotFound is returned by stores for a missing row. Callers wrap or
// compare with errors.Is; ErrorCode maps it to ENOTFOUND.
var ErrNotFound = &Error{Code: ENOTFOUND, Message: "not found"}

// Is lets errors.Is(err, ErrNotFound) match any ENOTFOUND error.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && e.Code == ENOTFOUND
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EINTERNAL for any other error.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err, or a generic one.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
