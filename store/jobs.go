package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"kyoyu"
	"kyoyu/audit"
)

// Job kinds and statuses of the outbox (docs/OUTBOX.md).
const (
	JobEmail   = "email"
	JobWebhook = "webhook"
	// JobSTIX writes the STIX export of a released case version into
	// stix_objects, where TAXII collections read it (docs/TAXII.md).
	JobSTIX = "stix"

	JobPending = "pending" // waiting for run_at
	JobRunning = "running" // claimed by a worker until locked_until
	JobDone    = "done"    // the receiver accepted it
	JobDead    = "dead"    // refused for good, or out of attempts; `kyoyu jobs retry`
	JobDropped = "dropped" // not sent on purpose (the reader may no longer see the item …)
)

// DefaultMaxAttempts spreads a job's attempts over about five hours with
// the worker's default back-off.
const DefaultMaxAttempts = 12

// ErrLeaseLost is returned when a worker reports on a job it no longer
// holds: its lease passed and another worker took the job over.
var ErrLeaseLost = errors.New("job lease lost to another worker")

// Job is one side effect waiting to be, or already, carried out.
type Job struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	Payload     json.RawMessage `json:"payload"`
	Status      string          `json:"status"`
	Attempts    int             `json:"attempts"`
	MaxAttempts int             `json:"max_attempts"`
	RunAt       time.Time       `json:"run_at"`
	LockedBy    string          `json:"locked_by,omitempty"`
	LockedUntil *time.Time      `json:"locked_until,omitempty"`
	LastError   string          `json:"last_error,omitempty"`
	Result      string          `json:"result,omitempty"`
	DedupeKey   string          `json:"dedupe_key"`
	CreatedAt   time.Time       `json:"created_at"`
	DoneAt      *time.Time      `json:"done_at,omitempty"`
}

// NewJob is a job to enqueue. DedupeKey names the effect: a second job
// with the same key is not stored.
type NewJob struct {
	Kind        string
	DedupeKey   string
	Payload     any
	RunAt       time.Time // zero: now
	MaxAttempts int       // zero: DefaultMaxAttempts
}

// EmailJob is the payload of an e-mail job: the notification to tell its
// person about. The message is rendered when it is sent.
type EmailJob struct {
	NotificationID int64 `json:"notification_id"`
}

// STIXJob is the payload of a STIX job: the released version of a case,
// or the published version of an advisory, whose export is to be stored.
// The export is built when the job runs.
type STIXJob struct {
	CaseID     int64 `json:"case_id,omitempty"`
	AdvisoryID int64 `json:"advisory_id,omitempty"`
	VersionID  int64 `json:"version_id"`
}

// caseSTIXJob is the job that stores a released case version's STIX, and
// advisorySTIXJob a published advisory version's: one per version, however
// often it is enqueued (the release, the backfill).
func caseSTIXJob(caseID, versionID int64) NewJob {
	return NewJob{Kind: JobSTIX, DedupeKey: fmt.Sprintf("stix:version:%d", versionID), Payload: STIXJob{CaseID: caseID, VersionID: versionID}}
}

func advisorySTIXJob(advisoryID, versionID int64) NewJob {
	return NewJob{Kind: JobSTIX, DedupeKey: fmt.Sprintf("stix:advisory-version:%d", versionID),
		Payload: STIXJob{AdvisoryID: advisoryID, VersionID: versionID}}
}

// WebhookJob is the payload of a webhook job: the event, never content.
type WebhookJob struct {
	WebhookID      int64     `json:"webhook_id"`
	OrgID          int64     `json:"org_id"`
	NotificationID int64     `json:"notification_id"`
	ItemID         int64     `json:"item_id,omitempty"`
	Event          string    `json:"event"`
	Link           string    `json:"link"`
	OccurredAt     time.Time `json:"occurred_at"`
}

const jobColumns = `id, kind, payload, status, attempts, max_attempts, run_at, locked_by, locked_until,
	last_error, result, dedupe_key, created_at, done_at`

func scanJob(r rowScanner) (*Job, error) {
	j := &Job{}
	var payload string
	var locked, done sqlNullTime
	if err := r.Scan(&j.ID, &j.Kind, &payload, &j.Status, &j.Attempts, &j.MaxAttempts, &j.RunAt, &j.LockedBy, &locked,
		&j.LastError, &j.Result, &j.DedupeKey, &j.CreatedAt, &done); err != nil {
		return nil, err
	}
	j.Payload = json.RawMessage(payload)
	j.RunAt, j.CreatedAt = j.RunAt.UTC(), j.CreatedAt.UTC()
	j.LockedUntil, j.DoneAt = locked.ptr(), done.ptr()
	return j, nil
}

// enqueue stores a job in tx, so it commits or rolls back with the change
// it belongs to. It reports whether the job is new.
func (tx *Tx) enqueue(ctx context.Context, j NewJob) (bool, error) {
	if j.Kind != JobEmail && j.Kind != JobWebhook && j.Kind != JobSTIX {
		return false, fmt.Errorf("enqueue: unknown job kind %q", j.Kind)
	}
	if j.DedupeKey == "" {
		return false, fmt.Errorf("enqueue %s: no dedupe key", j.Kind)
	}
	payload, err := json.Marshal(j.Payload)
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", j.DedupeKey, err)
	}
	runAt := j.RunAt.UTC().Truncate(time.Millisecond)
	if j.RunAt.IsZero() {
		runAt = tx.now
	}
	maxAttempts := j.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	res, err := tx.exec(ctx, `INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, dedupe_key, created_at)
		VALUES (?, ?, 'pending', 0, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`,
		j.Kind, string(payload), maxAttempts, runAt, j.DedupeKey, tx.now)
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", j.DedupeKey, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Enqueue stores jobs on their own, each once per dedupe key.
func (db *DB) Enqueue(ctx context.Context, jobs ...NewJob) error {
	return db.Update(ctx, func(tx *Tx) error {
		for _, j := range jobs {
			if _, err := tx.enqueue(ctx, j); err != nil {
				return err
			}
		}
		return nil
	})
}

// queueWebhooks enqueues, for a notification just stored, one POST to each
// active endpoint of the person's organisation — once per event and
// organisation however many of its people the event is told to.
func (tx *Tx) queueWebhooks(ctx context.Context, notificationID int64, n Notification) error {
	rows, err := tx.query(ctx, `SELECT w.id, w.org_id FROM org_webhooks w JOIN people p ON p.organisation_id = w.org_id
		WHERE p.id = ? AND w.active ORDER BY w.id`, n.PersonID)
	if err != nil {
		return fmt.Errorf("webhooks of person %d: %w", n.PersonID, err)
	}
	type hook struct{ id, org int64 }
	var hooks []hook
	for rows.Next() {
		var h hook
		if err := rows.Scan(&h.id, &h.org); err != nil {
			rows.Close()
			return err
		}
		hooks = append(hooks, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, h := range hooks {
		event := fmt.Sprintf("%d:%d:%s:%s", h.id, n.ItemID, n.Kind, n.Link)
		if tx.hooked[event] {
			continue
		}
		if tx.hooked == nil {
			tx.hooked = map[string]bool{}
		}
		tx.hooked[event] = true
		// Keyed by the first notification of the event: unique across
		// transactions, the same on a retried enqueue.
		_, err := tx.enqueue(ctx, NewJob{Kind: JobWebhook, DedupeKey: fmt.Sprintf("webhook:%d:notification:%d", h.id, notificationID),
			Payload: WebhookJob{WebhookID: h.id, OrgID: h.org, NotificationID: notificationID, ItemID: n.ItemID,
				Event: n.Kind, Link: n.Link, OccurredAt: tx.now}})
		if err != nil {
			return err
		}
	}
	return nil
}

// ClaimJobs takes up to n jobs of the given kinds that are due — pending
// with run_at passed, or running under a lease that has passed (their
// worker died) — marks them running for worker until now+lease and counts
// the attempt. PostgreSQL servers claim side by side (SKIP LOCKED); SQLite
// has one writer, whose transaction makes the claim atomic.
func (db *DB) ClaimJobs(ctx context.Context, worker string, kinds []string, n int, lease time.Duration) ([]*Job, error) {
	if len(kinds) == 0 || n <= 0 {
		return nil, nil
	}
	inKinds := `kind IN (?` + strings.Repeat(", ?", len(kinds)-1) + `)`
	// Two kinds of due job, each read through its own partial index in
	// (run_at, id) or lease order — jobs_due and jobs_running — never the
	// whole table, which keeps every job ever sent: pending ones whose time
	// has come, and running ones whose worker's lease has passed.
	pendingDue := `status IN ('pending', 'running') AND status = 'pending' AND ` + inKinds + ` AND run_at <= ?`
	leaseLost := `status = 'running' AND ` + inKinds + ` AND locked_until < ?`
	var kargs []any
	for _, k := range kinds {
		kargs = append(kargs, k)
	}
	if db.Dialect == SQLite {
		// A read first: an idle poll takes no write lock (SQLite has one).
		now := db.Now()
		var due bool
		err := db.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM jobs WHERE `+pendingDue+` ORDER BY run_at, id LIMIT 1)
			OR EXISTS (SELECT 1 FROM jobs WHERE `+leaseLost+`)`, append(append(append(kargs[:len(kargs):len(kargs)], now), kargs...), now)...).Scan(&due)
		if err != nil {
			return nil, fmt.Errorf("claim jobs: %w", err)
		}
		if !due {
			return nil, nil
		}
	}
	var out []*Job
	err := db.Update(ctx, func(tx *Tx) error {
		out = nil
		if db.Dialect == Postgres {
			// Thousands of jobs arrive in one transaction (an advisory)
			// long before statistics see them; planned on the old
			// figures, the claim would collect every due job in a bitmap
			// and sort them all, on every batch. Walking jobs_due in order
			// and stopping at the batch's size is right at any size.
			if _, err := tx.exec(ctx, `SET LOCAL enable_bitmapscan = off`); err != nil {
				return fmt.Errorf("claim jobs: %w", err)
			}
		}
		// A worker lost on the job's last attempt leaves a job nobody may
		// run again: it is dead, and shows as such.
		const lost = "worker lost during the last attempt (lease expired)"
		rows, err := tx.query(ctx, `UPDATE jobs SET status = 'dead', locked_by = '', locked_until = NULL, done_at = ?, last_error = ?
			WHERE status = 'running' AND locked_until < ? AND attempts >= max_attempts RETURNING id, kind, attempts`, tx.now, lost, tx.now)
		if err != nil {
			return fmt.Errorf("claim jobs: expire: %w", err)
		}
		var dead []string
		for rows.Next() {
			var id int64
			var kind string
			var attempts int
			if err := rows.Scan(&id, &kind, &attempts); err != nil {
				rows.Close()
				return err
			}
			dead = append(dead, fmt.Sprint(id), fmt.Sprintf("%s after %d attempts: %s", kind, attempts, lost))
		}
		rows.Close()
		for i := 0; i < len(dead); i += 2 {
			if err := tx.audit(ctx, kyoyu.Actor{IP: "system"}, "job.dead", "job", dead[i], audit.Failed, dead[i+1]); err != nil {
				return err
			}
		}
		lock := ""
		if db.Dialect == Postgres {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		// Jobs whose worker was lost first (their time came earlier), then
		// pending ones, in the order they are due.
		for _, q := range []struct {
			where, order string
		}{{leaseLost, "locked_until, id"}, {pendingDue, "run_at, id"}} {
			if len(out) >= n {
				break
			}
			rows, err := tx.query(ctx, `UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = ?, locked_until = ?
				WHERE id IN (SELECT id FROM jobs WHERE `+q.where+` AND attempts < max_attempts
					ORDER BY `+q.order+` LIMIT ?`+lock+`)
				RETURNING `+jobColumns, append(append([]any{worker, tx.now.Add(lease)}, kargs...), tx.now, n-len(out))...)
			if err != nil {
				return fmt.Errorf("claim jobs: %w", err)
			}
			for rows.Next() {
				j, err := scanJob(rows)
				if err != nil {
					rows.Close()
					return err
				}
				out = append(out, j)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b *Job) int { return cmp.Or(a.RunAt.Compare(b.RunAt), cmp.Compare(a.ID, b.ID)) })
	return out, err
}

// held is the condition that the worker still holds the job as claimed:
// a worker whose lease passed must not overwrite its successor's outcome.
const held = ` AND status = 'running' AND locked_by = ? AND attempts = ?`

func (tx *Tx) settle(ctx context.Context, j *Job, set string, args ...any) error {
	res, err := tx.exec(ctx, `UPDATE jobs SET `+set+`, locked_by = '', locked_until = NULL WHERE id = ?`+held,
		append(args, j.ID, j.LockedBy, j.Attempts)...)
	if err != nil {
		return fmt.Errorf("job %d: %w", j.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("job %d: %w", j.ID, ErrLeaseLost)
	}
	return nil
}

// CompleteJob marks a claimed job done, with what the receiver answered.
func (db *DB) CompleteJob(ctx context.Context, j *Job, result string) error {
	return db.Update(ctx, func(tx *Tx) error {
		return tx.settle(ctx, j, `status = 'done', result = ?, done_at = ?`, clip(result), tx.now)
	})
}

// FailJob records a failed attempt. A job goes back to pending until
// retryAt, or is dead when retryAt is nil (a permanent refusal) or it has
// no attempts left. It returns the job's new status.
func (db *DB) FailJob(ctx context.Context, j *Job, cause string, retryAt *time.Time) (string, error) {
	status := JobPending
	if retryAt == nil || j.Attempts >= j.MaxAttempts {
		status = JobDead
	}
	err := db.Update(ctx, func(tx *Tx) error {
		if status == JobPending {
			return tx.settle(ctx, j, `status = 'pending', last_error = ?, run_at = ?`, clip(cause), retryAt.UTC().Truncate(time.Millisecond))
		}
		if err := tx.settle(ctx, j, `status = 'dead', last_error = ?, done_at = ?`, clip(cause), tx.now); err != nil {
			return err
		}
		return tx.audit(ctx, kyoyu.Actor{IP: "system"}, "job.dead", "job", fmt.Sprint(j.ID), audit.Failed,
			clip(fmt.Sprintf("%s after %d attempts: %s", j.Kind, j.Attempts, cause)))
	})
	return status, err
}

// DropJob records that a claimed job is not sent on purpose, and why.
func (db *DB) DropJob(ctx context.Context, j *Job, reason string) error {
	return db.Update(ctx, func(tx *Tx) error {
		return tx.settle(ctx, j, `status = 'dropped', result = ?, done_at = ?`, clip(reason), tx.now)
	})
}

// clip keeps recorded answers and errors to a readable size.
func clip(s string) string {
	if len(s) <= 1000 {
		return s
	}
	cut := 1000
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// JobFilter selects jobs for `kyoyu jobs list`.
type JobFilter struct {
	Status string
	Kind   string
	Limit  int
}

// Jobs lists jobs, newest first.
func (db *DB) Jobs(ctx context.Context, f JobFilter) ([]*Job, error) {
	q := `SELECT ` + jobColumns + ` FROM jobs WHERE 1=1`
	var args []any
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := db.query(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	var out []*Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// Job returns one job, or ErrNotFound.
func (db *DB) Job(ctx context.Context, id int64) (*Job, error) {
	j, err := scanJob(db.queryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("job %d: %w", id, db.mapErr(err))
	}
	return j, nil
}

// JobCounts counts jobs by status.
func (db *DB) JobCounts(ctx context.Context) (map[string]int, error) {
	rows, err := db.query(ctx, `SELECT status, COUNT(*) FROM jobs GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// RetryJob gives a dead job a fresh set of attempts, now.
func (db *DB) RetryJob(ctx context.Context, actor kyoyu.Actor, id int64) error {
	return db.Update(ctx, func(tx *Tx) error {
		var status string
		if err := tx.queryRow(ctx, `SELECT status FROM jobs WHERE id = ?`, id).Scan(&status); err != nil {
			return fmt.Errorf("job %d: %w", id, tx.db.mapErr(err))
		}
		if status != JobDead {
			return &kyoyu.Error{Code: kyoyu.ECONFLICT, Message: fmt.Sprintf("job %d is %s: only dead jobs are retried", id, status)}
		}
		if _, err := tx.exec(ctx, `UPDATE jobs SET status = 'pending', attempts = 0, run_at = ?, done_at = NULL,
			locked_by = '', locked_until = NULL WHERE id = ?`, tx.now, id); err != nil {
			return fmt.Errorf("retry job %d: %w", id, err)
		}
		return tx.audit(ctx, actor, "job.retry", "job", fmt.Sprint(id), audit.OK, "")
	})
}

// OutboxItem is what a message may say about an item: its current range
// and, for a numbered case, the number.
type OutboxItem struct {
	TLP        string
	CaseNumber string
}

// ItemForOutbox reads an item's range and case number. It checks no
// access: the outbox checks the reader with ItemAccess first.
func (db *DB) ItemForOutbox(ctx context.Context, itemID int64) (OutboxItem, error) {
	var it OutboxItem
	err := db.queryRow(ctx, `SELECT i.tlp, COALESCE(c.case_number, '') FROM items i LEFT JOIN cases c ON c.item_id = i.id WHERE i.id = ?`, itemID).
		Scan(&it.TLP, &it.CaseNumber)
	if err != nil {
		return it, fmt.Errorf("item %d: %w", itemID, db.mapErr(err))
	}
	return it, nil
}
