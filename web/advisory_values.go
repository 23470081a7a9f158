package web

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"kyoyu"
)

// The figure-7 form's field names are the advisory service's (the keys of
// kyoyu.Error.Fields), so a refusal lands next to its field.

// advInput is the draft form as typed (or as stored, on first display)
// with each field's problem as the service named it.
type advInput struct {
	lang     string
	Values   url.Values
	Problems map[string]string
}

// Value is what was typed into a field.
func (in *advInput) Value(name string) string { return in.Values.Get(name) }

// Has reports whether a checkbox, radio or option with value v is chosen.
func (in *advInput) Has(name, v string) bool { return slices.Contains(in.Values[name], v) }

// advFieldError is a problem as the template shows it, with the id the
// field's aria-describedby points at.
type advFieldError struct{ ID, Msg string }

// Err is the translated problem with a field, or an empty Msg.
func (in *advInput) Err(name string) advFieldError {
	fe := advFieldError{ID: advErrorID(name)}
	if code := in.Problems[name]; code != "" {
		fe.Msg = advProblem(in.lang, code)
	}
	return fe
}

func advErrorID(name string) string { return strings.ReplaceAll(name, ".", "-") + "-error" }

// advPairValue is a recipient checkbox's value: "ministryID:sector".
func advPairValue(p kyoyu.RecipientPair) string { return fmt.Sprintf("%d:%s", p.MinistryID, p.Sector) }

// advFormValues turns a stored form into the values the page shows.
func advFormValues(f kyoyu.AdvisoryForm) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("reason", string(f.Reason))
	set("importance", f.Importance)
	set("tlp", f.TLP)
	set("tlp_note", f.TLPNote)
	set("title", f.Title)
	set("summary", f.Summary)
	set("targets", f.Targets)
	set("actions", f.Actions)
	set("other", f.Other)
	set("contact.organisation", f.Contact.Organisation)
	set("contact.department", f.Contact.Department)
	set("contact.name", f.Contact.Name)
	set("contact.phone", f.Contact.Phone)
	set("contact.fax", f.Contact.Fax)
	set("contact.email", f.Contact.Email)
	for _, p := range f.Recipients {
		v.Add("recipients", advPairValue(p))
	}
	for _, id := range f.ExtraRecipients {
		v.Add("extra_recipients", strconv.FormatInt(id, 10))
	}
	for _, id := range f.Excluded {
		v.Add("excluded", strconv.FormatInt(id, 10))
	}
	v["resolved"] = slices.Clone(f.Resolved)
	return v
}

// advParseForm reads the posted form. Text is kept as typed (line ends
// normalised). The source cases are the draft's own, never the page's, and
// the exclusions carried from them are always kept: the page shows them
// read-only and a crafted request cannot lift them. What cannot be read is
// named in the problems.
func advParseForm(v url.Values, stored kyoyu.AdvisoryForm, carried []int64) (kyoyu.AdvisoryForm, map[string]string) {
	problems := map[string]string{}
	line := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	text := func(k string) string { return strings.ReplaceAll(v.Get(k), "\r\n", "\n") }
	ids := func(k string) []int64 {
		var out []int64
		for _, s := range v[k] {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil || id <= 0 {
				problems[k] = "invalid_choice"
				continue
			}
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
		return out
	}
	f := kyoyu.AdvisoryForm{
		Reason: kyoyu.AdvisoryReason(line("reason")), Importance: line("importance"), TLP: line("tlp"),
		TLPNote: text("tlp_note"), Title: line("title"), Summary: text("summary"), Targets: text("targets"),
		Actions: text("actions"), Other: text("other"),
		Contact: kyoyu.Contact{Organisation: line("contact.organisation"), Department: line("contact.department"),
			Name: line("contact.name"), Phone: line("contact.phone"), Fax: line("contact.fax"), Email: line("contact.email")},
		SourceCases:     stored.SourceCases,
		ExtraRecipients: ids("extra_recipients"),
		Excluded:        ids("excluded"),
	}
	for _, s := range v["recipients"] {
		mid, sector, ok := strings.Cut(strings.TrimSpace(s), ":")
		id, err := strconv.ParseInt(mid, 10, 64)
		if !ok || err != nil || id <= 0 || sector == "" {
			problems["recipients"] = "invalid_choice"
			continue
		}
		p := kyoyu.RecipientPair{MinistryID: id, Sector: sector}
		if !slices.Contains(f.Recipients, p) {
			f.Recipients = append(f.Recipients, p)
		}
	}
	for _, id := range carried {
		if !slices.Contains(f.Excluded, id) {
			f.Excluded = append(f.Excluded, id)
		}
	}
	for _, s := range v["resolved"] {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(f.Resolved, s) {
			f.Resolved = append(f.Resolved, s)
		}
	}
	return f, problems
}

// advProblemRow is one problem in the summary above the form, linking to
// its field.
type advProblemRow struct{ Label, Msg, Anchor string }

// advSummary lists every problem in a stable order, so none goes unseen
// even when its field is far down the page.
func advSummary(lang string, problems map[string]string) []advProblemRow {
	keys := make([]string, 0, len(problems))
	for k := range problems {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []advProblemRow
	for _, k := range keys {
		out = append(out, advProblemRow{Label: T(lang, "advisories.f."+k), Msg: advProblem(lang, problems[k]), Anchor: advErrorID(k)})
	}
	return out
}

// advMerge adds b's problems to a copy of a; b wins, being the more
// specific (a value that could not be read).
func advMerge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// advFieldText is the text of a field the highlights name.
func advFieldText(f kyoyu.AdvisoryForm, field string) string {
	switch field {
	case "title":
		return f.Title
	case "summary":
		return f.Summary
	case "targets":
		return f.Targets
	case "actions":
		return f.Actions
	case "other":
		return f.Other
	}
	return ""
}
