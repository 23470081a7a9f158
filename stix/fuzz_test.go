package stix_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/stix"
	"kyoyu/stix/stixtest"
)

// seedBundles adds every example bundle of the OASIS data, and a few
// broken ones, to a corpus.
func seedBundles(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(stixtest.Dir(), "examples", "*.json"))
	more, _ := filepath.Glob(filepath.Join(stixtest.Dir(), "examples", "*", "*.json"))
	for _, name := range append(files, more...) {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw, "")
		f.Add(raw, "amber")
	}
	f.Add(bundle(indicatorWith(ind1, "2026-01-01T00:00:00Z", stix.TLP2AmberStrict)), "")
	f.Add(bundle(indicatorWith(ind1, "2026-01-01T00:00:00Z"), indicatorWith(ind1, "2026-01-01T00:00:00Z")), "green")
	f.Add([]byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"x-"}]}`), "")
	f.Add([]byte(`{"type":"bundle"`), "red")
}

// FuzzParse: any input is either refused with problems named, or parsed
// into objects whose ids and versions hold; a plan's range is one of ours.
func FuzzParse(f *testing.F) {
	seedBundles(f)
	f.Fuzz(func(t *testing.T, data []byte, given string) {
		b, err := stix.Parse(data, stix.Limits{MaxBytes: 1 << 20, MaxObjects: 1000})
		if err != nil {
			if len(stix.Problems(err)) == 0 || kyoyu.ErrorMessage(err) == "" {
				t.Fatalf("refusal without problems: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, o := range b.Objects {
			if !strings.HasPrefix(o.ID, o.Type+"--") || o.SpecVersion != stix.SpecVersion || len(o.Raw) == 0 {
				t.Fatalf("parsed object %+v", o)
			}
			key := o.ID + " " + o.Version()
			if seen[key] {
				t.Fatalf("duplicate %s accepted", key)
			}
			seen[key] = true
		}
		p, err := stix.PlanImport(b, stix.ImportOptions{Range: policy.TLP(given)})
		if err != nil {
			if kyoyu.ErrorCode(err) != kyoyu.EINVALID {
				t.Fatalf("plan: %v", err)
			}
			return
		}
		if !p.TLP.Valid() {
			t.Fatalf("range %q", p.TLP)
		}
		if given != "" && policy.Widens(policy.TLP(given), p.TLP) {
			t.Fatalf("given %s, imported under the wider %s", given, p.TLP)
		}
		a := stix.NewAccount(p, nil)
		if a.Total != len(b.Objects) || a.Stored != a.Total {
			t.Fatalf("account %+v", a)
		}
	})
}

// FuzzExtract: the extractor never panics, and what it finds is refanged
// and well-formed.
func FuzzExtract(f *testing.F) {
	for _, s := range []string{
		"hxxp://evil[.]example[.]com/a", "attacker[at]example[.]jp", "198.51.100[.]1", "ｈｘｘｐ：／／ｅｘａｍｐｌｅ．ｃｏｍ",
		"2001:db8::1", "d41d8cd98f00b204e9800998ecf8427e", "invoice.pdf.exe", "[.][at](dot)hxxps[://]", "example(.)com。",
		"監視サーバから hxxp://evil-update[.]example[.]com/payload.bin への通信と、198.51.100[.]23 への接続を確認した。",
	} {
		f.Add(s)
	}
	for _, name := range []string{"threat-reports/apt1.json", "malicious-email-indicator-with-attachment.json"} {
		raw, err := os.ReadFile(filepath.Join(stixtest.Dir(), "examples", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(raw))
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, o := range stix.Extract(text) {
			if o.Value == "" || strings.ContainsAny(o.Value, "[]{} \t\n") && o.Type != "url" {
				t.Fatalf("extracted %+v from %q", o, text)
			}
			switch o.Type {
			case "ipv4-addr", "ipv6-addr":
				if _, err := netip.ParseAddr(o.Value); err != nil {
					t.Fatalf("address %q from %q", o.Value, text)
				}
			case "file":
				if o.Hash == "" || strings.Trim(o.Value, "0123456789abcdef") != "" {
					t.Fatalf("hash %+v", o)
				}
			case "url", "domain-name", "email-addr":
			default:
				t.Fatalf("type %q", o.Type)
			}
			if p := o.Pattern(); !strings.HasPrefix(p, "["+o.Type+":") || !strings.HasSuffix(p, "']") {
				t.Fatalf("pattern %s", p)
			}
		}
	})
}
