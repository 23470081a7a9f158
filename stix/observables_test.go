package stix_test

import (
	"fmt"
	"slices"
	"testing"

	"kyoyu/stix"
)

func extracted(text string) []string {
	var out []string
	for _, o := range stix.Extract(text) {
		s := o.Type + " " + o.Value
		if o.Hash != "" {
			s = o.Type + " " + o.Hash + " " + o.Value
		}
		out = append(out, s)
	}
	return out
}

func TestExtractDefanged(t *testing.T) {
	for text, want := range map[string][]string{
		"C2はexample[.]comと判明":                                                  {"domain-name example.com"},
		"通信先 evil(.)example(.)jp を遮断":                                          {"domain-name evil.example.jp"},
		"hxxp://bad.example[.]net/a?b=1 にアクセス":                                 {"url http://bad.example.net/a?b=1"},
		"hXXps[://]login.example[.]org/path。":                                  {"url https://login.example.org/path"},
		"送信元 attacker[at]example[.]co.jp より":                                   {"email-addr attacker@example.co.jp"},
		"差出人：ｓｐｏｏｆ＠ｅｘａｍｐｌｅ．ｃｏｍ":                                                {"email-addr spoof@example.com"},
		"ｈｘｘｐ：／／ｍａｌ．ｅｘａｍｐｌｅ．ｎｅｔ／ｘ":                                             {"url http://mal.example.net/x"},
		"接続元 203.0.113[.]7、203[.]0[.]113[.]8":                                  {"ipv4-addr 203.0.113.7", "ipv4-addr 203.0.113.8"},
		"ＩＰ：１９８．５１．１００．２ から":                                                   {"ipv4-addr 198.51.100.2"},
		"IPv6 2001:db8:0:0::1 と fe80::1%eth0":                                  {"ipv6-addr 2001:db8::1", "ipv6-addr fe80::1"},
		"MD5 D41D8CD98F00B204E9800998ECF8427E":                                 {"file MD5 d41d8cd98f00b204e9800998ecf8427e"},
		"SHA1:da39a3ee5e6b4b0d3255bfef95601890afd80709":                        {"file SHA-1 da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 を検出": {"file SHA-256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		"不審なファイル invoice.pdf.exe と report.docx、Node.js の脆弱性":                   nil,
		"バージョン 1.2.3.4.5 と 10:20:30 に再起動、v2.0.1":                               nil,
		"README.md を参照":                                                        nil,
		"example[.]zip は実在するドメイン":                                              {"domain-name example.zip"},
		"www.nisc.go.jp と https://www.example.com/a_(b)).":                     {"domain-name www.nisc.go.jp", "url https://www.example.com/a_(b)"},
		"同じ example.com と example[.]com":                                       {"domain-name example.com"},
	} {
		if got := extracted(text); !slices.Equal(got, want) {
			t.Errorf("Extract(%q)\n got %q\nwant %q", text, got, want)
		}
	}
}

func TestRefang(t *testing.T) {
	for in, want := range map[string]string{
		"hxxp://example[.]com":   "http://example.com",
		"user[at]example(dot)jp": "user@example.jp",
		"ｅｘａｍｐｌｅ．ｃｏｍ":            "example.com",
		"myfxpserver":            "myfxpserver", // a scheme only where a scheme stands
		"㍿①":                     "㍿①",          // no compatibility mapping beyond width
	} {
		if got := stix.Refang(in); got != want {
			t.Errorf("Refang(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPatterns(t *testing.T) {
	for o, want := range map[stix.Observable]string{
		{Type: "url", Value: `http://x.example/it's\`}: `[url:value = 'http://x.example/it\'s\\']`,
		{Type: "file", Value: "00", Hash: "MD5"}:       `[file:hashes.MD5 = '00']`,
		{Type: "file", Value: "00", Hash: "SHA-256"}:   `[file:hashes.'SHA-256' = '00']`,
		{Type: "domain-name", Value: "example.com"}:    `[domain-name:value = 'example.com']`,
	} {
		if got := o.Pattern(); got != want {
			t.Errorf("%v: %s, want %s", o, got, want)
		}
	}
}

func ExampleExtract() {
	for _, o := range stix.Extract("hxxps://evil[.]example/x と 198.51.100[.]9") {
		fmt.Println(o.Type, o.Value)
	}
	// Output:
	// url https://evil.example/x
	// ipv4-addr 198.51.100.9
}
