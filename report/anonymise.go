package report

import (
	"context"
	"regexp"
	"sort"
	"strings"

	"kyoyu"
	"kyoyu/store"
)

// Identifiers are the strings that would reveal an anonymised operator:
// its names, its staff's names and e-mail addresses, its domains.
type Identifiers struct {
	Names   []string // organisation names and their short forms, staff names
	Domains []string // e-mail and web domains
	Emails  []string
	Phones  []string // as the operator wrote them in its sender block
}

// withContact adds the operator's own sender block (as it reported) to the
// identifiers.
func (ids Identifiers) withContact(c kyoyu.Contact) Identifiers {
	add := func(list *[]string, v string) {
		v = strings.TrimSpace(v)
		if len([]rune(v)) >= 2 && !contains(*list, v) {
			*list = append(*list, v)
		}
	}
	add(&ids.Names, c.Name)
	add(&ids.Emails, c.Email)
	if i := strings.LastIndex(c.Email, "@"); i > 0 {
		add(&ids.Domains, c.Email[i+1:])
	}
	add(&ids.Phones, c.Phone)
	add(&ids.Phones, c.Fax)
	sort.Slice(ids.Names, func(i, j int) bool { return len(ids.Names[i]) > len(ids.Names[j]) })
	return ids
}

// legal forms stripped to find the short name people actually write.
var legalForms = []string{"株式会社", "（株）", "(株)", "有限会社", "合同会社", "一般社団法人", "公益社団法人", "一般財団法人", "公益財団法人", "独立行政法人"}

// identifiers collects what identifies the operator of a case.
func (s *Service) identifiers(ctx context.Context, ref *store.CaseRef) (Identifiers, error) {
	var ids Identifiers
	add := func(list *[]string, v string) {
		v = strings.TrimSpace(v)
		if len([]rune(v)) >= 2 && !contains(*list, v) {
			*list = append(*list, v)
		}
	}
	add(&ids.Names, ref.OperatorName)
	if ref.Operator != 0 {
		org, err := s.DB.Organisation(ctx, ref.Operator)
		if err != nil {
			return ids, err
		}
		for _, n := range []string{org.NameJA, org.NameEN} {
			add(&ids.Names, n)
			short := n
			for _, lf := range legalForms {
				short = strings.ReplaceAll(short, lf, "")
			}
			add(&ids.Names, short)
		}
		people, err := s.DB.People(ctx, ref.Operator)
		if err != nil {
			return ids, err
		}
		for _, p := range people {
			add(&ids.Names, p.Name)
			add(&ids.Emails, p.Email)
			if i := strings.LastIndex(p.Email, "@"); i > 0 {
				add(&ids.Domains, p.Email[i+1:])
			}
		}
	}
	// Longest first, so a full name is replaced before its short form.
	sort.Slice(ids.Names, func(i, j int) bool { return len(ids.Names[i]) > len(ids.Names[j]) })
	return ids, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// textFields visits every free-text field of a form, by field name, and
// lets fn replace it.
func textFields(f *kyoyu.ReportForm, fn func(field string, v string) string) {
	f.Reporter.Organisation = fn("reporter.organisation", f.Reporter.Organisation)
	f.Reporter.Department = fn("reporter.department", f.Reporter.Department)
	f.Reporter.Name = fn("reporter.name", f.Reporter.Name)
	f.Reporter.Phone = fn("reporter.phone", f.Reporter.Phone)
	f.Reporter.Fax = fn("reporter.fax", f.Reporter.Fax)
	f.Reporter.Email = fn("reporter.email", f.Reporter.Email)
	f.OperatorName = fn("operator_name", f.OperatorName)
	f.TLPNote = fn("tlp_note", f.TLPNote)
	f.AffectedSystem = fn("affected_system", f.AffectedSystem)
	f.Description = fn("description", f.Description)
	f.Supplementary = fn("supplementary", f.Supplementary)
	f.PressTitle = fn("press_title", f.PressTitle)
	f.OtherBodiesNotified = fn("other_bodies_notified", f.OtherBodiesNotified)
	f.Lessons = fn("lessons", f.Lessons)
	for i := range f.Timeline {
		f.Timeline[i].Event = fn("timeline", f.Timeline[i].Event)
	}
}

// Anonymise returns a copy of the form with the operator's names replaced by
// its label and its addresses and domains masked. The secretariat reviews
// the result, helped by Findings, before sending it on.
func Anonymise(f kyoyu.ReportForm, ids Identifiers, label string) kyoyu.ReportForm {
	out := f
	out.Timeline = append([]kyoyu.TimelineRow(nil), f.Timeline...)
	textFields(&out, func(_ string, v string) string {
		for _, e := range ids.Emails {
			v = replaceFold(v, e, "（メールアドレス削除）")
		}
		for _, d := range ids.Domains {
			v = replaceFold(v, d, "（ドメイン削除）")
		}
		for _, ph := range ids.Phones {
			v = replaceFold(v, ph, "（電話番号削除）")
		}
		for _, n := range ids.Names {
			v = replaceFold(v, n, label)
		}
		return v
	})
	out.OperatorName = label
	return out
}

func replaceFold(s, old, repl string) string {
	if old == "" {
		return s
	}
	re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(old))
	return re.ReplaceAllLiteralString(s, repl)
}

// Leaks returns the fields of an anonymised form that still hold one of
// the operator's identifiers; sending on is refused while there are any.
func Leaks(f kyoyu.ReportForm, ids Identifiers) map[string]string {
	out := map[string]string{}
	textFields(&f, func(field string, v string) string {
		for _, list := range [][]string{ids.Names, ids.Domains, ids.Emails, ids.Phones} {
			for _, id := range list {
				if id != "" && strings.Contains(strings.ToLower(v), strings.ToLower(id)) {
					out[field] = "identifies_source"
				}
			}
		}
		return v
	})
	return out
}

// Finding is a span of text that looks identifying, for the secretariat
// to review: the operator's own identifiers, and any e-mail address,
// phone number, URL or domain.
type Finding struct {
	Field string `json:"field"`
	Text  string `json:"text"`
	Kind  string `json:"kind"` // name, domain, email, phone, url
	// Source is true for the operator's own identifiers: those block sending.
	Source bool `json:"source"`
}

var (
	reEmail  = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	reURL    = regexp.MustCompile(`(?i)\b(?:https?|hxxps?)://[^\s<>"'）」]+`)
	rePhone  = regexp.MustCompile(`(?:\+81[\- ]?|0)\d{1,4}[\- ]?\d{1,4}[\- ]?\d{3,4}`)
	reDomain = regexp.MustCompile(`(?i)\b[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?(?:\.|\[\.\])(?:[a-z0-9\-]+(?:\.|\[\.\]))*(?:jp|com|net|org|info|biz|io|co)\b`)
)

// Findings lists what looks identifying in a form's free text.
func Findings(f kyoyu.ReportForm, ids Identifiers) []Finding {
	var out []Finding
	seen := map[string]bool{}
	add := func(fd Finding) {
		k := fd.Field + "\x00" + fd.Kind + "\x00" + fd.Text
		if !seen[k] {
			seen[k] = true
			out = append(out, fd)
		}
	}
	textFields(&f, func(field string, v string) string {
		lower := strings.ToLower(v)
		for _, n := range ids.Names {
			if strings.Contains(lower, strings.ToLower(n)) {
				add(Finding{Field: field, Text: n, Kind: "name", Source: true})
			}
		}
		for _, d := range ids.Domains {
			if strings.Contains(lower, strings.ToLower(d)) {
				add(Finding{Field: field, Text: d, Kind: "domain", Source: true})
			}
		}
		for _, m := range reEmail.FindAllString(v, -1) {
			add(Finding{Field: field, Text: m, Kind: "email", Source: contains(ids.Emails, m)})
		}
		for _, m := range reURL.FindAllString(v, -1) {
			add(Finding{Field: field, Text: m, Kind: "url"})
		}
		for _, m := range rePhone.FindAllString(v, -1) {
			add(Finding{Field: field, Text: m, Kind: "phone", Source: contains(ids.Phones, m)})
		}
		for _, m := range reDomain.FindAllString(v, -1) {
			if !strings.Contains(m, "@") {
				add(Finding{Field: field, Text: m, Kind: "domain", Source: contains(ids.Domains, m)})
			}
		}
		return v
	})
	return out
}

// suggestLabel proposes a label such as 電力事業者C: the sector's name and
// a letter not yet used by this secretariat.
func (s *Service) suggestLabel(ctx context.Context, ref *store.CaseRef, sector string) (string, error) {
	name := "事業者"
	sectors, err := s.DB.Sectors(ctx)
	if err != nil {
		return "", err
	}
	for _, sec := range sectors {
		if sec.Code == sector {
			name = sec.NameJA + "事業者"
		}
	}
	n, err := s.DB.CountLabels(ctx, ref.Secretariat)
	if err != nil {
		return "", err
	}
	return name + letters(n), nil
}

// letters turns 0, 1, … 25, 26 … into A, B, … Z, AA …
func letters(n int) string {
	s := ""
	for n >= 0 {
		s = string(rune('A'+n%26)) + s
		n = n/26 - 1
	}
	return s
}
