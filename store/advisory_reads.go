package store

import (
	"context"
	"fmt"
	"time"

	"kyoyu"
	"kyoyu/policy"
)

// AdvisoryFilter pages through the advisories a viewer may see.
type AdvisoryFilter struct {
	// BeforeAt and BeforeID continue a list (keyset paging on the time of
	// publication, or of creation for a draft, and the id).
	BeforeAt *time.Time
	BeforeID int64
	Limit    int // 1 to 200; 50 otherwise
}

// AdvisoryPage is one page of advisories with the total v may see.
type AdvisoryPage struct {
	Advisories []*kyoyu.Advisory
	Total      int
	// NextAt and NextID continue the list, if there is more.
	NextAt *time.Time
	NextID int64
}

// ListAdvisoriesPage lists the advisories v may see, newest first, a page
// at a time: visibility is applied in the query, so pages and the total
// are right. Each advisory is read as Advisory reads it.
func (db *DB) ListAdvisoriesPage(ctx context.Context, v policy.Viewer, f AdvisoryFilter) (*AdvisoryPage, error) {
	where, args := policy.Where(v, "i")
	page := &AdvisoryPage{}
	from := ` FROM advisories a JOIN items i ON i.id = a.item_id WHERE ` + where
	if err := db.queryRow(ctx, `SELECT COUNT(*)`+from, args...).Scan(&page.Total); err != nil {
		return nil, fmt.Errorf("count advisories: %w", err)
	}
	order := `COALESCE(a.published_at, a.created_at)`
	if f.BeforeAt != nil {
		from += ` AND (` + order + ` < ? OR (` + order + ` = ? AND a.id < ?))`
		args = append(args, f.BeforeAt.UTC(), f.BeforeAt.UTC(), f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := db.query(ctx, `SELECT a.id`+from+` ORDER BY `+order+` DESC, a.id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("list advisories: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	more := len(ids) > limit
	if more {
		ids = ids[:limit]
	}
	for _, id := range ids {
		a, err := db.Advisory(ctx, v, id)
		if err != nil {
			return nil, err
		}
		page.Advisories = append(page.Advisories, a)
	}
	if more {
		last := page.Advisories[len(page.Advisories)-1]
		at := last.CreatedAt
		if last.PublishedAt != nil {
			at = *last.PublishedAt
		}
		page.NextAt, page.NextID = &at, last.ID
	}
	return page, nil
}

// SeedAdvisory writes an advisory directly, bypassing the advisory flow:
// its item as given (the originator is the issuer), one version with form,
// published and numbered when published is set, else an open draft. It
// records no deliveries and notifies nobody. It is for generated data —
// the adversarial test — never for user actions.
func (db *DB) SeedAdvisory(ctx context.Context, it policy.Item, form kyoyu.AdvisoryForm, published bool) (advisoryID, itemID int64, err error) {
	if it.Kind != policy.Advisory {
		return 0, 0, fmt.Errorf("seed advisory: item of kind %q", it.Kind)
	}
	err = db.Update(ctx, func(tx *Tx) error {
		var err error
		if itemID, err = tx.createItem(ctx, it); err != nil {
			return err
		}
		if advisoryID, err = tx.insert(ctx, `INSERT INTO advisories (item_id, status, issuer_org_id, created_at, updated_at) VALUES (?, 'draft', ?, ?, ?)`,
			itemID, it.Originator, tx.now, tx.now); err != nil {
			return fmt.Errorf("seed advisory: %w", err)
		}
		versionID, err := tx.insertAdvisoryVersion(ctx, advisoryID, 1, 0, form)
		if err != nil {
			return err
		}
		if err := tx.setAdvisorySources(ctx, advisoryID, form.SourceCases); err != nil {
			return err
		}
		if !published {
			return nil
		}
		year := tx.now.In(kyoyu.JST).Year()
		var seq int
		if err := tx.queryRow(ctx, `INSERT INTO advisory_counters (year, last) VALUES (?, 1)
			ON CONFLICT (year) DO UPDATE SET last = advisory_counters.last + 1 RETURNING last`, year).Scan(&seq); err != nil {
			return fmt.Errorf("seed advisory number: %w", err)
		}
		if _, err := tx.exec(ctx, `UPDATE advisories SET status = 'published', advisory_number = ?, number_year = ?, number_seq = ?, published_at = ? WHERE id = ?`,
			fmt.Sprintf("SEED-T%d-%05d", year, seq), year, seq, tx.now, advisoryID); err != nil {
			return err
		}
		_, err = tx.exec(ctx, `UPDATE advisory_versions SET status = 'published', published_at = ? WHERE id = ?`, tx.now, versionID)
		return err
	})
	return advisoryID, itemID, err
}

// AdvisoryVersionPublishedAt is when a published version of an advisory
// was published (what an export gives as its modified time). The caller
// has read the advisory through its visibility; the version is its.
func (db *DB) AdvisoryVersionPublishedAt(ctx context.Context, versionID int64) (time.Time, error) {
	var at sqlNullTime
	err := db.queryRow(ctx, `SELECT published_at FROM advisory_versions WHERE id = ? AND status = 'published'`, versionID).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("advisory version %d: %w", versionID, db.mapErr(err))
	}
	if at.ptr() == nil {
		return time.Time{}, fmt.Errorf("advisory version %d: no publication time: %w", versionID, kyoyu.ErrNotFound)
	}
	return *at.ptr(), nil
}
