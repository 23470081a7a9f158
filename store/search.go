package store

import (
	"context"
	"fmt"
	"strings"

	"kyoyu"
	"kyoyu/search"
)

// indexCase replaces a case's search tokens with those of its released
// text. Only released versions are indexed: what a search can match is
// what everyone who sees the case may read.
func (tx *Tx) indexCase(ctx context.Context, caseID int64, text string) error {
	tokens := search.Tokens(text)
	if tx.db.Dialect == SQLite {
		if _, err := tx.exec(ctx, `DELETE FROM case_fts WHERE rowid = ?`, caseID); err != nil {
			return fmt.Errorf("index case: %w", err)
		}
		if _, err := tx.exec(ctx, `INSERT INTO case_fts (rowid, tokens) VALUES (?, ?)`, caseID, strings.Join(tokens, " ")); err != nil {
			return fmt.Errorf("index case: %w", err)
		}
		return nil
	}
	if _, err := tx.exec(ctx, `INSERT INTO case_search (case_id, tokens) VALUES (?, ?)
		ON CONFLICT (case_id) DO UPDATE SET tokens = excluded.tokens`, caseID, tokens); err != nil {
		return fmt.Errorf("index case: %w", err)
	}
	return nil
}

// searchCondition is the SQL condition on cases c for a full-text query:
// every token of the query must be among the case's tokens. It comes in two
// forms with the same arguments, one for counting and one for reading a
// page, since the best plan for each differs with how common the words are.
func (db *DB) searchCondition(ctx context.Context, q string) (count, page string, args []any, err error) {
	tokens := search.QueryTokens(q)
	if len(tokens) == 0 {
		return "", "", nil, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "search.empty_query", Fields: map[string]string{"q": "empty"}}
	}
	if len(tokens) > 64 {
		tokens = tokens[:64]
	}
	if db.Dialect == SQLite {
		// Tokens hold only letters and digits, so quoting them is safe.
		quoted := make([]string, len(tokens))
		for i, t := range tokens {
			quoted[i] = `"` + t + `"`
		}
		match := strings.Join(quoted, " AND ")
		// A rare word is best read from the index and its few cases sorted;
		// a common one (侵入 is in a fifth of all reports) is best found by
		// reading the list in order and keeping the cases that match, as the
		// page needs only the newest. The unary + keeps SQLite from driving
		// the query from the matches; how many there are decides.
		var n int
		if err := db.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM case_fts WHERE case_fts MATCH ? LIMIT ?)`, match, commonMatches+1).Scan(&n); err != nil {
			return "", "", nil, fmt.Errorf("search: %w", err)
		}
		id := "c.id"
		if n > commonMatches {
			id = "+c.id"
		}
		cond := id + ` IN (SELECT rowid FROM case_fts WHERE case_fts MATCH ?)`
		return cond, cond, []any{match}, nil
	}
	// PostgreSQL estimates a match of several bigrams as the product of
	// their frequencies, so a common phrase (ランサムウェア: six bigrams, one
	// case in thirteen) looks like a handful of rows: it then sorts every
	// match for a page (1.5 s at 1M). Whether the phrase is common is
	// measured instead, on the newest cases — those a page reads first. A
	// common one is read for a page by walking the list in order and
	// probing each case (OFFSET 0 keeps the probe a probe); the count, which
	// stops at its bound, is best served from the index either way.
	count = `EXISTS (SELECT 1 FROM case_search cs WHERE cs.case_id = c.id AND cs.tokens @> ?::text[])`
	var hits int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT c.id FROM cases c ORDER BY COALESCE(c.last_report_at, c.created_at) DESC, c.id DESC LIMIT ?) r
		WHERE EXISTS (SELECT 1 FROM case_search cs WHERE cs.case_id = r.id AND cs.tokens @> ?::text[] OFFSET 0)`, searchSample, tokens).Scan(&hits); err != nil {
		return "", "", nil, fmt.Errorf("search: %w", err)
	}
	page = count
	if hits >= searchSampleCommon {
		page = `EXISTS (SELECT 1 FROM case_search cs WHERE cs.case_id = c.id AND cs.tokens @> ?::text[] OFFSET 0)`
	}
	return count, page, []any{tokens}, nil
}

// On PostgreSQL a search is common when at least searchSampleCommon of the
// newest searchSample cases match (2%: a page of fifty within some 2,500).
const (
	searchSample       = 500
	searchSampleCommon = 10
)

// commonMatches is where a search counts as common (see searchCondition).
const commonMatches = 5000

// releasedText is what a case offers to search: the label or name the
// released forms carry, and every released version's text.
func releasedText(f kyoyu.ReportForm) string {
	parts := []string{f.OperatorName, f.AffectedSystem, f.Description, f.Supplementary, f.PressTitle, f.OtherBodiesNotified, f.Lessons, f.TLPNote}
	for _, r := range f.Timeline {
		parts = append(parts, r.Event)
	}
	return strings.Join(parts, "\n")
}
