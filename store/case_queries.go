package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/policy"
)

// caseSelect reads a case as v may see it: the operator's real name only
// where v may see the source, its label otherwise. The condition is built
// by the policy package, so the name never leaves the database for anyone
// else.
// join is how cases meet their items: "JOIN", or "CROSS JOIN" where
// SQLite must keep cases first (ListCases).
func caseSelect(v policy.Viewer, join string) (string, []any) {
	// The originator of a report routed through a CEPTOAR is the operator
	// itself, so its id is as identifying as the name.
	src, args := policy.SourceVisible(v, "i")
	src2, args2 := policy.SourceVisible(v, "i")
	src3, args3 := policy.SourceVisible(v, "i")
	args = append(append(args, args2...), args3...)
	return `SELECT c.id, c.item_id, COALESCE(c.case_number, ''), c.route, c.status, i.tlp,
		CASE WHEN ` + src + ` THEN c.operator_name ELSE c.operator_label END,
		CASE WHEN ` + src2 + ` THEN COALESCE(c.operator_org_id, 0) ELSE 0 END,
		c.operator_label, i.anonymised, CASE WHEN ` + src3 + ` THEN c.originator_org_id ELSE 0 END,
		COALESCE(c.secretariat_org_id, 0), c.ministry_org_id, c.channel, c.taken_by,
		c.report_count, c.sector_code, c.importance, c.event_class, c.system_status, c.outlook, c.title,
		c.received_at, c.last_report_at, c.follow_up_due_at, c.created_at, c.updated_at
		FROM cases c ` + join + ` items i ON i.id = c.item_id`, args
}

func scanCase(r rowScanner, now time.Time) (*kyoyu.Case, error) {
	c := &kyoyu.Case{}
	var route, status string
	var received, last, due sqlNullTime
	err := r.Scan(&c.ID, &c.ItemID, &c.CaseNumber, &route, &status, &c.TLP, &c.Operator, &c.OperatorOrgID,
		&c.OperatorLabel, &c.Anonymised, &c.OriginatorOrgID, &c.SecretariatOrgID, &c.MinistryOrgID, &c.Channel, &c.TakenBy,
		&c.ReportCount, &c.Sector, &c.Importance, &c.EventClass, &c.SystemStatus, &c.Outlook, &c.Title,
		&received, &last, &due, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return nil, err
	}
	c.Route, c.Status = kyoyu.Route(route), kyoyu.CaseStatus(status)
	c.ReceivedAt, c.LastReportAt, c.FollowUpDue = received.ptr(), last.ptr(), due.ptr()
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.Overdue = c.FollowUpDue != nil && now.After(*c.FollowUpDue)
	return c, nil
}

// Case returns a case as v may see it, with the decision; a case v may
// not see is ErrNotFound, exactly like one that does not exist.
func (db *DB) Case(ctx context.Context, v policy.Viewer, id int64) (*kyoyu.Case, policy.Decision, error) {
	sel, args := caseSelect(v, "JOIN")
	where, wargs := policy.Where(v, "i")
	args = append(args, id)
	args = append(args, wargs...)
	c, err := scanCase(db.queryRow(ctx, sel+` WHERE c.id = ? AND `+where, args...), db.Now())
	if err != nil {
		return nil, policy.Decision{}, fmt.Errorf("case %d: %w", id, db.mapErr(err))
	}
	d, err := db.ItemAccess(ctx, v, c.ItemID)
	if err != nil {
		return nil, policy.Decision{}, err
	}
	return c, d, nil
}

// CaseFilter selects cases for a list. Empty fields do not filter.
type CaseFilter struct {
	Sector     string
	EventClass string
	Cause      string
	Importance string
	TLP        string
	Status     string
	Overdue    bool
	From, To   *time.Time // last report between
	Query      string     // full-text, Japanese as written
	Mine       bool       // only cases my organisation originated
	Shared     bool       // only cases that reached NISC
	BeforeID   int64      // keyset paging on (last activity, id)
	BeforeAt   *time.Time
	Limit      int
	// ExactTotal counts every matching case. By default the count stops at
	// TotalBound: an exact total is a visit to every case the viewer may
	// see (the rule depends on the viewer's relations to each item), which
	// at national size costs far more than the page itself.
	ExactTotal bool
	// NoTotal skips the count (Total stays 0): an export pages through
	// the whole list and needs no total per page.
	NoTotal bool
}

// TotalBound is where a list's count stops unless an exact total is asked
// for: the list then says "at least TotalBound".
const TotalBound = 1000

// CasePage is one page of a case list with the total the filter matches.
type CasePage struct {
	Cases []*kyoyu.Case
	Total int
	// TotalCapped says the count stopped at TotalBound: there are at least
	// Total matching cases.
	TotalCapped bool
	// NextAt and NextID continue the list (keyset paging), if there is more.
	NextAt *time.Time
	NextID int64
}

// ListCases lists the cases v may see that match f, newest activity
// first; visibility and filters are applied in the query, so pages and
// counts are right.
func (db *DB) ListCases(ctx context.Context, v policy.Viewer, f CaseFilter) (*CasePage, error) {
	where, wargs := policy.Where(v, "i")
	conds := []string{where}
	args := append([]any(nil), wargs...)
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.Sector != "" {
		add(`c.sector_code = ?`, f.Sector)
	}
	if f.EventClass != "" {
		add(`c.event_class = ?`, f.EventClass)
	}
	if f.Importance != "" {
		add(`c.importance = ?`, f.Importance)
	}
	if f.TLP != "" {
		add(`i.tlp = ?`, f.TLP)
	}
	if f.Status != "" {
		add(`c.status = ?`, f.Status)
	}
	if f.Cause != "" {
		add(`EXISTS (SELECT 1 FROM case_causes cc WHERE cc.case_id = c.id AND cc.cause = ?)`, f.Cause)
	}
	if f.Overdue {
		add(`c.follow_up_due_at IS NOT NULL AND c.follow_up_due_at < ?`, db.Now())
	}
	if f.From != nil {
		add(`c.last_report_at >= ?`, f.From.UTC())
	}
	if f.To != nil {
		add(`c.last_report_at < ?`, f.To.UTC())
	}
	if f.Mine && !v.Anonymous {
		add(`c.originator_org_id = ?`, v.OrgID)
	}
	if f.Shared {
		add(`i.shared`)
	}
	searchAt, pageSearch := -1, ""
	if q := strings.TrimSpace(f.Query); q != "" {
		cond, pageCond, qargs, err := db.searchCondition(ctx, q)
		if err != nil {
			return nil, err
		}
		searchAt, pageSearch = len(conds), pageCond
		add(cond, qargs...)
	}
	whereSQL := strings.Join(conds, " AND ")
	page := &CasePage{}
	// The count reads every matching case, the page only the newest few:
	// they are independent, so they run at once on two connections.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	counted := make(chan error, 1)
	countSQL, countArgs := `SELECT COUNT(*) FROM cases c JOIN items i ON i.id = c.item_id WHERE `+whereSQL, slices.Clone(args)
	if !f.ExactTotal {
		countSQL = `SELECT COUNT(*) FROM (SELECT 1 FROM cases c JOIN items i ON i.id = c.item_id WHERE ` + whereSQL + ` LIMIT ?) bounded`
		countArgs = append(countArgs, TotalBound)
	}
	if f.NoTotal {
		counted <- nil
	} else {
		go func() { counted <- db.queryRow(ctx, countSQL, countArgs...).Scan(&page.Total) }()
	}
	// Order by last activity: released reports first by time, drafts by
	// creation. Indexes on this expression (migration 0009) let the page be
	// read in order; the row-value comparison lets a later page start there.
	order := `COALESCE(c.last_report_at, c.created_at)`
	if f.BeforeAt != nil {
		add(`(`+order+`, c.id) < (?, ?)`, f.BeforeAt.UTC(), f.BeforeID)
	}
	if searchAt >= 0 {
		conds[searchAt] = pageSearch // same arguments, planned for a page
	}
	whereSQL = strings.Join(conds, " AND ")
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	join := "JOIN"
	if db.Dialect == SQLite && f.Query == "" {
		// SQLite keeps the join order of a CROSS JOIN: cases first, read in
		// the order of the list, stopping at a page. Left to choose, it
		// drives a list whose rule is only on the item's range (the public
		// WHITE page) from the items index, then sorts every match. A search
		// is left to choose: it is faster joined the other way (searchCondition).
		join = "CROSS JOIN"
	}
	sel, sargs := caseSelect(v, join)
	rows, err := db.query(ctx, sel+` WHERE `+whereSQL+` ORDER BY `+order+` DESC, c.id DESC LIMIT ?`,
		append(append(sargs, args...), limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	now := db.Now()
	for rows.Next() {
		c, err := scanCase(rows, now)
		if err != nil {
			return nil, err
		}
		page.Cases = append(page.Cases, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := <-counted; err != nil {
		return nil, fmt.Errorf("count cases: %w", err)
	}
	page.TotalCapped = !f.ExactTotal && !f.NoTotal && page.Total >= TotalBound
	if len(page.Cases) > limit {
		page.Cases = page.Cases[:limit]
		last := page.Cases[limit-1]
		at := last.CreatedAt
		if last.LastReportAt != nil {
			at = *last.LastReportAt
		}
		page.NextAt, page.NextID = &at, last.ID
	}
	return page, nil
}

const versionColumns = `v.id, v.case_id, v.report_number, v.revision, v.stage, v.status, v.org_id, COALESCE(v.author_id, 0),
	COALESCE(v.to_org_id, 0), v.released, v.source_only, v.form, v.created_at, v.updated_at, v.submitted_at`

func scanVersion(r rowScanner) (*kyoyu.ReportVersion, error) {
	v := &kyoyu.ReportVersion{}
	var stage, status, form string
	var submitted sqlNullTime
	if err := r.Scan(&v.ID, &v.CaseID, &v.ReportNumber, &v.Revision, &stage, &status, &v.OrgID, &v.AuthorID,
		&v.ToOrgID, &v.Released, &v.SourceOnly, &form, &v.CreatedAt, &v.UpdatedAt, &submitted); err != nil {
		return nil, err
	}
	v.Stage, v.Status = kyoyu.Stage(stage), kyoyu.VersionStatus(status)
	v.CreatedAt, v.UpdatedAt, v.SubmittedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC(), submitted.ptr()
	if err := json.Unmarshal([]byte(form), &v.Form); err != nil {
		return nil, fmt.Errorf("version %d: %w", v.ID, err)
	}
	return v, nil
}

// Versions lists the versions of a case that v may see, oldest first.
func (db *DB) Versions(ctx context.Context, v policy.Viewer, caseID int64) ([]*kyoyu.ReportVersion, error) {
	where, args := policy.VersionWhere(v, "v", "i")
	rows, err := db.query(ctx, `SELECT `+versionColumns+` FROM report_versions v JOIN cases c ON c.id = v.case_id JOIN items i ON i.id = c.item_id
		WHERE v.case_id = ? AND `+where+` ORDER BY v.revision`, append([]any{caseID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	defer rows.Close()
	var out []*kyoyu.ReportVersion
	for rows.Next() {
		ver, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ver)
	}
	return out, rows.Err()
}

// Version returns one version if v may see it, else ErrNotFound.
func (db *DB) Version(ctx context.Context, v policy.Viewer, id int64) (*kyoyu.ReportVersion, error) {
	where, args := policy.VersionWhere(v, "v", "i")
	ver, err := scanVersion(db.queryRow(ctx, `SELECT `+versionColumns+` FROM report_versions v JOIN cases c ON c.id = v.case_id JOIN items i ON i.id = c.item_id
		WHERE v.id = ? AND `+where, append([]any{id}, args...)...))
	if err != nil {
		return nil, fmt.Errorf("version %d: %w", id, db.mapErr(err))
	}
	return ver, nil
}

// InboxEntry is a version waiting for the viewer's organisation to act.
type InboxEntry struct {
	Case    *kyoyu.Case
	Version *kyoyu.ReportVersion
}

// Incoming lists versions submitted to v's organisation that it has not
// yet passed on or answered with a version of its own.
func (db *DB) Incoming(ctx context.Context, v policy.Viewer) ([]InboxEntry, error) {
	if v.Anonymous || v.OrgID == 0 {
		return nil, nil
	}
	where, args := policy.VersionWhere(v, "v", "i")
	rows, err := db.query(ctx, `SELECT `+versionColumns+` FROM report_versions v JOIN cases c ON c.id = v.case_id JOIN items i ON i.id = c.item_id
		WHERE v.status = 'submitted' AND v.to_org_id = ? AND NOT v.released
		AND NOT EXISTS (SELECT 1 FROM report_versions w WHERE w.case_id = v.case_id AND w.org_id = ? AND w.revision > v.revision)
		AND `+where+` ORDER BY v.submitted_at`, append([]any{v.OrgID, v.OrgID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("list incoming: %w", err)
	}
	var vers []*kyoyu.ReportVersion
	for rows.Next() {
		ver, err := scanVersion(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		vers = append(vers, ver)
	}
	rows.Close()
	var out []InboxEntry
	for _, ver := range vers {
		c, _, err := db.Case(ctx, v, ver.CaseID)
		if err != nil {
			return nil, err
		}
		out = append(out, InboxEntry{Case: c, Version: ver})
	}
	return out, nil
}

// Drafts lists the open drafts of v's organisation.
func (db *DB) Drafts(ctx context.Context, v policy.Viewer) ([]InboxEntry, error) {
	if v.Anonymous || v.OrgID == 0 {
		return nil, nil
	}
	rows, err := db.query(ctx, `SELECT `+versionColumns+` FROM report_versions v WHERE v.org_id = ? AND v.status = 'draft' ORDER BY v.updated_at DESC`, v.OrgID)
	if err != nil {
		return nil, fmt.Errorf("list drafts: %w", err)
	}
	var vers []*kyoyu.ReportVersion
	for rows.Next() {
		ver, err := scanVersion(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		vers = append(vers, ver)
	}
	rows.Close()
	var out []InboxEntry
	for _, ver := range vers {
		c, _, err := db.Case(ctx, v, ver.CaseID)
		if err != nil {
			return nil, err
		}
		out = append(out, InboxEntry{Case: c, Version: ver})
	}
	return out, nil
}
