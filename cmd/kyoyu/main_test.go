package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

// runKyoyu runs the command in-process and returns what it printed.
func runKyoyu(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	err = run(ctx, args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// mustKyoyu runs the command and fails the test if it fails.
func mustKyoyu(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := runKyoyu(t, args...)
	if err != nil {
		t.Fatalf("kyoyu %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// openCLIDB opens the database a command used, to look at it directly.
func openCLIDB(t *testing.T, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	if out := mustKyoyu(t, "version"); out != "kyoyu "+version+"\n" {
		t.Fatalf("version printed %q", out)
	}
	if out := mustKyoyu(t, "help"); !strings.Contains(out, "audit verify") || !strings.Contains(out, "sqlite:PATH") {
		t.Fatalf("help printed %q", out)
	}
	if _, _, err := runKyoyu(t); err == nil {
		t.Fatal("no command: want an error")
	}
	if _, errOut, err := runKyoyu(t, "frobnicate"); err == nil || !strings.Contains(err.Error(), `"frobnicate"`) || !strings.Contains(errOut, "Usage") {
		t.Fatalf("unknown command: %v, stderr %q", err, errOut)
	}
}

func TestAdministration(t *testing.T) {
	t.Parallel()
	for _, d := range testkit.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			url := testkit.NewDatabaseURL(t, d)
			db := "--db=" + url

			out := mustKyoyu(t, "migrate", db)
			if !strings.Contains(out, "applied 0001_foundation") {
				t.Fatalf("first migrate printed %q", out)
			}
			if out := mustKyoyu(t, "migrate", db); out != "database is up to date\n" {
				t.Fatalf("second migrate printed %q", out)
			}

			out = mustKyoyu(t, "user", "add", db, "--email", "Liaison@METI.example.jp", "--name", "経産 花子",
				"--org", "meti", "--role", "ministry_liaison", "--password", "first password 1")
			if out != "added liaison@meti.example.jp (経済産業省, ministry_liaison)\n" {
				t.Fatalf("user add printed %q", out)
			}
			if ls := lines(mustKyoyu(t, "user", "list", db)); len(ls) != 1 || ls[0] != "liaison@meti.example.jp\t経済産業省\tministry_liaison" {
				t.Fatalf("user list printed %q", ls)
			}
			// Without --password one is made up and shown once.
			out = mustKyoyu(t, "user", "add", db, "--email", "analyst@nisc.example.jp", "--name", "内閣 分析", "--org", "nisc", "--role", "nisc_analyst", "--handles-incidents")
			ls := lines(out)
			if len(ls) != 2 || !strings.HasPrefix(ls[1], "password: ") || len(ls[1]) < len("password: ")+account.MinPasswordLength {
				t.Fatalf("user add without password printed %q", out)
			}
			generated := strings.TrimPrefix(ls[1], "password: ")

			out = mustKyoyu(t, "token", "create", db, "--user", "LIAISON@meti.example.jp", "--name", "siem")
			ls = lines(out)
			secret := ls[len(ls)-1]
			if !strings.HasPrefix(secret, account.TokenPrefix) || strings.ContainsAny(secret, " \t") || !strings.Contains(ls[0], "liaison@meti.example.jp") {
				t.Fatalf("token create printed %q", out)
			}

			// What the commands wrote, seen from a server's side.
			sdb := openCLIDB(t, url)
			svc := &account.Service{DB: sdb, SessionTTL: time.Hour}
			pr, err := svc.AuthenticateToken(ctx, secret, "")
			if err != nil {
				t.Fatalf("the printed token does not authenticate: %v", err)
			}
			if pr.Person.Email != "liaison@meti.example.jp" || pr.Organisation.Code != "meti" || pr.Token.Name != "siem" {
				t.Fatalf("token principal = %+v", pr)
			}
			if _, err := svc.SignIn(ctx, "analyst@nisc.example.jp", generated, ""); err != nil {
				t.Fatalf("the generated password does not sign in: %v", err)
			}
			analyst, _ := sdb.PersonByEmail(ctx, "analyst@nisc.example.jp")
			if !analyst.HandlesIncidents || analyst.Role != kyoyu.RoleNISCAnalyst {
				t.Fatalf("analyst = %+v", analyst)
			}

			if _, err := svc.SignIn(ctx, "liaison@meti.example.jp", "first password 1", ""); err != nil {
				t.Fatal(err)
			}
			out = mustKyoyu(t, "user", "set-password", db, "--email", "liaison@meti.example.jp", "--password", "second password 2")
			if !strings.Contains(out, "password of liaison@meti.example.jp changed") {
				t.Fatalf("set-password printed %q", out)
			}
			if _, err := svc.SignIn(ctx, "liaison@meti.example.jp", "first password 1", ""); kyoyu.ErrorCode(err) != kyoyu.EUNAUTHORIZED {
				t.Fatalf("the old password still works: %v", err)
			}
			if _, err := svc.SignIn(ctx, "liaison@meti.example.jp", "second password 2", ""); err != nil {
				t.Fatalf("the new password does not work: %v", err)
			}

			ls = lines(mustKyoyu(t, "directory", "list", db))
			if len(ls) != 2 || !strings.HasPrefix(ls[0], "2017-action-plan-4\tapplied\t") || !strings.HasPrefix(ls[1], "2024-ports\tnot applied\t") {
				t.Fatalf("directory list printed %q", ls)
			}
			if out := mustKyoyu(t, "directory", "apply", db, "2024-ports"); out != "applied 2024-ports\n" {
				t.Fatalf("directory apply printed %q", out)
			}
			if out := mustKyoyu(t, "directory", "apply", db, "2024-ports"); out != "2024-ports was already applied\n" {
				t.Fatalf("second directory apply printed %q", out)
			}
			if ls := lines(mustKyoyu(t, "directory", "list", db)); !strings.HasPrefix(ls[1], "2024-ports\tapplied\t") {
				t.Fatalf("directory list after apply printed %q", ls)
			}
			if sectors, _ := sdb.Sectors(ctx); len(sectors) != 15 || sectors[14].Code != "port" {
				t.Fatalf("%d sectors after apply", len(sectors))
			}
			if _, _, err := runKyoyu(t, "directory", "apply", db, "1999-nothing"); err == nil || !strings.Contains(err.Error(), "2024-ports") {
				t.Fatalf("apply of an unknown revision: %v", err)
			}

			out = mustKyoyu(t, "user", "disable", db, "--email", "analyst@nisc.example.jp")
			if !strings.Contains(out, "disabled analyst@nisc.example.jp") {
				t.Fatalf("user disable printed %q", out)
			}
			if ls := lines(mustKyoyu(t, "user", "list", db)); len(ls) != 2 || !strings.HasSuffix(ls[0], "\tdisabled") {
				t.Fatalf("user list after disable printed %q", ls)
			}
			if _, _, err := runKyoyu(t, "token", "create", db, "--user", "analyst@nisc.example.jp"); err == nil || !strings.Contains(err.Error(), "disabled") {
				t.Fatalf("token for a disabled account: %v", err)
			}

			// Every command's change is in the chain, from the command line.
			creates, _ := sdb.AuditEntries(ctx, store.AuditFilter{Action: "person.create"})
			if len(creates) != 2 || creates[0].IP != "cli" {
				t.Fatalf("person.create entries = %+v", creates)
			}
			n, err := sdb.VerifyAudit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if out := mustKyoyu(t, "audit", "verify", db); out != fmt.Sprintf("audit log intact: %d entries\n", n) {
				t.Fatalf("audit verify printed %q, want %d entries", out, n)
			}

			// One row altered by hand: verify fails and names it.
			seq := creates[1].Seq // the liaison's creation
			tamper(t, sdb, fmt.Sprintf(`UPDATE audit_log SET detail = 'nothing to see' WHERE seq = %d`, seq))
			out, _, err = runKyoyu(t, "audit", "verify", db)
			if err == nil {
				t.Fatalf("audit verify passed an altered log: %q", out)
			}
			name := fmt.Sprintf("entry %d", seq)
			if !strings.Contains(out, name+":") || !strings.Contains(err.Error(), name) || !strings.Contains(out, fmt.Sprintf("(%d entries before it are intact)", seq-1)) {
				t.Fatalf("audit verify printed %q, %v; want it to name %s", out, err, name)
			}
		})
	}
}

// tamper changes the audit log as someone with database access could,
// switching the append-only trigger off first.
func tamper(t *testing.T, db *store.DB, stmt string) {
	t.Helper()
	pre := `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`
	if db.Dialect == store.SQLite {
		pre = `DROP TRIGGER audit_log_no_update`
	}
	for _, q := range []string{pre, stmt} {
		if _, err := db.SQL().Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestBadDatabase(t *testing.T) {
	t.Parallel()
	_, _, err := runKyoyu(t, "migrate", "--db", "mysql://x")
	if err == nil || !strings.Contains(err.Error(), "sqlite:PATH") || !strings.Contains(err.Error(), "postgres://") {
		t.Fatalf("--db mysql://x: %v; want the error to name the forms it takes", err)
	}
	_, _, err = runKyoyu(t, "user", "list", "--db", "postgres://nobody@127.0.0.1:1/x")
	if err == nil || !strings.Contains(err.Error(), "open postgres database") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("unreachable PostgreSQL: %v; want it to say the database could not be opened and why", err)
	}
	_, _, err = runKyoyu(t, "migrate", "--db", "sqlite:")
	if err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("--db sqlite: %v", err)
	}
	_, errOut, err := runKyoyu(t, "migrate", "--no-such-flag")
	if err == nil || !strings.Contains(errOut, "no-such-flag") {
		t.Fatalf("unknown flag: %v, stderr %q", err, errOut)
	}
}

func TestUserAddRefusesBadInput(t *testing.T) {
	t.Parallel()
	for _, d := range testkit.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			url := testkit.NewDatabaseURL(t, d)
			db := "--db=" + url
			mustKyoyu(t, "migrate", db)
			add := func(email, org, role, password, name string) error {
				_, _, err := runKyoyu(t, "user", "add", db, "--email", email, "--name", name, "--org", org, "--role", role, "--password", password)
				return err
			}
			cases := []struct {
				name string
				err  error
				want []string
			}{
				{"unknown organisation", add("a@example.jp", "nosuch", "org_admin", "long enough password", "甲"), []string{`no organisation with code "nosuch"`}},
				{"no organisation", add("a@example.jp", "", "org_admin", "long enough password", "甲"), []string{"--org is required"}},
				{"unknown role", add("a@example.jp", "meti", "emperor", "long enough password", "甲"), []string{"role", "invalid_role"}},
				{"short password", add("a@example.jp", "meti", "org_admin", "short", "甲"), []string{"password too short", "12"}},
				{"bad e-mail", add("not-an-address", "meti", "org_admin", "long enough password", "甲"), []string{"email", "invalid_email"}},
				{"no name", add("a@example.jp", "meti", "org_admin", "long enough password", ""), []string{"name", "required"}},
			}
			for _, c := range cases {
				if c.err == nil {
					t.Errorf("%s: accepted", c.name)
					continue
				}
				for _, w := range c.want {
					if !strings.Contains(c.err.Error(), w) {
						t.Errorf("%s: error %q does not say %q", c.name, c.err, w)
					}
				}
			}
			if out := mustKyoyu(t, "user", "list", db); out != "" {
				t.Fatalf("refused adds created accounts: %q", out)
			}
			sdb := openCLIDB(t, url)
			if es, _ := sdb.AuditEntries(context.Background(), store.AuditFilter{Action: "person.create"}); len(es) != 0 {
				t.Fatalf("refused adds were audited as creations: %+v", es)
			}

			// Once added, the same e-mail is taken.
			if err := add("a@example.jp", "meti", "org_admin", "long enough password", "甲"); err != nil {
				t.Fatal(err)
			}
			err := add("A@EXAMPLE.JP", "mic", "org_admin", "long enough password", "乙")
			if err == nil || !strings.Contains(err.Error(), "email: taken") {
				t.Fatalf("duplicate e-mail: %v", err)
			}
			for _, args := range [][]string{
				{"user", "set-password", db, "--email", "nobody@example.jp", "--password", "long enough password"},
				{"token", "create", db, "--user", "nobody@example.jp"},
				{"user", "disable", db, "--email", "nobody@example.jp"},
			} {
				if _, _, err := runKyoyu(t, args...); err == nil || !strings.Contains(err.Error(), `no account "nobody@example.jp"`) {
					t.Errorf("%s for an unknown account: %v", strings.Join(args[:2], " "), err)
				}
			}
			if _, _, err := runKyoyu(t, "user", "set-password", db, "--email", "a@example.jp", "--password", "short"); err == nil || !strings.Contains(err.Error(), "too short") {
				t.Fatalf("short new password: %v", err)
			}
			for _, args := range [][]string{{"user", "frob", db}, {"token", "list", db}, {"audit", "rewrite", db}, {"directory", "drop", db}, {"directory", "apply", db}} {
				if _, _, err := runKyoyu(t, args...); err == nil || !strings.Contains(err.Error(), "usage") {
					t.Errorf("%s: %v, want a usage error", strings.Join(args[:2], " "), err)
				}
			}
		})
	}
}
