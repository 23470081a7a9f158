package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
)

//go:embed locales
var localeFS embed.FS

// Languages the UI speaks; the first is the default.
var Languages = []string{"ja", "en"}

var locales map[string]map[string]string

// loadLocales reads the flat-key locale files; every language must have
// exactly the keys of the default one.
func loadLocales() error {
	out, err := readLocaleFiles()
	if err != nil {
		return err
	}
	if missing := MissingKeys(out); len(missing) > 0 {
		return fmt.Errorf("locales: missing keys: %v", missing)
	}
	locales = out
	return nil
}

// readLocaleFiles merges each language's files (locales/LANG/*.json, one
// per area of the UI); a key defined twice is an error.
func readLocaleFiles() (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for _, lang := range Languages {
		files, err := fs.Glob(localeFS, "locales/"+lang+"/*.json")
		if err != nil || len(files) == 0 {
			return nil, fmt.Errorf("locale %s: no files (%v)", lang, err)
		}
		m := map[string]string{}
		for _, f := range files {
			b, err := localeFS.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("locale %s: %w", f, err)
			}
			part := map[string]string{}
			if err := json.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("locale %s: %w", f, err)
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("locale %s: key %q is defined twice", f, k)
				}
				m[k] = v
			}
		}
		out[lang] = m
	}
	return out, nil
}

// MissingKeys lists "lang:key" for every key one language has and another lacks.
func MissingKeys(ls map[string]map[string]string) []string {
	all := map[string]bool{}
	for _, m := range ls {
		for k := range m {
			all[k] = true
		}
	}
	var missing []string
	for lang, m := range ls {
		for k := range all {
			if _, ok := m[k]; !ok {
				missing = append(missing, lang+":"+k)
			}
		}
	}
	sort.Strings(missing)
	return missing
}

// T translates key into lang; a missing key shows itself, so it is seen.
func T(lang, key string) string {
	if s, ok := locales[lang][key]; ok {
		return s
	}
	if s, ok := locales["ja"][key]; ok {
		return s
	}
	return key
}

// language picks the UI language: the lang cookie, else Japanese.
func language(r *http.Request) string {
	if c, err := r.Cookie("kyoyu_lang"); err == nil {
		for _, l := range Languages {
			if c.Value == l {
				return l
			}
		}
	}
	return "ja"
}

func (h *Handler) setLanguage(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	valid := false
	for _, l := range Languages {
		valid = valid || l == lang
	}
	if !valid {
		h.notFound(w, r)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "kyoyu_lang", Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.cfg.Secure})
	next := r.URL.Query().Get("next")
	if !safeNext(next) {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// safeNext accepts only local paths, so redirects never leave the site.
func safeNext(s string) bool {
	return len(s) > 0 && s[0] == '/' && (len(s) == 1 || (s[1] != '/' && s[1] != '\\'))
}
