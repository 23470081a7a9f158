package store

import (
	"context"
	"fmt"
)

// STIXBackfill enqueues the STIX jobs of versions released or published
// before their export was stored for TAXII (a database from before
// migration 0013, or one loaded in bulk): the same jobs, with the same
// dedupe keys, that a release or publication enqueues itself.
//
// A national database holds over a million released versions. Enqueued at
// once they would stand in the outbox ahead of every e-mail, so the
// backfill trickles in behind live work: a window of versions at a time,
// newest first, and only while fewer than Queue jobs are pending.
type STIXBackfill struct {
	Window int // versions looked at per step; 500 by default
	Queue  int // pending jobs above which a step waits; 200 by default
	below  int64
	done   bool
}

// Step enqueues the jobs missing from the next window of versions, if the
// outbox is short of work. Windows whose jobs all exist already (another
// server's, or from before a restart) are passed over, up to a few dozen
// a step. Each window is its own short transaction: on SQLite a step must
// not hold the one writer while it looks through a million versions. It
// returns how many jobs it enqueued; Done says when every version was
// looked at.
func (b *STIXBackfill) Step(ctx context.Context, db *DB) (int, error) {
	if b.done {
		return 0, nil
	}
	window, queue := b.Window, b.Queue
	if window <= 0 {
		window = 500
	}
	if queue <= 0 {
		queue = 200
	}
	var pending int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE status = 'pending' LIMIT ?) q`, queue).Scan(&pending); err != nil {
		return 0, fmt.Errorf("stix backfill: count pending jobs: %w", err)
	}
	if pending >= queue {
		return 0, nil
	}
	total := 0
	if b.below == 0 {
		// Advisories are few: all of them on the first step.
		ids, err := db.versionWindow(ctx, `SELECT v.id, v.advisory_id FROM advisory_versions v
			WHERE v.status = 'published' AND v.published_at IS NOT NULL ORDER BY v.id`)
		if err != nil {
			return 0, err
		}
		if total, err = db.enqueueSTIX(ctx, ids, true); err != nil {
			return 0, err
		}
	}
	for range 50 {
		q := `SELECT v.id, v.case_id FROM report_versions v WHERE v.released AND v.submitted_at IS NOT NULL`
		args := []any{}
		if b.below > 0 {
			q += ` AND v.id < ?`
			args = append(args, b.below)
		}
		ids, err := db.versionWindow(ctx, q+` ORDER BY v.id DESC LIMIT ?`, append(args, window)...)
		if err != nil {
			return total, err
		}
		n, err := db.enqueueSTIX(ctx, ids, false)
		if err != nil {
			return total, err
		}
		total += n
		if len(ids) > 0 {
			b.below = ids[len(ids)-1][0]
		}
		if len(ids) < window {
			b.done = true
		}
		if total > 0 || b.done {
			break
		}
	}
	return total, nil
}

// Done says every version has been looked at.
func (b *STIXBackfill) Done() bool { return b.done }

// versionWindow reads (version id, case or advisory id) pairs.
func (db *DB) versionWindow(ctx context.Context, q string, args ...any) ([][2]int64, error) {
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("stix backfill: %w", err)
	}
	defer rows.Close()
	var out [][2]int64
	for rows.Next() {
		var p [2]int64
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// enqueueSTIX enqueues, in one transaction, the job of each version as
// the release or the publication does; jobs that exist are left as they
// are. It returns how many are new.
func (db *DB) enqueueSTIX(ctx context.Context, ids [][2]int64, advisory bool) (int, error) {
	n := 0
	err := db.Update(ctx, func(tx *Tx) error {
		n = 0
		for _, p := range ids {
			j := caseSTIXJob(p[1], p[0])
			if advisory {
				j = advisorySTIXJob(p[1], p[0])
			}
			added, err := tx.enqueue(ctx, j)
			if err != nil {
				return err
			}
			if added {
				n++
			}
		}
		return nil
	})
	return n, err
}
