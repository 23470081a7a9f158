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
// every token of the query must be among the case's tokens.
func (db *DB) searchCondition(ctx context.Context, q string) (string, []any, error) {
	tokens := search.QueryTokens(q)
	if len(tokens) == 0 {
		return "", nil, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "search.empty_query", Fields: map[string]string{"q": "empty"}}
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
			return "", nil, fmt.Errorf("search: %w", err)
		}
		id := "c.id"
		if n > commonMatches {
			id = "+c.id"
		}
		return id + ` IN (SELECT rowid FROM case_fts WHERE case_fts MATCH ?)`, []any{match}, nil
	}
	return `EXISTS (SELECT 1 FROM case_search cs WHERE cs.case_id = c.id AND cs.tokens @> ?::text[])`, []any{tokens}, nil
}

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
