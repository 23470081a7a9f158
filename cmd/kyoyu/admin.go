package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/audit"
	"kyoyu/directory"
	"kyoyu/store"
)

// openDB opens and migrates the configured database and makes sure the
// base directory is loaded, so every command sees the same schema.
func openDB(ctx context.Context, cfg *kyoyu.Config) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := directory.LoadBase(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("load the framework's directory: %w", err)
	}
	return db, nil
}

// cliActor is who the audit log names for admin commands run on the server.
var cliActor = kyoyu.Actor{IP: "cli"}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg kyoyu.Config
	fs := flagSet("migrate", &cfg, stderr)
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	if err := directory.LoadBase(ctx, db); err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "database is up to date")
	}
	for _, v := range applied {
		fmt.Fprintln(stdout, "applied", v)
	}
	return nil
}

func cmdUser(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	var cfg kyoyu.Config
	fs := flagSet("user "+sub, &cfg, stderr)
	switch sub {
	case "add":
		email := fs.String("email", "", "e-mail address (sign-in name)")
		name := fs.String("name", "", "full name")
		org := fs.String("org", "", "organisation code or id")
		role := fs.String("role", "", "one of: "+roleList())
		handles := fs.Bool("handles-incidents", false, "handles incident information (need to know, AMBER)")
		password := fs.String("password", "", "password (at least 12 characters); generated and printed if empty")
		if err := parse(fs, &cfg, args); err != nil {
			return err
		}
		db, err := openDB(ctx, &cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		o, err := findOrg(ctx, db, *org)
		if err != nil {
			return err
		}
		pw, generated := *password, false
		if pw == "" {
			pw, generated = account.GeneratePassword(), true
		}
		hash, err := account.DefaultArgon2.HashPassword(pw)
		if err != nil {
			return err
		}
		p := &kyoyu.Person{OrganisationID: o.ID, Email: *email, Name: *name, Role: kyoyu.Role(*role), HandlesIncidents: *handles, PasswordHash: hash}
		if err := db.CreatePerson(ctx, cliActor, p); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "added %s (%s, %s)\n", p.Email, o.NameJA, p.Role)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n", pw)
		}
		return nil
	case "list":
		if err := parse(fs, &cfg, args); err != nil {
			return err
		}
		db, err := openDB(ctx, &cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		people, err := db.People(ctx, 0)
		if err != nil {
			return err
		}
		orgs, err := db.Organisations(ctx, store.OrganisationFilter{})
		if err != nil {
			return err
		}
		names := map[int64]string{}
		for _, o := range orgs {
			names[o.ID] = o.NameJA
		}
		for _, p := range people {
			state := ""
			if p.DisabledAt != nil {
				state = "\tdisabled"
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s%s\n", p.Email, names[p.OrganisationID], p.Role, state)
		}
		return nil
	case "set-password":
		email := fs.String("email", "", "e-mail address")
		password := fs.String("password", "", "new password; generated and printed if empty")
		if err := parse(fs, &cfg, args); err != nil {
			return err
		}
		db, err := openDB(ctx, &cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		p, err := db.PersonByEmail(ctx, *email)
		if err != nil {
			return fmt.Errorf("no account %q", *email)
		}
		pw, generated := *password, false
		if pw == "" {
			pw, generated = account.GeneratePassword(), true
		}
		hash, err := account.DefaultArgon2.HashPassword(pw)
		if err != nil {
			return err
		}
		if err := db.SetPassword(ctx, cliActor, p.ID, hash); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; its sessions were ended\n", p.Email)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n", pw)
		}
		return nil
	case "disable":
		email := fs.String("email", "", "e-mail address")
		if err := parse(fs, &cfg, args); err != nil {
			return err
		}
		db, err := openDB(ctx, &cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		p, err := db.PersonByEmail(ctx, *email)
		if err != nil {
			return fmt.Errorf("no account %q", *email)
		}
		if err := db.DisablePerson(ctx, cliActor, p.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "disabled %s; its sessions and tokens were ended\n", p.Email)
		return nil
	default:
		return fmt.Errorf("usage: kyoyu user add|list|set-password|disable [flags]")
	}
}

func cmdToken(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	if sub != "create" {
		return fmt.Errorf("usage: kyoyu token create --user EMAIL [--name NAME]")
	}
	var cfg kyoyu.Config
	fs := flagSet("token create", &cfg, stderr)
	user := fs.String("user", "", "e-mail address of the account the token acts for")
	name := fs.String("name", "cli", "a name to recognise the token by")
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	db, err := openDB(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := db.PersonByEmail(ctx, *user)
	if err != nil {
		return fmt.Errorf("no account %q", *user)
	}
	if p.DisabledAt != nil {
		return fmt.Errorf("account %s is disabled", p.Email)
	}
	svc := account.New(db, cfg)
	secret, t, err := svc.CreateToken(ctx, cliActor, p.ID, *name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "token %d for %s (%s); it is shown once:\n", t.ID, p.Email, t.Name)
	fmt.Fprintln(stdout, secret)
	return nil
}

func cmdAudit(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	if sub != "verify" {
		return fmt.Errorf("usage: kyoyu audit verify")
	}
	var cfg kyoyu.Config
	fs := flagSet("audit verify", &cfg, stderr)
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.VerifyAudit(ctx)
	var p *audit.Problem
	if errors.As(err, &p) {
		fmt.Fprintf(stdout, "audit log BROKEN at entry %d: %s (%d entries before it are intact)\n", p.Seq, p.Reason, n)
		return fmt.Errorf("audit log broken at entry %d", p.Seq)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries\n", n)
	return nil
}

func cmdDirectory(ctx context.Context, sub string, args []string, stdout, stderr io.Writer) error {
	var cfg kyoyu.Config
	fs := flagSet("directory "+sub, &cfg, stderr)
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	db, err := openDB(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "list":
		revs, err := directory.Revisions()
		if err != nil {
			return err
		}
		applied, err := db.AppliedRevisions(ctx)
		if err != nil {
			return err
		}
		for _, r := range revs {
			state := "not applied"
			if applied[r.Code] {
				state = "applied"
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", r.Code, state, r.TitleJA)
		}
		return nil
	case "apply":
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: kyoyu directory apply REVISION (see kyoyu directory list)")
		}
		done, err := directory.Apply(ctx, db, cliActor, fs.Arg(0))
		if err != nil {
			return describe(err)
		}
		if done {
			fmt.Fprintln(stdout, "applied", fs.Arg(0))
		} else {
			fmt.Fprintln(stdout, fs.Arg(0), "was already applied")
		}
		return nil
	default:
		return fmt.Errorf("usage: kyoyu directory list|apply REVISION")
	}
}

func findOrg(ctx context.Context, db *store.DB, ref string) (*kyoyu.Organisation, error) {
	if ref == "" {
		return nil, fmt.Errorf("--org is required (an organisation code such as nisc, or an id)")
	}
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return db.Organisation(ctx, id)
	}
	o, err := db.OrganisationByCode(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("no organisation with code %q", ref)
	}
	return o, nil
}

func roleList() string {
	var s []string
	for _, r := range kyoyu.Roles {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

// describe turns a domain error into a message naming the fields at fault.
func describe(err error) error {
	var e *kyoyu.Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		var parts []string
		for f, p := range e.Fields {
			parts = append(parts, f+": "+p)
		}
		return fmt.Errorf("%s (%s)", e.Message, strings.Join(parts, "; "))
	}
	return err
}

var _ = flag.ErrHelp
