// Package search turns Japanese and Latin text into the tokens both
// databases index: character bigrams for runs of kanji and kana (so that
// two-character words such as 侵入 are found, which trigram indexes
// cannot do), words for Latin letters and digits, after NFKC
// normalisation and folding of spelling variants (漏洩 and 漏えい are one
// word). SQLite keeps the tokens in FTS5, PostgreSQL in a GIN-indexed
// array; both match every token of the query, so they answer alike.
package search

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// variants maps spellings in mixed kana (交ぜ書き, common in government
// documents) to one form, applied to text and queries alike.
var variants = strings.NewReplacer(
	"漏えい", "漏洩", "改ざん", "改竄", "き損", "毀損", "ぜい弱", "脆弱", "隠ぺい", "隠蔽",
	"破たん", "破綻", "ねつ造", "捏造", "補てん", "補填", "ひっ迫", "逼迫", "そ及", "遡及",
)

// Normalise folds width, case and spelling variants.
func Normalise(s string) string {
	return variants.Replace(strings.ToLower(norm.NFKC.String(s)))
}

func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) || r == 'ー' || r == '々'
}

// Tokens returns the distinct tokens of s, in order of first appearance.
func Tokens(s string) []string {
	s = Normalise(s)
	seen := map[string]bool{}
	var out []string
	emit := func(t string) {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	var run []rune
	var word strings.Builder
	flushRun := func() {
		switch len(run) {
		case 0:
		case 1:
			emit(string(run))
		default:
			for i := 0; i+1 < len(run); i++ {
				emit(string(run[i : i+2]))
			}
		}
		run = run[:0]
	}
	flushWord := func() {
		emit(word.String())
		word.Reset()
	}
	for _, r := range s {
		switch {
		case isCJK(r):
			flushWord()
			run = append(run, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			flushRun()
			word.WriteRune(r)
		default:
			flushRun()
			flushWord()
		}
	}
	flushRun()
	flushWord()
	return out
}

// QueryTokens returns the tokens a query must all match. A single kanji or
// kana stands for itself, so a one-character query finds the texts whose
// runs are that one character only; longer runs are matched by bigrams.
func QueryTokens(q string) []string { return Tokens(q) }

// Snippet returns up to width runes of text around the first occurrence of
// any query term, for result lists.
func Snippet(text, query string, width int) string {
	rs := []rune(text)
	if len(rs) <= width {
		return text
	}
	nt := []rune(Normalise(text))
	pos := 0
	for _, term := range strings.Fields(Normalise(query)) {
		if i := strings.Index(string(nt), term); i >= 0 {
			pos = len([]rune(string(nt)[:i]))
			break
		}
	}
	// Normalisation can change lengths; stay inside the original text.
	start := max(0, min(pos-width/3, len(rs)-width))
	end := min(len(rs), start+width)
	s := string(rs[start:end])
	if start > 0 {
		s = "…" + s
	}
	if end < len(rs) {
		s += "…"
	}
	return s
}
