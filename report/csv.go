package report

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/audit"
	"kyoyu/policy"
	"kyoyu/store"
)

// CSVMaxRows bounds a CSV export of the case list; a larger list is cut
// there, and its last line says so.
const CSVMaxRows = 100_000

// csvPage is how many cases an export reads at once (keyset paging): it
// never holds more than one page.
const csvPage = 200

// csvBOM makes Excel read the file as UTF-8 (without it, Japanese Excel
// assumes Shift_JIS).
const csvBOM = "\ufeff"

// CasesCSVOptions choose what a CSV export of the case list holds.
type CasesCSVOptions struct {
	// Filter is the list's filter; paging and counting are the export's.
	Filter store.CaseFilter
	// Lang is "ja" (the default) or "en": the headings and the names of
	// sectors and classifications.
	Lang string
	// Status names a case's status; nil writes its code.
	Status func(kyoyu.CaseStatus) string
	// AnonymisedNote follows the operator of an anonymised case, as the
	// list shows it (e.g. "（匿名化）"); empty writes nothing.
	AnonymisedNote string
	// Describe is the filter as given, for the audit entry.
	Describe string
	// MaxRows lowers CSVMaxRows (tests); 0 keeps it.
	MaxRows int
	// Begin, if set, is called once the first page is read, before the
	// first byte is written: an export refused before then (a query the
	// list refuses) has written nothing, and the caller may still answer
	// with an error.
	Begin func()
}

// CSVAccount is what an export wrote.
type CSVAccount struct {
	Rows      int
	Truncated bool
}

// csvHeadings are the columns, per language.
var csvHeadings = map[string][]string{
	"ja": {"識別番号", "報数", "受付日時", "最終報告日時", "事業者", "分野", "重要度", "事象分類", "情報共有範囲", "状況", "続報期限超過", "件名"},
	"en": {"Case number", "Reports", "Received at", "Last report at", "Operator", "Sector", "Importance", "Event class", "TLP", "Status", "Follow-up overdue", "Title"},
}

// CSVHeadings are the column headings of a CSV export in lang.
func CSVHeadings(lang string) []string {
	if h, ok := csvHeadings[lang]; ok {
		return h
	}
	return csvHeadings["ja"]
}

// ExportCasesCSV writes the case list as the person sees it, filtered as
// given, as CSV to w: UTF-8 with a BOM, CRLF lines, one row per case,
// newest activity first, at most CSVMaxRows (a last line says when the
// list was cut). The list is read through the store's list query
// (policy.Where) a page at a time, so nothing is held beyond a page and
// nothing the person may not see is read; the operator is the name or the
// label the list shows this person. Each page's RED and AMBER rows are
// audited before they are written, and the export itself — who, the
// filter, how many rows — when it ends, even if the writer failed.
// Cells that a spreadsheet would take for a formula are neutralised.
func (s *Service) ExportCasesCSV(ctx context.Context, pr *account.Principal, ip string, opt CasesCSVOptions, w io.Writer) (acc CSVAccount, err error) {
	names, err := s.csvNames(ctx, opt.Lang)
	if err != nil {
		return acc, err
	}
	limit := CSVMaxRows
	if opt.MaxRows > 0 && opt.MaxRows < limit {
		limit = opt.MaxRows
	}
	defer func() {
		// The export is audited however it ended; a client that hung up
		// still received what was written.
		detail := fmt.Sprintf("rows=%d truncated=%t filter=%s", acc.Rows, acc.Truncated, opt.Describe)
		if err != nil {
			detail += " error=" + err.Error()
		}
		outcome := audit.OK
		if err != nil {
			outcome = audit.Failed
		}
		e := store.EntryFor(pr.Actor(ip), "cases.export_csv", "case_list", "", outcome, detail)
		if aerr := s.DB.Audit(context.WithoutCancel(ctx), e); aerr != nil && err == nil {
			err = aerr
		}
	}()
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	f := opt.Filter
	f.Limit, f.NoTotal, f.ExactTotal, f.BeforeAt, f.BeforeID = csvPage, true, false, nil, 0
	v := viewer(pr)
	for first := true; ; first = false {
		page, err := s.DB.ListCases(ctx, v, f)
		if err != nil {
			return acc, err
		}
		if first {
			if opt.Begin != nil {
				opt.Begin()
			}
			if _, err := io.WriteString(w, csvBOM); err != nil {
				return acc, err
			}
			if err := cw.Write(CSVHeadings(opt.Lang)); err != nil {
				return acc, err
			}
		}
		cases := page.Cases
		if room := limit - acc.Rows; len(cases) > room {
			cases, acc.Truncated = cases[:room], true
		}
		var reads []audit.Entry
		for _, c := range cases {
			if c.TLP == string(policy.Red) || c.TLP == string(policy.Amber) {
				e := store.EntryFor(pr.Actor(ip), "case.export_csv", "case", fmt.Sprint(c.ID), audit.OK, "tlp="+c.TLP)
				e.ItemID = c.ItemID
				reads = append(reads, e)
			}
		}
		if err := s.DB.AuditMany(ctx, reads); err != nil {
			return acc, err
		}
		for _, c := range cases {
			if err := cw.Write(csvRow(c, names, opt)); err != nil {
				return acc, err
			}
			acc.Rows++
		}
		if acc.Rows >= limit && page.NextAt != nil {
			acc.Truncated = true
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return acc, err
		}
		if acc.Truncated || page.NextAt == nil {
			break
		}
		f.BeforeAt, f.BeforeID = page.NextAt, page.NextID
	}
	if acc.Truncated {
		note := fmt.Sprintf("# %d 件で打ち切りました。条件を絞ってください。", limit)
		if opt.Lang == "en" {
			note = fmt.Sprintf("# cut at %d rows: narrow the filter", limit)
		}
		if err = cw.Write([]string{note}); err != nil {
			return acc, err
		}
	}
	cw.Flush()
	return acc, cw.Error()
}

// csvRow is one case as the list shows it.
func csvRow(c *kyoyu.Case, names *csvNames, opt CasesCSVOptions) []string {
	operator := c.Operator
	if c.Anonymised && opt.AnonymisedNote != "" {
		operator += opt.AnonymisedNote
	}
	status := string(c.Status)
	if opt.Status != nil {
		status = opt.Status(c.Status)
	}
	last := c.CreatedAt
	if c.LastReportAt != nil {
		last = *c.LastReportAt
	}
	overdue := ""
	if c.Overdue {
		overdue = "1"
	}
	reports := ""
	if c.ReportCount > 0 {
		reports = fmt.Sprint(c.ReportCount)
	}
	row := []string{c.CaseNumber, reports, jstISO(c.ReceivedAt), jstISO(&last), operator, names.sector(c.Sector),
		names.name("importance", c.Importance), names.name("event_class", c.EventClass), c.TLP, status, overdue, c.Title}
	for i, cell := range row {
		row[i] = CSVCell(cell)
	}
	return row
}

// CSVCell neutralises a cell a spreadsheet would run as a formula (OWASP
// CSV injection): one starting with = + - @, a tab or a carriage return
// is prefixed with a quote, which spreadsheets show as text.
func CSVCell(s string) string {
	if s != "" && strings.ContainsAny(s[:1], "=+-@\t\r") {
		return "'" + s
	}
	return s
}

// jstISO is a time in JST as ISO 8601 (2026-11-20T09:30:00+09:00).
func jstISO(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(kyoyu.JST).Format(time.RFC3339)
}

// csvNames are the names of sectors and classifications in one language.
type csvNames struct {
	lang    string
	codes   map[string]kyoyu.Classification
	sectors map[string]kyoyu.Sector
}

func (s *Service) csvNames(ctx context.Context, lang string) (*csvNames, error) {
	cs, err := s.DB.Classifications(ctx, ClassificationVersion)
	if err != nil {
		return nil, err
	}
	ss, err := s.DB.Sectors(ctx)
	if err != nil {
		return nil, err
	}
	n := &csvNames{lang: lang, codes: map[string]kyoyu.Classification{}, sectors: map[string]kyoyu.Sector{}}
	for _, c := range cs {
		n.codes[c.Kind+"/"+c.Code] = c
	}
	for _, s := range ss {
		n.sectors[s.Code] = s
	}
	return n, nil
}

func (n *csvNames) pick(ja, en string) string {
	if n.lang == "en" && en != "" {
		return en
	}
	return ja
}

func (n *csvNames) name(kind, code string) string {
	if c, ok := n.codes[kind+"/"+code]; ok {
		return n.pick(c.NameJA, c.NameEN)
	}
	return code
}

func (n *csvNames) sector(code string) string {
	if s, ok := n.sectors[code]; ok {
		return n.pick(s.NameJA, s.NameEN)
	}
	return code
}
