package web

import (
	"context"
	"fmt"

	"kyoyu"
	"kyoyu/policy"
)

// advBox is one choice of the sheet, ticked or not, as the paper form
// draws it.
type advBox struct {
	Code, Label, Note string
	Checked           bool
}

// Box is ☑ or ☐.
func (b advBox) Box() string {
	if b.Checked {
		return "☑"
	}
	return "☐"
}

// advSheet is an advisory laid out like figure 7 of the handbook
// (情報提供様式): the heading's importance, 第N報, 識別番号, the time of
// issue, the recipient ministries and sectors, the sharing range with its
// texts, ①–④ and NISC's contact.
type advSheet struct {
	lang        string
	Importance  []advBox
	ReportN     string
	Number      string
	IssuedAt    string
	Draft       bool
	Title       string
	Recipients  []string
	TLP         []advBox
	TLPNote     string
	Summary     string
	Targets     string
	Actions     string
	Other       string
	Contact     kyoyu.Contact
	Attachments []advBox
}

// T translates a key in the sheet's language.
func (s *advSheet) T(key string) string { return T(s.lang, key) }

// advImportances are figure 7's heading, in its order.
var advImportances = []string{"warning", "advisory", "info"}

// advTLPs are the sharing ranges, narrowest first.
var advTLPs = []string{string(policy.Red), string(policy.Amber), string(policy.Green), string(policy.White)}

// advTLPBoxes are figure 7's range boxes with their texts for advisories
// (which differ from the report form's).
func advTLPBoxes(lang, chosen string) []advBox {
	var out []advBox
	for _, t := range advTLPs {
		b := advBox{Code: t, Label: T(lang, "advisories.tlp."+t), Checked: t == chosen}
		if t != string(policy.White) {
			b.Note = T(lang, "advisories.tlp_text."+t)
		}
		out = append(out, b)
	}
	return out
}

// advTime is a time of issue: JST, with the date in the Japanese era on
// Japanese pages, as official forms write it.
func advTime(lang string, t *kyoyu.Advisory) string {
	if t.PublishedAt == nil {
		return ""
	}
	s := kyoyu.FormatJST(*t.PublishedAt)
	if lang != "en" {
		s += "（" + kyoyu.Wareki(*t.PublishedAt) + "）"
	}
	return s
}

// advSectorNames gives sectors' names in a language.
func (h *Handler) advSectorNames(ctx context.Context, lang string) (map[string]string, error) {
	ss, err := h.db.Sectors(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, s := range ss {
		out[s.Code] = s.NameJA
		if lang == "en" && s.NameEN != "" {
			out[s.Code] = s.NameEN
		}
	}
	return out, nil
}

// advRecipientLabel is "経済産業省（電力）".
func advRecipientLabel(lang string, names *advOrgNames, sectors map[string]string, p kyoyu.RecipientPair) string {
	sec := sectors[p.Sector]
	if sec == "" {
		sec = p.Sector
	}
	if lang == "en" {
		return fmt.Sprintf("%s (%s)", names.name(p.MinistryID), sec)
	}
	return fmt.Sprintf("%s（%s）", names.name(p.MinistryID), sec)
}

// newAdvSheet lays an advisory out; draft marks a version not yet published.
func (h *Handler) newAdvSheet(ctx context.Context, lang string, a *kyoyu.Advisory, draft bool) (*advSheet, error) {
	sectors, err := h.advSectorNames(ctx, lang)
	if err != nil {
		return nil, err
	}
	names := h.advOrgNames(ctx, lang)
	f := a.Form
	s := &advSheet{lang: lang, ReportN: advSprintf(lang, "advisories.report_n", a.ReportNumber), Number: a.Number,
		IssuedAt: advTime(lang, a), Draft: draft, Title: f.Title, TLPNote: f.TLPNote, Summary: f.Summary,
		Targets: f.Targets, Actions: f.Actions, Other: f.Other, Contact: f.Contact}
	if draft {
		s.IssuedAt = ""
	}
	for _, imp := range advImportances {
		s.Importance = append(s.Importance, advBox{Code: imp, Label: T(lang, "advisories.importance."+imp), Checked: f.Importance == imp})
	}
	// The range in force: the published one (a forward may have narrowed
	// it since), or for a draft the one chosen.
	tlp := a.TLP
	if draft || tlp == "" {
		tlp = f.TLP
	}
	s.TLP = advTLPBoxes(lang, tlp)
	for _, p := range f.Recipients {
		s.Recipients = append(s.Recipients, advRecipientLabel(lang, names, sectors, p))
	}
	// Advisories carry no 別紙 in this system: the content is the sheet.
	s.Attachments = []advBox{{Code: "yes", Label: T(lang, "advisories.sheet.yes")}, {Code: "no", Label: T(lang, "advisories.sheet.no"), Checked: true}}
	return s, nil
}
