package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/search"
)

// Bulk loading is for generated data sets (the national-scale benchmark
// data), never for user actions: rows carry their ids, are written many to
// a statement inside one transaction per batch, and are not audited. The
// rows are the same a case walked through the reporting flow would leave:
// item, relations, case columns, causes, released versions and the search
// index in the format indexCase writes.

// BulkIDs are the largest ids in use, so a generator can number new rows.
type BulkIDs struct {
	Organisation, Person, Item, Case, Version, Attachment int64
}

// BulkMaxIDs returns the largest id of each table a bulk load writes.
func (db *DB) BulkMaxIDs(ctx context.Context) (BulkIDs, error) {
	var ids BulkIDs
	for _, t := range []struct {
		table string
		dst   *int64
	}{{"organisations", &ids.Organisation}, {"people", &ids.Person}, {"items", &ids.Item}, {"cases", &ids.Case},
		{"report_versions", &ids.Version}, {"attachments", &ids.Attachment}} {
		if err := db.queryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM `+t.table).Scan(t.dst); err != nil {
			return ids, fmt.Errorf("max id of %s: %w", t.table, err)
		}
	}
	return ids, nil
}

// BulkOrganisations writes organisations with their ids, kinds, sectors and
// CEPTOAR memberships.
func (db *DB) BulkOrganisations(ctx context.Context, orgs []*kyoyu.Organisation) error {
	return db.bulkUpdate(ctx, func(tx *Tx) error {
		var os, ks, ss, cs [][]any
		for _, o := range orgs {
			var code any
			if o.Code != "" {
				code = o.Code
			}
			os = append(os, []any{o.ID, code, o.NameJA, o.NameEN, tx.now})
			for _, k := range o.Kinds {
				ks = append(ks, []any{o.ID, string(k)})
			}
			for _, s := range o.Sectors {
				ss = append(ss, []any{o.ID, s})
			}
			for _, c := range o.CEPTOARs {
				cs = append(cs, []any{c, o.ID})
			}
		}
		return firstErr(
			func() error {
				return tx.insertRows(ctx, "organisations", []string{"id", "code", "name_ja", "name_en", "created_at"}, os)
			},
			func() error { return tx.insertRows(ctx, "organisation_kinds", []string{"organisation_id", "kind"}, ks) },
			func() error {
				return tx.insertRows(ctx, "organisation_sectors", []string{"organisation_id", "sector_code"}, ss)
			},
			func() error {
				return tx.insertRows(ctx, "ceptoar_members", []string{"ceptoar_code", "organisation_id"}, cs)
			},
		)
	})
}

// BulkPeople writes accounts with their ids; PasswordHash must be set.
func (db *DB) BulkPeople(ctx context.Context, people []*kyoyu.Person) error {
	return db.bulkUpdate(ctx, func(tx *Tx) error {
		rows := make([][]any, 0, len(people))
		for _, p := range people {
			locale := p.Locale
			if locale == "" {
				locale = "ja"
			}
			rows = append(rows, []any{p.ID, p.OrganisationID, NormaliseEmail(p.Email), p.Name, string(p.Role), p.HandlesIncidents,
				p.PasswordHash, locale, tx.now})
		}
		return tx.insertRows(ctx, "people", []string{"id", "organisation_id", "email", "name", "role", "handles_incidents",
			"password_hash", "locale", "created_at"}, rows)
	})
}

// BulkCase is one generated case: its item as the rule sees it, the case
// row, the causes of its newest released report, its versions (oldest
// first, ids set) and attachment metadata.
type BulkCase struct {
	ItemID int64
	Item   policy.Item
	// Case holds the routing, numbering and list columns as the reporting
	// flow would have left them; CaseYear and CaseSeq go with CaseNumber.
	Case              kyoyu.Case
	CaseYear, CaseSeq int
	RemindedAt        *time.Time
	Causes            []string
	Versions          []kyoyu.ReportVersion
	Attachments       []BulkAttachment
}

// BulkAttachment is an attachment row; Data is kept small (metadata-scale
// data sets), but it is real: Size and SHA256 describe it.
type BulkAttachment struct {
	ID, VersionID, UploadedBy int64
	Filename, ContentType     string
	SHA256                    string
	Data                      []byte
	CreatedAt                 time.Time
}

// BulkCases writes a batch of generated cases in one transaction and
// indexes the released text of each for search.
func (db *DB) BulkCases(ctx context.Context, cases []BulkCase) error {
	var items, orgs, sectors, cs, causes, vers, atts, index [][]any
	for i := range cases {
		b := &cases[i]
		it, c := b.Item, &b.Case
		items = append(items, []any{b.ItemID, string(it.Kind), string(it.TLP), it.Originator, it.Shared, it.Anonymised, c.CreatedAt, c.UpdatedAt})
		for _, r := range []struct {
			rel string
			ids []int64
		}{{policy.RelHolder, it.Holders}, {policy.RelRecipient, it.Recipients}, {policy.RelPartner, it.Partners},
			{policy.RelExcluded, it.Excluded}, {policy.RelRecipientMinistry, it.RecipientMinistries}, {policy.RelSource, it.SourceOrgs}} {
			for _, id := range r.ids {
				orgs = append(orgs, []any{b.ItemID, id, r.rel})
			}
		}
		for _, s := range it.Sectors {
			sectors = append(sectors, []any{b.ItemID, s})
		}
		var number any
		var year, seq any
		if c.CaseNumber != "" {
			number, year, seq = c.CaseNumber, b.CaseYear, b.CaseSeq
		}
		cs = append(cs, []any{c.ID, b.ItemID, number, year, seq, string(c.Route), string(c.Status), c.OriginatorOrgID,
			nullID(c.OperatorOrgID), c.OperatorName, c.OperatorLabel, nullID(c.SecretariatOrgID), c.MinistryOrgID, c.Channel, c.TakenBy,
			c.ReportCount, c.Sector, c.Importance, c.EventClass, c.SystemStatus, c.Outlook, c.Title,
			nullTime(c.ReceivedAt), nullTime(c.LastReportAt), nullTime(c.FollowUpDue), nullTime(b.RemindedAt), c.CreatedAt, c.UpdatedAt})
		for _, cause := range b.Causes {
			causes = append(causes, []any{c.ID, cause})
		}
		var texts []string
		for _, v := range b.Versions {
			form, err := json.Marshal(v.Form)
			if err != nil {
				return err
			}
			vers = append(vers, []any{v.ID, c.ID, v.ReportNumber, v.Revision, string(v.Stage), string(v.Status), v.OrgID,
				nullID(v.AuthorID), nullID(v.ToOrgID), v.Released, v.SourceOnly, v.Form.TLP, string(form), v.CreatedAt, v.UpdatedAt,
				nullTime(v.SubmittedAt)})
			if v.Released {
				texts = append(texts, releasedText(v.Form))
			}
		}
		if len(texts) > 0 {
			tokens := search.Tokens(strings.Join(texts, "\n"))
			if db.Dialect == SQLite {
				index = append(index, []any{c.ID, strings.Join(tokens, " ")})
			} else {
				index = append(index, []any{c.ID, tokens})
			}
		}
		for _, a := range b.Attachments {
			atts = append(atts, []any{a.ID, c.ID, a.VersionID, a.Filename, a.ContentType, int64(len(a.Data)), a.SHA256, false, false, "",
				a.Data, a.UploadedBy, a.CreatedAt})
		}
	}
	return db.bulkUpdate(ctx, func(tx *Tx) error {
		indexTable, indexCols := "case_search", []string{"case_id", "tokens"}
		if db.Dialect == SQLite {
			indexTable, indexCols = "case_fts", []string{"rowid", "tokens"}
		}
		return firstErr(
			func() error {
				return tx.insertRows(ctx, "items", []string{"id", "kind", "tlp", "originator_org_id", "shared", "anonymised", "created_at", "updated_at"}, items)
			},
			func() error { return tx.insertRows(ctx, "item_orgs", []string{"item_id", "org_id", "relation"}, orgs) },
			func() error { return tx.insertRows(ctx, "item_sectors", []string{"item_id", "sector_code"}, sectors) },
			func() error {
				return tx.insertRows(ctx, "cases", []string{"id", "item_id", "case_number", "case_year", "case_seq", "route", "status",
					"originator_org_id", "operator_org_id", "operator_name", "operator_label", "secretariat_org_id", "ministry_org_id", "channel",
					"taken_by", "report_count", "sector_code", "importance", "event_class", "system_status", "outlook", "title",
					"received_at", "last_report_at", "follow_up_due_at", "reminded_at", "created_at", "updated_at"}, cs)
			},
			func() error { return tx.insertRows(ctx, "case_causes", []string{"case_id", "cause"}, causes) },
			func() error {
				return tx.insertRows(ctx, "report_versions", []string{"id", "case_id", "report_number", "revision", "stage", "status", "org_id",
					"author_id", "to_org_id", "released", "source_only", "tlp", "form", "created_at", "updated_at", "submitted_at"}, vers)
			},
			func() error {
				return tx.insertRows(ctx, "attachments", []string{"id", "case_id", "version_id", "filename", "content_type", "size", "sha256",
					"is_sample", "encrypted", "key_id", "data", "uploaded_by", "created_at"}, atts)
			},
			func() error { return tx.insertRows(ctx, indexTable, indexCols, index) },
		)
	})
}

// BulkFinish makes the database consistent after a bulk load: the yearly
// case counters continue after the numbers used, PostgreSQL's id sequences
// after the ids written, and the planners know the new sizes.
func (db *DB) BulkFinish(ctx context.Context) error {
	err := db.Update(ctx, func(tx *Tx) error {
		rows, err := tx.query(ctx, `SELECT case_year, MAX(case_seq) FROM cases WHERE case_year IS NOT NULL GROUP BY case_year ORDER BY case_year`)
		if err != nil {
			return err
		}
		type counter struct{ year, last int }
		var cs []counter
		for rows.Next() {
			var c counter
			if err := rows.Scan(&c.year, &c.last); err != nil {
				rows.Close()
				return err
			}
			cs = append(cs, c)
		}
		rows.Close()
		for _, c := range cs {
			if _, err := tx.exec(ctx, `INSERT INTO case_counters (year, last) VALUES (?, ?)
				ON CONFLICT (year) DO UPDATE SET last = CASE WHEN case_counters.last > excluded.last THEN case_counters.last ELSE excluded.last END`,
				c.year, c.last); err != nil {
				return err
			}
		}
		if db.Dialect != Postgres {
			return nil
		}
		for _, t := range []string{"organisations", "people", "items", "cases", "report_versions", "attachments"} {
			if _, err := tx.exec(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), GREATEST((SELECT COALESCE(MAX(id), 0) FROM `+t+`), 1))`); err != nil {
				return fmt.Errorf("sequence of %s: %w", t, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish bulk load: %w", err)
	}
	// Statistics and the visibility map (which lets PostgreSQL count from
	// an index alone): autovacuum would see to both in time, so they are
	// seen to now. SQLite is left as a server leaves it: it never
	// runs ANALYZE, and with statistics on values (stat4) SQLite prepares a
	// statement again whenever a bound value could change its plan, which
	// costs the statement cache its use.
	if db.Dialect == Postgres {
		if _, err := db.sql.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
			return fmt.Errorf("analyse: %w", err)
		}
	}
	return nil
}

// bulkUpdate is Update with a larger page cache for SQLite: a bulk load
// touches many index pages per batch.
func (db *DB) bulkUpdate(ctx context.Context, fn func(tx *Tx) error) error {
	return db.Update(ctx, func(tx *Tx) error {
		if db.Dialect == SQLite {
			if _, err := tx.exec(ctx, `PRAGMA cache_size = -262144`); err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

// insertRows writes rows many to a statement, within both databases'
// limits on bound parameters.
func (tx *Tx) insertRows(ctx context.Context, table string, cols []string, rows [][]any) error {
	return tx.insertRowsOnConflict(ctx, table, cols, rows, "")
}

// insertRowsOnConflict is insertRows with an ON CONFLICT clause after
// each statement's rows.
func (tx *Tx) insertRowsOnConflict(ctx context.Context, table string, cols []string, rows [][]any, onConflict string) error {
	if len(rows) == 0 {
		return nil
	}
	per := max(1, min(1000, 30000/len(cols)))
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(len(rows), start+per)]
		var b strings.Builder
		b.Grow(len(head) + len(chunk)*(len(one)+2))
		b.WriteString(head)
		args := make([]any, 0, len(chunk)*len(cols))
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, r...)
		}
		b.WriteString(onConflict)
		if _, err := tx.exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("bulk insert into %s: %w", table, err)
		}
	}
	return nil
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

func firstErr(fns ...func() error) error {
	for _, fn := range fns {
		if err := fn(); err != nil {
			return err
		}
	}
	return nil
}

// CaseTitle is the list title a released description gives a case: its
// first sentence or line, at most 80 characters.
func CaseTitle(description string) string {
	title := strings.TrimSpace(description)
	if i := strings.IndexAny(title, "\n。"); i > 0 {
		title = title[:i]
	}
	if r := []rune(title); len(r) > 80 {
		title = string(r[:80]) + "…"
	}
	return title
}
