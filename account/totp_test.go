package account_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"kyoyu"
	"kyoyu/demo"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

func TestTOTPEnrolment(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, who := community(t, db)
		me := who("reporter@operator.demo.kyoyu.jp")

		secret, url, qr, err := svc.BeginTOTP(ctx, me, "")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(url, "otpauth://totp/Kyoyu:") || !strings.Contains(url, "secret="+secret) {
			t.Fatalf("url %q", url)
		}
		if !bytes.HasPrefix(qr, []byte("\x89PNG")) {
			t.Fatal("QR code is not a PNG")
		}
		// Until confirmed, sign-in does not ask for a code.
		if _, err := svc.SignIn(ctx, me.Person.Email, demo.Password, ""); err != nil {
			t.Fatalf("sign-in during enrolment: %v", err)
		}
		me = who(me.Person.Email)
		s2, u2, _, ok, err := svc.PendingTOTP(me)
		if err != nil || !ok || s2 != secret || u2 != url {
			t.Fatalf("pending enrolment: %v %v %q", ok, err, u2)
		}

		if err := svc.ConfirmTOTP(ctx, me, "000000", ""); kyoyu.ErrorCode(err) != kyoyu.EINVALID {
			t.Fatalf("wrong code: %v", err)
		}
		if p, _ := db.Person(ctx, me.Person.ID); p.TOTPEnabled {
			t.Fatal("a wrong code enabled the factor")
		}
		code, _ := totp.GenerateCode(secret, time.Now())
		if err := svc.ConfirmTOTP(ctx, me, code, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SignIn(ctx, me.Person.Email, demo.Password, ""); kyoyu.ErrorCode(err) != kyoyu.EMFAREQUIRED {
			t.Fatalf("sign-in after enrolment: %v", err)
		}
		me = who(me.Person.Email)
		if _, _, _, err := svc.BeginTOTP(ctx, me, ""); kyoyu.ErrorCode(err) != kyoyu.ECONFLICT {
			t.Fatalf("re-enrolling over an enabled factor: %v", err)
		}

		if err := svc.DisableTOTP(ctx, me, "wrong password!", ""); kyoyu.ErrorCode(err) != kyoyu.EINVALID {
			t.Fatalf("disable with a wrong password: %v", err)
		}
		if p, _ := db.Person(ctx, me.Person.ID); !p.TOTPEnabled || p.FailedLogins != 1 {
			t.Fatalf("after a wrong password: enabled %v, failures %d", p.TOTPEnabled, p.FailedLogins)
		}
		if err := svc.DisableTOTP(ctx, me, demo.Password, ""); err != nil {
			t.Fatal(err)
		}
		if p, _ := db.Person(ctx, me.Person.ID); p.TOTPEnabled || p.TOTPSecret != "" {
			t.Fatal("still enabled")
		}
		for _, action := range []string{"person.totp_enrol", "person.totp_enable", "person.totp_disable"} {
			e, _ := db.AuditEntries(ctx, store.AuditFilter{Action: action, PersonID: me.Person.ID})
			if len(e) == 0 {
				t.Errorf("no %s entry", action)
			}
		}
	})
}
