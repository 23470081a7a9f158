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
	"kyoyu/misp"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/stix"
)

const importUsage = "usage: kyoyu import --org CODE --user EMAIL [--format auto|stix|misp] [--tlp RANGE] [--max-size MiB] [--json] FILE"

// cmdImport imports a STIX 2.1 bundle or a file of MISP events, as a
// person of an organisation would through the API: one shared item (per
// MISP event) under the range the markings (or distribution and tlp: tags)
// give, refused whole if anything is wrong with it.
func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg kyoyu.Config
	fs := flagSet("import", &cfg, stderr)
	org := fs.String("org", "", "code (or id) of the importing organisation")
	user := fs.String("user", "", "e-mail address of the person importing; must handle incident information")
	tlp := fs.String("tlp", "", "range for a file that gives none — a bundle without TLP markings, a MISP event without distribution or tlp: tag (red, amber, green, white); narrows, never widens, the file's")
	maxMiB := fs.Int64("max-size", 1024, "largest file to read, in MiB")
	asJSON := fs.Bool("json", false, "print the whole account (every object's outcome) as JSON")
	format := fs.String("format", "auto", "what the file holds: stix (a bundle), misp (MISP events), or auto (recognised from its content)")
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
	if *format != "auto" && *format != "stix" && *format != "misp" {
		return fmt.Errorf("--format %q: want auto, stix or misp", *format)
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
	if *format == "auto" {
		if *format = misp.Detect(data); *format == "" {
			return fmt.Errorf("%s is neither a STIX bundle nor MISP events; give --format to say which it should be", files[0])
		}
	}
	pr := &account.Principal{Person: p, Organisation: o}
	if *format == "misp" {
		acc, err := report.New(db, cfg).ImportMISP(ctx, pr, "cli", data, report.MISPImportOptions{Range: policy.TLP(*tlp), Via: "cli",
			Limits: misp.Limits{MaxBytes: *maxMiB << 20, MaxEvents: 1_000_000, MaxAttributes: 50_000_000},
			Progress: func(stage string, done, total int) {
				unit := "objects"
				if stage == "converting" {
					unit = "events"
				}
				bar.show(stage, int64(done), int64(total), unit)
			}})
		bar.done()
		if err != nil {
			return refused(stderr, files[0], err)
		}
		if *asJSON {
			raw, err := json.MarshalIndent(acc, "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "%s\n", raw)
			return err
		}
		printMISPAccount(stdout, acc)
		return nil
	}
	opt := report.STIXImportOptions{Range: policy.TLP(*tlp), Source: "cli",
		Limits: stix.Limits{MaxBytes: *maxMiB << 20, MaxObjects: 50_000_000}}
	if bar != nil {
		opt.Progress = func(done, total int) { bar.show("storing", int64(done), int64(total), "objects") }
	}
	acc, err := report.New(db, cfg).ImportSTIX(ctx, pr, "cli", data, opt)
	bar.done()
	if err != nil {
		return refused(stderr, files[0], err)
	}
	if *asJSON {
		return writeAccount(stdout, acc)
	}
	printAccount(stdout, acc)
	return nil
}

// refused lists every problem of a refused file.
func refused(stderr io.Writer, file string, err error) error {
	if ps := stix.Problems(err); len(ps) > 0 {
		fmt.Fprintf(stderr, "%s: refused, nothing imported:\n", file)
		for _, pr := range ps {
			fmt.Fprintln(stderr, "  "+pr.String())
		}
		return fmt.Errorf("%d problem(s) in %s", len(ps), file)
	}
	return describe(err)
}

// printMISPAccount says, per event, where it went and under which range,
// and every attribute skipped and why.
func printMISPAccount(w io.Writer, acc *misp.Account) {
	for _, e := range acc.Events {
		if e.ItemID == 0 {
			fmt.Fprintf(w, "nothing new in event %s (%s): your organisation already holds it; nothing was stored\n", e.UUID, e.Info)
		} else {
			fmt.Fprintf(w, "imported event %s (%s) as item %d, shared under %s (from %s)\n", e.UUID, e.Info, e.ItemID, strings.ToUpper(e.TLP), e.RangeFrom)
		}
		fmt.Fprintf(w, "%d attributes: %d imported, %d skipped\n", e.Imported+e.Skipped, e.Imported, e.Skipped)
		for _, a := range e.Attributes {
			if a.Outcome == misp.Skipped {
				fmt.Fprintf(w, "skipped %s (%s): %s\n", a.Where, a.Type, a.Note)
			}
		}
		for _, n := range e.Notes {
			fmt.Fprintln(w, "note: "+n)
		}
	}
	fmt.Fprintf(w, "%d event(s) stored, %d unchanged\n", acc.Stored, acc.Unchanged)
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
