package search

import (
	"slices"
	"testing"
)

func TestTokens(t *testing.T) {
	got := Tokens("不正アクセスによる侵入。ＡＢＣ Example.COM 192.0.2.1")
	for _, want := range []string{"不正", "正ア", "侵入", "abc", "example", "com", "192"} {
		if !slices.Contains(got, want) {
			t.Errorf("tokens %v lack %q", got, want)
		}
	}
}

// matches reports whether every query token is among the text's tokens,
// which is what both databases compute.
func matches(text, query string) bool {
	tt := Tokens(text)
	for _, q := range QueryTokens(query) {
		if !slices.Contains(tt, q) {
			return false
		}
	}
	return len(QueryTokens(query)) > 0
}

func TestJapaneseAsWritten(t *testing.T) {
	cases := []struct {
		text, query string
		want        bool
	}{
		{"外部からのシステムへの侵入を検知した", "侵入", true},
		{"外部からのシステムへの侵入を検知した", "侵害", false},
		{"顧客情報の漏洩の可能性", "漏洩", true},
		{"顧客情報の漏えいの可能性", "漏えい", true},
		{"顧客情報の漏えいの可能性", "漏洩", true}, // either spelling finds both
		{"顧客情報の漏洩の可能性", "漏えい", true},
		{"Webサイトの改ざん", "改竄", true},
		{"制御システムの障害", "障害", true},
		{"ランサムウェア感染", "ランサム", true},
		{"phishing mail from example.com", "EXAMPLE", true},
	}
	for _, c := range cases {
		if got := matches(c.text, c.query); got != c.want {
			t.Errorf("%q in %q: %v, want %v", c.query, c.text, got, c.want)
		}
	}
}

func TestSnippet(t *testing.T) {
	text := "あいうえおかきくけこさしすせそたちつてと不正侵入なにぬねのはひふへほまみむめもやゆよ"
	s := Snippet(text, "侵入", 12)
	if !slices.Contains([]rune(s), '侵') {
		t.Errorf("snippet %q lacks the term", s)
	}
}
