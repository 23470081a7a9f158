package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kyoyu/internal/testkit"
	"kyoyu/policy"
	"kyoyu/stix/stixtest"
	"kyoyu/store"
)

func TestImportCommand(t *testing.T) {
	t.Parallel()
	apt1 := filepath.Join(stixtest.Dir(), "examples", "threat-reports", "apt1.json")
	for _, d := range testkit.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			url := testkit.NewDatabaseURL(t, d)
			db := "--db=" + url
			mustKyoyu(t, "migrate", db)
			mustKyoyu(t, "user", "add", db, "--email", "analyst@jpcert.example.jp", "--name", "JPCERT 分析", "--org", "jpcert",
				"--role", "org_admin", "--handles-incidents", "--password", "first password 1")
			mustKyoyu(t, "user", "add", db, "--email", "clerk@jpcert.example.jp", "--name", "JPCERT 事務", "--org", "jpcert",
				"--role", "org_admin", "--password", "first password 1")
			as := []string{db, "--org", "jpcert", "--user", "analyst@jpcert.example.jp"}

			// No marking in apt1.json: a range must be given.
			_, _, err := runKyoyu(t, append([]string{"import", apt1}, as...)...)
			if err == nil || !strings.Contains(err.Error(), "no TLP marking") {
				t.Fatalf("apt1 without --tlp: %v", err)
			}
			out, errOut, err := runKyoyu(t, append(append([]string{"import"}, as...), "--tlp", "green", apt1)...)
			if err != nil {
				t.Fatalf("import: %v\n%s", err, errOut)
			}
			for _, want := range []string{"shared under GREEN (from --tlp)", "76 objects: 76 stored, 0 skipped",
				"understood: identity 4, indicator 12, relationship 30, report 1",
				"kept opaque (stored as received, not read): attack-pattern 7, intrusion-set 1, malware 6, threat-actor 5, tool 10"} {
				if !strings.Contains(out, want) {
					t.Errorf("import printed no %q:\n%s", want, out)
				}
			}
			// Not a terminal: no progress line.
			if strings.Contains(errOut, "\r") {
				t.Errorf("progress drawn on a pipe: %q", errOut)
			}
			out = mustKyoyu(t, append([]string{"import", apt1, "--tlp", "green"}, as...)...)
			if !strings.HasPrefix(out, "nothing new") || !strings.Contains(out, "76 skipped") {
				t.Errorf("second import printed %q", out)
			}
			out = mustKyoyu(t, append([]string{"import", "--json", filepath.Join(stixtest.Dir(), "examples", "infrastructure.json"), "--tlp", "red"}, as...)...)
			if !strings.Contains(out, `"tlp": "red"`) || !strings.Contains(out, `"outcome": "stored"`) {
				t.Errorf("--json printed %s", out)
			}

			// A bad bundle is refused whole, every problem listed.
			bad := filepath.Join(t.TempDir(), "bad.json")
			os.WriteFile(bad, []byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"indicator"},{"id":"x"}]}`), 0o600)
			_, errOut, err = runKyoyu(t, append([]string{"import", bad, "--tlp", "red"}, as...)...)
			if err == nil || !strings.Contains(errOut, "objects/0: no id") || !strings.Contains(errOut, "objects/1: no type") {
				t.Errorf("bad bundle: %v\n%s", err, errOut)
			}
			// Only people who handle incident information import.
			if _, _, err := runKyoyu(t, "import", db, "--org", "jpcert", "--user", "clerk@jpcert.example.jp", "--tlp", "red", apt1); err == nil {
				t.Error("a clerk imported")
			}
			if _, _, err := runKyoyu(t, "import", db, "--org", "nisc", "--user", "analyst@jpcert.example.jp", "--tlp", "red", apt1); err == nil {
				t.Error("imported in the name of another organisation")
			}

			st, err := store.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var n int
			if err := st.SQL().QueryRow("SELECT COUNT(*) FROM stix_objects").Scan(&n); err != nil || n != 76+10 {
				t.Errorf("%d objects stored (%v)", n, err)
			}
			page, err := st.STIXObjects(context.Background(), policy.Anonymous, store.STIXFilter{})
			if err != nil || len(page.Objects) != 0 {
				t.Errorf("the public reads imports: %v", err)
			}
		})
	}
}

// MISP files are recognised and imported event by event; --format says
// what a file must be.
func TestImportMISPCommand(t *testing.T) {
	t.Parallel()
	regin := filepath.Join("..", "..", "misp", "testdata", "circl-regin-54884656-excerpt.json")
	amber := filepath.Join("..", "..", "misp", "testdata", "objects-tlp-amber.json")
	apt1 := filepath.Join(stixtest.Dir(), "examples", "threat-reports", "apt1.json")
	for _, d := range testkit.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			url := testkit.NewDatabaseURL(t, d)
			db := "--db=" + url
			mustKyoyu(t, "migrate", db)
			mustKyoyu(t, "user", "add", db, "--email", "analyst@jpcert.example.jp", "--name", "JPCERT 分析", "--org", "jpcert",
				"--role", "org_admin", "--handles-incidents", "--password", "first password 1")
			as := []string{db, "--org", "jpcert", "--user", "analyst@jpcert.example.jp"}
			out := mustKyoyu(t, append([]string{"import", regin}, as...)...)
			for _, want := range []string{"imported event 54884656-2da8-4625-bf07-43ef950d210b (OSINT - F-Secure W32/Regin, Stage #1)",
				"shared under WHITE (from distribution)", "8 attributes: 8 imported, 0 skipped", "1 event(s) stored"} {
				if !strings.Contains(out, want) {
					t.Errorf("import printed no %q:\n%s", want, out)
				}
			}
			out = mustKyoyu(t, append([]string{"import", "--format", "misp", amber}, as...)...)
			if !strings.Contains(out, "shared under AMBER (from tlp_tag)") || !strings.Contains(out, "skipped Attribute/7 (hostname): deleted in MISP") {
				t.Errorf("amber event: %s", out)
			}
			out = mustKyoyu(t, append([]string{"import", "--json", regin}, as...)...)
			if !strings.Contains(out, `"unchanged": 1`) {
				t.Errorf("again, --json: %s", out)
			}
			// A STIX bundle is not MISP, and the reverse.
			if _, errOut, err := runKyoyu(t, append([]string{"import", "--format", "misp", "--tlp", "red", apt1}, as...)...); err == nil || !strings.Contains(errOut, "STIX bundle, not a MISP event") {
				t.Errorf("a bundle as MISP: %v %s", err, errOut)
			}
			if _, _, err := runKyoyu(t, append([]string{"import", "--format", "stix", regin}, as...)...); err == nil {
				t.Error("a MISP event imported as STIX")
			}
			if _, _, err := runKyoyu(t, append([]string{"import", "--format", "csv", regin}, as...)...); err == nil {
				t.Error("--format csv accepted")
			}
			odd := filepath.Join(t.TempDir(), "odd.json")
			os.WriteFile(odd, []byte(`{"hello":"world"}`), 0o600)
			if _, _, err := runKyoyu(t, append([]string{"import", odd}, as...)...); err == nil || !strings.Contains(err.Error(), "neither a STIX bundle nor MISP events") {
				t.Errorf("unrecognised file: %v", err)
			}
		})
	}
}

func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf}
	p.show("storing", 500, 1000, "objects")
	p.show("storing", 1000, 1000, "objects")
	p.done()
	if s := buf.String(); !strings.HasPrefix(s, "\rkyoyu import: storing [###############...............]  50% 500/1000 objects") ||
		!strings.Contains(s, "100% 1000/1000") || !strings.HasSuffix(s, "\n") {
		t.Errorf("progress %q", s)
	}
	var none *progress
	none.show("reading", 1, 2, "KiB") // a nil progress is silent
	none.done()
	if newProgress(&buf) != nil {
		t.Error("progress on a buffer")
	}
}
