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
// outbox is short of work. A window whose jobs all exist already (another
// server's, or from before a restart) is passed over at once. It returns
// how many jobs it enqueued; Done says when every version was looked at.
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
	err := db.Update(ctx, func(tx *Tx) error {
		total = 0
		if b.below == 0 {
			// Advisories are few: all of them on the first step.
			n, err := tx.enqueueMissing(ctx, `SELECT v.id, v.advisory_id FROM advisory_versions v
				WHERE v.status = 'published' AND v.published_at IS NOT NULL ORDER BY v.id`, nil, true)
			if err != nil {
				return err
			}
			total += n
		}
		for {
			q := `SELECT v.id, v.case_id FROM report_versions v WHERE v.released AND v.submitted_at IS NOT NULL`
			args := []any{}
			if b.below > 0 {
				q += ` AND v.id < ?`
				args = append(args, b.below)
			}
			q += ` ORDER BY v.id DESC LIMIT ?`
			args = append(args, window)
			ids, err := tx.versionWindow(ctx, q, args)
			if err != nil {
				return err
			}
			if len(ids) < window {
				b.done = true
			}
			if len(ids) > 0 {
				b.below = ids[len(ids)-1][0]
			}
			n, err := tx.enqueueSTIX(ctx, ids, false)
			if err != nil {
				return err
			}
			total += n
			if n > 0 || b.done {
				return nil
			}
		}
	})
	return total, err
}

// Done says every version has been looked at.
func (b *STIXBackfill) Done() bool { return b.done }

// versionWindow reads (version id, case or advisory id) pairs.
func (tx *Tx) versionWindow(ctx context.Context, q string, args []any) ([][2]int64, error) {
	rows, err := tx.query(ctx, q, args...)
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

func (tx *Tx) enqueueMissing(ctx context.Context, q string, args []any, advisory bool) (int, error) {
	ids, err := tx.versionWindow(ctx, q, args)
	if err != nil {
		return 0, err
	}
	return tx.enqueueSTIX(ctx, ids, advisory)
}

// enqueueSTIX enqueues the job of each version, as the release or the
// publication does; jobs that exist are left as they are.
func (tx *Tx) enqueueSTIX(ctx context.Context, ids [][2]int64, advisory bool) (int, error) {
	n := 0
	for _, p := range ids {
		j := NewJob{Kind: JobSTIX, DedupeKey: fmt.Sprintf("stix:version:%d", p[0]), Payload: STIXJob{CaseID: p[1], VersionID: p[0]}}
		if advisory {
			j = NewJob{Kind: JobSTIX, DedupeKey: fmt.Sprintf("stix:advisory-version:%d", p[0]), Payload: STIXJob{AdvisoryID: p[1], VersionID: p[0]}}
		}
		added, err := tx.enqueue(ctx, j)
		if err != nil {
			return n, err
		}
		if added {
			n++
		}
	}
	return n, nil
}
