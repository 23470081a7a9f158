package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
)

func readLocales(t *testing.T) map[string]map[string]string {
	t.Helper()
	out, err := readLocaleFiles()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Every language must have exactly the keys of every other.
func TestLocalesHaveSameKeys(t *testing.T) {
	if missing := MissingKeys(readLocales(t)); len(missing) > 0 {
		t.Fatalf("locale keys missing: %v", missing)
	}
}

func TestMissingKeysNamesTheGap(t *testing.T) {
	got := MissingKeys(map[string]map[string]string{"ja": {"a": "1", "b": "2"}, "en": {"a": "1"}})
	if len(got) != 1 || got[0] != "en:b" {
		t.Fatalf("MissingKeys = %v, want [en:b]", got)
	}
}

// Every literal key a template or handler translates must exist, so no
// page ever shows a raw key.
func TestEveryUsedKeyExists(t *testing.T) {
	ja := readLocales(t)["ja"]
	used := map[string][]string{} // key → where
	add := func(re *regexp.Regexp, where string, b []byte) {
		for _, m := range re.FindAllSubmatch(b, -1) {
			used[string(m[1])] = append(used[string(m[1])], where)
		}
	}
	tmplKey := regexp.MustCompile(`\bT\s+"([^"]+)"`)
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(names) == 0 {
		t.Fatalf("templates: %v", err)
	}
	for _, n := range names {
		b, err := templateFS.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		add(tmplKey, n, b)
	}
	// Keys handlers pass as page titles, errors and flashes.
	goKey := regexp.MustCompile(`(?:h\.page\(r, |\.Error = |Flash = |placeholder\("[^"]+", |flash=)"?([a-z_]+\.[a-z_.]+)`)
	placeholderHelp := regexp.MustCompile(`placeholder\("[^"]+", "[^"]+", "([^"]+)"`)
	goFiles, _ := filepath.Glob("*.go")
	for _, f := range goFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		add(goKey, f, b)
		add(placeholderHelp, f, b)
	}
	// Messages and field problems the account service returns are shown
	// as they come: they too must be keys (fields under "field.").
	msg := regexp.MustCompile(`Message: "([a-z_]+\.[a-z_.]+)"`)
	field := regexp.MustCompile(`(?:fields\["\w+"\] = |map\[string\]string\{"(?:email|name|role|password|code)": )"(\w+)"`)
	accFiles, _ := filepath.Glob("../account/*.go")
	accFiles = append(accFiles, "../store/people.go")
	for _, f := range accFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		add(msg, f, b)
		for _, m := range field.FindAllSubmatch(b, -1) {
			k := "field." + string(m[1])
			used[k] = append(used[k], f)
		}
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys: is the scan broken?", len(used))
	}
	var missing []string
	for k, where := range used {
		if _, ok := ja[k]; !ok {
			missing = append(missing, k+" (in "+where[0]+")")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("keys missing from ja.json:\n%v", missing)
	}
}
