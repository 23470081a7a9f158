package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/stix"
)

const importUsage = "usage: kyoyu import --org CODE --user EMAIL [--tlp RANGE] [--max-size MiB] [--json] FILE"

// cmdImport imports a STIX 2.1 bundle from a file, as a person of an
// organisation would through the API: one shared item under the range the
// bundle's markings give, refused whole if anything is wrong with it.
func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg kyoyu.Config
	fs := flagSet("import", &cfg, stderr)
	org := fs.String("org", "", "code (or id) of the importing organisation")
	user := fs.String("user", "", "e-mail address of the person importing; must handle incident information")
	tlp := fs.String("tlp", "", "range for a bundle without TLP markings (red, amber, green, white); narrows, never widens, the markings'")
	maxMiB := fs.Int64("max-size", 1024, "largest bundle to read, in MiB")
	asJSON := fs.Bool("json", false, "print the whole account (every object's outcome) as JSON")
	// Flags may come after the file too.
	var files []string
	for {
		if err := parse(fs, &cfg, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files, args = append(files, fs.Arg(0)), fs.Args()[1:]
	}
	if len(files) != 1 {
		return fmt.Errorf("%s", importUsage)
	}
	if *tlp != "" && !policy.TLP(*tlp).Valid() {
		return fmt.Errorf("--tlp %q: want red, amber, green or white", *tlp)
	}
	if *maxMiB <= 0 {
		return fmt.Errorf("--max-size must be positive")
	}
	bar := newProgress(stderr)
	data, err := readFile(files[0], *maxMiB<<20, bar)
	if err != nil {
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
	p, err := db.PersonByEmail(ctx, *user)
	if err != nil || p.OrganisationID != o.ID {
		return fmt.Errorf("no account %q in %s", *user, o.NameJA)
	}
	if p.DisabledAt != nil {
		return fmt.Errorf("account %s is disabled", p.Email)
	}
	opt := report.STIXImportOptions{Range: policy.TLP(*tlp), Source: "cli",
		Limits: stix.Limits{MaxBytes: *maxMiB << 20, MaxObjects: 50_000_000}}
	if bar != nil {
		opt.Progress = func(done, total int) { bar.show("storing", int64(done), int64(total), "objects") }
	}
	acc, err := report.New(db, cfg).ImportSTIX(ctx, &account.Principal{Person: p, Organisation: o}, "cli", data, opt)
	bar.done()
	if err != nil {
		if ps := stix.Problems(err); len(ps) > 0 {
			fmt.Fprintf(stderr, "%s: bundle refused, nothing imported:\n", files[0])
			for _, pr := range ps {
				fmt.Fprintln(stderr, "  "+pr.String())
			}
			return fmt.Errorf("%d problem(s) in %s", len(ps), files[0])
		}
		return describe(err)
	}
	if *asJSON {
		return writeAccount(stdout, acc)
	}
	printAccount(stdout, acc)
	return nil
}

// readFile reads the bundle, showing how far on a terminal.
func readFile(name string, limit int64, bar *progress) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d MiB, over --max-size %d MiB", name, st.Size()>>20, limit>>20)
	}
	var buf bytes.Buffer
	buf.Grow(int(st.Size()))
	r := io.Reader(io.LimitReader(f, limit+1))
	if bar != nil {
		r = &countingReader{r: r, total: st.Size(), bar: bar}
	}
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("%s is over --max-size %d MiB", name, limit>>20)
	}
	return buf.Bytes(), nil
}

type countingReader struct {
	r     io.Reader
	n     int64
	total int64
	bar   *progress
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.bar.show("reading", c.n>>10, max(c.total>>10, 1), "KiB")
	return n, err
}

// progress is one line on a terminal's stderr, redrawn in place with \r;
// nil (silent) when stderr is a file or a pipe, so logs stay clean.
type progress struct {
	w     io.Writer
	last  time.Time
	shown bool
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &progress{w: w}
}

// show redraws the line, at most ten times a second (and at the end).
func (p *progress) show(stage string, done, total int64, unit string) {
	if p == nil || total <= 0 || (time.Since(p.last) < 100*time.Millisecond && done < total) {
		return
	}
	p.last, p.shown = time.Now(), true
	const width = 30
	filled := int(min(done, total) * width / total)
	fmt.Fprintf(p.w, "\rkyoyu import: %-7s [%s%s] %3d%% %d/%d %s ", stage, strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		min(done, total)*100/total, done, total, unit)
}

// done ends the line, so what follows starts on its own.
func (p *progress) done() {
	if p != nil && p.shown {
		fmt.Fprintln(p.w)
		p.shown = false
	}
}

func writeAccount(w io.Writer, acc *stix.Account) error {
	raw, err := json.MarshalIndent(acc, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", raw)
	return err
}

// printAccount says what the import did: the range, counts, the types
// Kyoyu understands and those it keeps opaque, and every skipped object.
func printAccount(w io.Writer, acc *stix.Account) {
	if acc.ItemID == 0 {
		fmt.Fprintf(w, "nothing new in %s: every object was already imported by your organisation; nothing was stored\n", acc.BundleID)
	} else {
		from := "its TLP markings"
		if acc.RangeFrom == "importer" {
			from = "--tlp"
		}
		fmt.Fprintf(w, "imported %s as item %d, shared under %s (from %s)\n", acc.BundleID, acc.ItemID, strings.ToUpper(acc.TLP), from)
	}
	fmt.Fprintf(w, "%d objects: %d stored, %d skipped\n", acc.Total, acc.Stored, acc.Skipped)
	fmt.Fprintf(w, "understood: %s\n", counts(acc.Understood))
	fmt.Fprintf(w, "kept opaque (stored as received, not read): %s\n", counts(acc.Opaque))
	for _, o := range acc.Objects {
		if o.Outcome == stix.Skipped {
			fmt.Fprintf(w, "skipped objects/%d %s: %s\n", o.Index, o.ID, o.Note)
		}
	}
	for _, n := range acc.Notes {
		fmt.Fprintln(w, "note: "+n)
	}
}

func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
