package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"kyoyu"
)

// The outbox's batch work: many jobs recorded, many rows read, a few
// statements a batch.

// Completion is a claimed job the receiver accepted, with its answer.
type Completion struct {
	Job    *Job
	Result string
}

// CompleteJobs marks many claimed jobs done in one transaction (the
// outbox's group commit), a few hundred in one statement. Each is fenced
// as CompleteJob is: a job whose lease this worker lost is left alone and
// returned in lost.
func (db *DB) CompleteJobs(ctx context.Context, cs []Completion) (lost []int64, err error) {
	err = db.Update(ctx, func(tx *Tx) error {
		lost = nil
		const per = 200 // 4 parameters each
		for start := 0; start < len(cs); start += per {
			chunk := cs[start:min(len(cs), start+per)]
			var b strings.Builder
			b.WriteString(`UPDATE jobs SET status = 'done', result = v.column2, done_at = ?, locked_by = '', locked_until = NULL FROM (VALUES `)
			args := []any{tx.now}
			for i, c := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				// Typed, so PostgreSQL compares like with like.
				b.WriteString("(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS INTEGER))")
				args = append(args, c.Job.ID, clip(c.Result), c.Job.LockedBy, c.Job.Attempts)
			}
			b.WriteString(`) AS v WHERE jobs.id = v.column1 AND jobs.status = 'running' AND jobs.locked_by = v.column3 AND jobs.attempts = v.column4 RETURNING jobs.id`)
			rows, err := tx.query(ctx, b.String(), args...)
			if err != nil {
				return fmt.Errorf("complete %d jobs: %w", len(chunk), err)
			}
			done := map[int64]bool{}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				done[id] = true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, c := range chunk {
				if !done[c.Job.ID] {
					lost = append(lost, c.Job.ID)
				}
			}
		}
		return nil
	})
	return lost, err
}

// NotificationsByID reads notifications for the outbox, many at a time;
// a missing one is simply absent from the answer.
func (db *DB) NotificationsByID(ctx context.Context, ids []int64) (map[int64]*Notification, error) {
	out := map[int64]*Notification{}
	err := inChunks(ids, func(in string, args []any) error {
		rows, err := db.query(ctx, `SELECT id, person_id, COALESCE(item_id, 0), kind, link, params, created_at, read_at FROM notifications WHERE id IN (`+in+`)`, args...)
		if err != nil {
			return fmt.Errorf("notifications: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			n := &Notification{}
			var params string
			var read sqlNullTime
			if err := rows.Scan(&n.ID, &n.PersonID, &n.ItemID, &n.Kind, &n.Link, &params, &n.CreatedAt, &read); err != nil {
				return err
			}
			_ = json.Unmarshal([]byte(params), &n.Params)
			n.CreatedAt = n.CreatedAt.UTC()
			n.ReadAt = read.ptr()
			out[n.ID] = n
		}
		return rows.Err()
	})
	return out, err
}

// PeopleByID reads accounts, many at a time; a missing one is absent.
func (db *DB) PeopleByID(ctx context.Context, ids []int64) (map[int64]*kyoyu.Person, error) {
	out := map[int64]*kyoyu.Person{}
	err := inChunks(ids, func(in string, args []any) error {
		rows, err := db.query(ctx, `SELECT `+personColumns+` FROM people WHERE id IN (`+in+`)`, args...)
		if err != nil {
			return fmt.Errorf("people: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanPerson(rows)
			if err != nil {
				return err
			}
			out[p.ID] = p
		}
		return rows.Err()
	})
	return out, err
}

// inChunks calls fn with an IN list of placeholders and its arguments for
// each thousand distinct ids.
func inChunks(ids []int64, fn func(in string, args []any) error) error {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for start := 0; start < len(ids); start += 1000 {
		chunk := ids[start:min(len(ids), start+1000)]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if err := fn(strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ","), args); err != nil {
			return err
		}
	}
	return nil
}
