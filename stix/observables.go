package stix

import (
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Observable is an indicator of compromise found in free text: an IPv4 or
// IPv6 address, a domain name, a URL, an e-mail address or a file hash.
type Observable struct {
	Type  string // the SCO type: ipv4-addr, ipv6-addr, domain-name, url, email-addr, file
	Value string // refanged and normalised; the hash for a file
	Hash  string // for a file: MD5, SHA-1 or SHA-256
}

// defangs are the spellings people use to keep an indicator from being a
// link — example[.]com, user[at]example.com, hxxp:// — refanged to what
// they stand for. Width is folded first, so ［．］ and ＠ arrive as [.] and @.
var defangs = []struct {
	from, to string
	scheme   bool // only as a URL's scheme: at a word's start, before ":" or "["
}{
	{"[.]", ".", false}, {"(.)", ".", false}, {"{.}", ".", false}, {"[dot]", ".", false}, {"(dot)", ".", false}, {"{dot}", ".", false},
	{"[at]", "@", false}, {"(at)", "@", false}, {"{at}", "@", false}, {"[@]", "@", false}, {"(@)", "@", false},
	{"[://]", "://", false}, {"[:]", ":", false}, {"[/]", "/", false},
	{"hxxps", "https", true}, {"hxxp", "http", true}, {"hxtps", "https", true}, {"hxtp", "http", true}, {"fxp", "ftp", true},
}

// schemeAt reports whether s[i:i+n] stands where a URL scheme does.
func schemeAt(s string, i, n int) bool {
	if i > 0 && isAlnum(s[i-1]) {
		return false
	}
	return i+n < len(s) && (s[i+n] == ':' || s[i+n] == '[')
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// asciiLower lowers ASCII letters only, so byte offsets stay those of s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// fullWidthMarks are full-width characters that, in Japanese text, defang
// on purpose (or by IME): example．com, user＠example.jp, hxxp：／／.
var fullWidthMarks = []rune{'．', '＠', '／', '：', '［', '］'}

// refang returns text with defanged spellings undone and full-width forms
// folded to ASCII, and for each byte of the result whether it came from a
// defanged spelling — a domain so written is one for sure.
func refang(text string) (string, []bool) {
	var b strings.Builder
	marks := make([]bool, 0, len(text))
	write := func(s string, mark bool) {
		b.WriteString(s)
		for range len(s) {
			marks = append(marks, mark)
		}
	}
	// Fold width rune by rune, so marks line up with what follows.
	var folded strings.Builder
	var foldedMarks []bool
	for _, r := range text {
		s := string(r)
		mark := slices.Contains(fullWidthMarks, r)
		if r >= 0xFF01 && r <= 0xFF5E {
			s = width.Fold.String(s)
		}
		folded.WriteString(s)
		for range len(s) {
			foldedMarks = append(foldedMarks, mark)
		}
	}
	in := folded.String()
	lower := asciiLower(in)
next:
	for i := 0; i < len(in); {
		for _, d := range defangs {
			if strings.HasPrefix(lower[i:], d.from) && (!d.scheme || schemeAt(lower, i, len(d.from))) {
				write(d.to, true)
				i += len(d.from)
				continue next
			}
		}
		_, n := utf8.DecodeRuneInString(in[i:])
		write(in[i:i+n], foldedMarks[i])
		i += n
	}
	return b.String(), marks
}

// Refang undoes defanging (example[.]com, hxxp://, [at], full-width ．／＠).
func Refang(text string) string {
	s, _ := refang(text)
	return s
}

var (
	urlRE    = regexp.MustCompile(`(?i)\b(?:https?|ftp)://[!-~]+`)
	emailRE  = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?`)
	ipv4RE   = regexp.MustCompile(`\d{1,3}(?:\.\d{1,3}){3}`)
	ipv6RE   = regexp.MustCompile(`[0-9A-Fa-f]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*`)
	hashRE   = regexp.MustCompile(`[0-9A-Fa-f]{32,}`)
	domainRE = regexp.MustCompile(`(?i)[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)+`)
)

// hashTypes names a hex string by its length.
var hashTypes = map[int]string{32: "MD5", 40: "SHA-1", 64: "SHA-256"}

// Extract finds the observables in text, in order of first appearance,
// each once. Defanged forms are refanged; a bare name such as report.pdf
// or Node.js is not taken for a domain (see plausibleDomain).
func Extract(text string) []Observable {
	s, marks := refang(text)
	type found struct {
		at int
		o  Observable
	}
	var out []found
	masked := []byte(s)
	mask := func(a, b int) {
		for i := a; i < b; i++ {
			masked[i] = ' '
		}
	}
	isWord := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	// URLs first: what they contain is part of them.
	for _, m := range urlRE.FindAllStringIndex(string(masked), -1) {
		end := m[0] + len(trimURL(s[m[0]:m[1]]))
		if u, ok := cleanURL(s[m[0]:end]); ok {
			out = append(out, found{m[0], Observable{Type: "url", Value: u}})
		}
		mask(m[0], m[1])
	}
	for _, m := range emailRE.FindAllStringIndex(string(masked), -1) {
		local, domain, _ := strings.Cut(s[m[0]:m[1]], "@")
		domain = strings.ToLower(domain)
		if !strings.HasPrefix(local, ".") && !strings.HasSuffix(local, ".") && plausibleDomain(domain, anyMark(marks, m[0], m[1])) {
			out = append(out, found{m[0], Observable{Type: "email-addr", Value: local + "@" + domain}})
		}
		mask(m[0], m[1])
	}
	for _, m := range hashRE.FindAllStringIndex(string(masked), -1) {
		alg, ok := hashTypes[m[1]-m[0]]
		if ok && (m[0] == 0 || !isWord(masked[m[0]-1])) && (m[1] == len(masked) || !isWord(masked[m[1]])) {
			out = append(out, found{m[0], Observable{Type: "file", Value: strings.ToLower(s[m[0]:m[1]]), Hash: alg}})
		}
		mask(m[0], m[1])
	}
	for _, m := range ipv4RE.FindAllStringIndex(string(masked), -1) {
		before := m[0] > 0 && (isWord(masked[m[0]-1]) || masked[m[0]-1] == '.')
		after := m[1] < len(masked) && (isWord(masked[m[1]]) || masked[m[1]] == '.' && m[1]+1 < len(masked) && isWord(masked[m[1]+1]))
		if a, err := netip.ParseAddr(s[m[0]:m[1]]); err == nil && !before && !after {
			out = append(out, found{m[0], Observable{Type: "ipv4-addr", Value: a.String()}})
			mask(m[0], m[1])
		}
	}
	for _, m := range ipv6RE.FindAllStringIndex(string(masked), -1) {
		cand := strings.TrimRight(s[m[0]:m[1]], ".")
		before := m[0] > 0 && isWord(masked[m[0]-1])
		after := m[0]+len(cand) < len(masked) && isWord(masked[m[0]+len(cand)])
		a, err := netip.ParseAddr(cand)
		if err == nil && a.Is6() && !a.IsUnspecified() && strings.Count(cand, ":") >= 2 && !before && !after {
			out = append(out, found{m[0], Observable{Type: "ipv6-addr", Value: a.String()}})
			mask(m[0], m[0]+len(cand))
		}
	}
	for _, m := range domainRE.FindAllStringIndex(string(masked), -1) {
		before := m[0] > 0 && (isWord(masked[m[0]-1]) || masked[m[0]-1] == '.' || masked[m[0]-1] == '@')
		after := m[1] < len(masked) && isWord(masked[m[1]])
		d := strings.ToLower(s[m[0]:m[1]])
		if !before && !after && plausibleDomain(d, anyMark(marks, m[0], m[1])) {
			out = append(out, found{m[0], Observable{Type: "domain-name", Value: d}})
		}
	}
	slices.SortStableFunc(out, func(a, b found) int { return a.at - b.at })
	var obs []Observable
	seen := map[Observable]bool{}
	for _, f := range out {
		if !seen[f.o] {
			seen[f.o] = true
			obs = append(obs, f.o)
		}
	}
	return obs
}

func anyMark(marks []bool, a, b int) bool { return slices.Contains(marks[a:b], true) }

// trimURL drops what ends a sentence rather than the URL: trailing
// punctuation, and a closing bracket that opens nowhere in the URL.
func trimURL(u string) string {
	for len(u) > 0 {
		c := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?'\"", c) >= 0:
		case c == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
		case c == ']' && strings.Count(u, "[") < strings.Count(u, "]"):
		case c == '>' || c == '}':
		default:
			return u
		}
		u = u[:len(u)-1]
	}
	return u
}

// cleanURL accepts a URL with a host that is a plausible domain or an IP
// address, with its scheme and host in lower case.
func cleanURL(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil && u.User.Username() == "" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err != nil && !plausibleDomain(host, true) {
		return "", false
	}
	scheme, rest, _ := strings.Cut(s, "://")
	return strings.ToLower(scheme) + "://" + rest, true
}

// fileExtensions are endings that make report.pdf or Node.js look like
// domains; written plainly, such a name is taken for a file. Defanged
// (example[.]zip) it is a domain whatever its ending.
var fileExtensions = map[string]bool{}

// genericTLDs are the generic top-level domains accepted when written
// plainly; any two-letter country code is accepted too.
var genericTLDs = map[string]bool{}

func init() {
	for _, e := range strings.Fields(`exe dll sys bat cmd com1 ps1 psm1 vbs vbe js jse ts wsf wsh hta lnk scr msi msp cpl jar class
		py pyc sh bash pl pm rb php asp aspx jsp cgi html htm xhtml xml json yaml yml toml txt log csv tsv md rst rtf
		doc docx docm dot dotm xls xlsx xlsm xlsb ppt pptx pptm pdf odt ods odp one eml msg pst ost vcf ics
		zip rar 7z gz tgz bz2 xz tar cab iso img dmg vhd vhdx apk ipa deb rpm
		jpg jpeg png gif bmp svg tif tiff webp ico heic mp3 mp4 mov avi wav wmv mkv flac
		ini cfg conf inf reg bin dat tmp bak old db sqlite sql mdb accdb dmp pcap pcapng cer crt pem key pfx p12
		c h cc cpp hpp cs go rs java kt swift vb lua r m mm sln proj csproj vcxproj lock sum mod`) {
		fileExtensions[e] = true
	}
	for _, t := range strings.Fields(`com net org info biz edu gov mil int name pro aero coop museum mobi asia tel travel jobs cat
		app dev page cloud online site tech shop store top xyz club live news blog icu vip work link click space website
		fun host email support services network systems digital solutions company group global world today life email`) {
		genericTLDs[t] = true
	}
}

// plausibleDomain accepts a name whose last label is alphabetic, of a
// known top-level domain and not a file ending — unless it was defanged,
// which says it is a domain.
func plausibleDomain(d string, defanged bool) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	labels := strings.Split(d, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return false
		}
	}
	tld := labels[len(labels)-1]
	if strings.HasPrefix(tld, "xn--") && len(tld) > 4 {
		return true
	}
	for _, c := range tld {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	if len(tld) < 2 {
		return false
	}
	if defanged {
		return true
	}
	return !fileExtensions[tld] && (genericTLDs[tld] || len(tld) == 2)
}

// scoID is the deterministic id STIX 2.1 §2.9 gives an observable: UUIDv5
// over the canonical JSON of its id-contributing properties.
func scoID(typ string, contributing map[string]any) string {
	raw, err := marshal(contributing)
	if err != nil {
		panic(err) // strings and maps of strings always encode
	}
	return typ + "--" + uuid5(scoNamespace, string(raw))
}

// patternString quotes a value for a STIX pattern (§9.2: \' and \\).
func patternString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// Pattern is the STIX pattern that matches the observable.
func (o Observable) Pattern() string {
	if o.Type == "file" {
		path := "hashes.MD5"
		if o.Hash != "MD5" {
			path = "hashes." + patternString(o.Hash)
		}
		return "[file:" + path + " = " + patternString(o.Value) + "]"
	}
	return "[" + o.Type + ":value = " + patternString(o.Value) + "]"
}
