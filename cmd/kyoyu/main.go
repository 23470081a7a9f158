// Command kyoyu is the whole platform in one binary: `kyoyu serve` runs the
// web UI, the JSON API and the background work; the other subcommands
// administer the database a server uses.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `kyoyu — critical-infrastructure cybersecurity information sharing

Usage: kyoyu <command> [flags]

Commands:
  serve                     run the web UI and API (--addr, --db, --demo)
  migrate                   apply database migrations and the base directory
  user add|list|set-password|disable
                            manage accounts
  token create --user EMAIL create an API token (printed alone on the last line)
  audit verify              check the audit log's hash chain
  directory list|apply REV  show or apply revisions of the framework's directory
  jobs list|retry ID        show the outbox (e-mail, webhooks); retry a dead job
  webhook add|list|disable  register an organisation's webhook endpoints
  import --org CODE --user EMAIL FILE
                            import a STIX 2.1 bundle as that person (--tlp RANGE)
  demo generate             build a national-size data set from a seed (--seed, --orgs,
                            --people, --reports, --years) for trials and benchmarks
  bench queries|intake|read|startup|fanout|taxii-prepare|taxii
                            measure a generated data set (docs/PERFORMANCE.md)
  version                   print the version

Every command takes --db (or KYOYU_DB): sqlite:PATH (default sqlite:data/kyoyu.db)
or a postgres:// URL. Run "kyoyu <command> -h" for its flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "kyoyu:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	sub := func() (string, []string) {
		if len(rest) == 0 {
			return "", nil
		}
		return rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr)
	case "user":
		s, r := sub()
		return cmdUser(ctx, s, r, stdout, stderr)
	case "token":
		s, r := sub()
		return cmdToken(ctx, s, r, stdout, stderr)
	case "audit":
		s, r := sub()
		return cmdAudit(ctx, s, r, stdout, stderr)
	case "directory":
		s, r := sub()
		return cmdDirectory(ctx, s, r, stdout, stderr)
	case "jobs":
		s, r := sub()
		return cmdJobs(ctx, s, r, stdout, stderr)
	case "webhook":
		s, r := sub()
		return cmdWebhook(ctx, s, r, stdout, stderr)
	case "import":
		return cmdImport(ctx, rest, stdout, stderr)
	case "demo":
		s, r := sub()
		return cmdDemo(ctx, s, r, stdout, stderr)
	case "bench":
		s, r := sub()
		return cmdBench(ctx, s, r, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "kyoyu", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}
