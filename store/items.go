package store

import (
	"context"
	"fmt"

	"kyoyu"
	"kyoyu/policy"
)

// createItem records what the sharing-range rule needs to know of a new
// item, inside the transaction that creates the case or advisory.
func (tx *Tx) createItem(ctx context.Context, it policy.Item) (int64, error) {
	if !it.TLP.Valid() {
		return 0, &kyoyu.Error{Code: kyoyu.EINVALID, Message: "unknown sharing range", Fields: map[string]string{"tlp": "invalid"}}
	}
	id, err := tx.insert(ctx, `INSERT INTO items (kind, tlp, originator_org_id, shared, anonymised, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		string(it.Kind), string(it.TLP), it.Originator, it.Shared, it.Anonymised, tx.now, tx.now)
	if err != nil {
		return 0, fmt.Errorf("create item: %w", err)
	}
	if err := tx.setItemRelations(ctx, id, it); err != nil {
		return 0, err
	}
	return id, nil
}

// setItemRelations writes an item's organisations and sectors.
func (tx *Tx) setItemRelations(ctx context.Context, id int64, it policy.Item) error {
	rels := []struct {
		rel  string
		orgs []int64
	}{
		{policy.RelHolder, it.Holders}, {policy.RelRecipient, it.Recipients}, {policy.RelPartner, it.Partners},
		{policy.RelExcluded, it.Excluded}, {policy.RelRecipientMinistry, it.RecipientMinistries}, {policy.RelSource, it.SourceOrgs},
	}
	for _, r := range rels {
		for _, org := range r.orgs {
			if _, err := tx.exec(ctx, `INSERT INTO item_orgs (item_id, org_id, relation) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, id, org, r.rel); err != nil {
				return fmt.Errorf("item %d: %s %d: %w", id, r.rel, org, err)
			}
		}
	}
	for _, s := range it.Sectors {
		if _, err := tx.exec(ctx, `INSERT INTO item_sectors (item_id, sector_code) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, s); err != nil {
			return fmt.Errorf("item %d: sector %s: %w", id, s, err)
		}
	}
	return nil
}

// CreateItem stores a bare item; the reports and advisories create theirs
// inside their own transactions. Tests use it to set up ranges directly.
func (db *DB) CreateItem(ctx context.Context, it policy.Item) (int64, error) {
	var id int64
	err := db.Update(ctx, func(tx *Tx) error {
		var err error
		id, err = tx.createItem(ctx, it)
		return err
	})
	return id, err
}

// VisibleItemIDs lists the ids of the items v may see, of one kind or of
// both when kind is empty, filtered in the query by policy.Where.
func (db *DB) VisibleItemIDs(ctx context.Context, v policy.Viewer, kind policy.Kind) ([]int64, error) {
	where, args := policy.Where(v, "i")
	q := `SELECT i.id FROM items i WHERE ` + where
	if kind != "" {
		q += ` AND i.kind = ?`
		args = append(args, string(kind))
	}
	rows, err := db.query(ctx, q+` ORDER BY i.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list visible items: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ItemAccess returns what v may see of one item; an item v may not see is
// ErrNotFound, exactly like one that does not exist.
func (db *DB) ItemAccess(ctx context.Context, v policy.Viewer, id int64) (policy.Decision, error) {
	where, args := policy.Where(v, "i")
	src, sargs := policy.SourceVisible(v, "i")
	var seeSource bool
	err := db.queryRow(ctx, `SELECT `+src+` FROM items i WHERE i.id = ? AND `+where, append(append(sargs, id), args...)...).Scan(&seeSource)
	if err != nil {
		return policy.Decision{}, fmt.Errorf("item %d: %w", id, db.mapErr(err))
	}
	return policy.Decision{See: true, SeeSource: seeSource}, nil
}

// ItemState reads an item as the rule sees it. It is for services that
// compute an item's next state; it checks no access.
func (db *DB) ItemState(ctx context.Context, id int64) (policy.Item, error) {
	var it policy.Item
	var kind, tlp string
	err := db.queryRow(ctx, `SELECT kind, tlp, originator_org_id, shared, anonymised FROM items WHERE id = ?`, id).
		Scan(&kind, &tlp, &it.Originator, &it.Shared, &it.Anonymised)
	if err != nil {
		return it, fmt.Errorf("item %d: %w", id, db.mapErr(err))
	}
	it.Kind, it.TLP = policy.Kind(kind), policy.TLP(tlp)
	rows, err := db.query(ctx, `SELECT org_id, relation FROM item_orgs WHERE item_id = ? ORDER BY org_id`, id)
	if err != nil {
		return it, err
	}
	for rows.Next() {
		var org int64
		var rel string
		if err := rows.Scan(&org, &rel); err != nil {
			rows.Close()
			return it, err
		}
		switch rel {
		case policy.RelHolder:
			it.Holders = append(it.Holders, org)
		case policy.RelRecipient:
			it.Recipients = append(it.Recipients, org)
		case policy.RelPartner:
			it.Partners = append(it.Partners, org)
		case policy.RelExcluded:
			it.Excluded = append(it.Excluded, org)
		case policy.RelRecipientMinistry:
			it.RecipientMinistries = append(it.RecipientMinistries, org)
		case policy.RelSource:
			it.SourceOrgs = append(it.SourceOrgs, org)
		}
	}
	rows.Close()
	rows, err = db.query(ctx, `SELECT sector_code FROM item_sectors WHERE item_id = ? ORDER BY sector_code`, id)
	if err != nil {
		return it, err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return it, err
		}
		it.Sectors = append(it.Sectors, s)
	}
	return it, rows.Err()
}

// CaseRef is what services need to know of a case to act on it, without
// any access check: the caller has already been shown the case.
type CaseRef struct {
	ID, ItemID                                  int64
	Route                                       string
	Originator, Operator, Secretariat, Ministry int64
	OperatorName, Label, CaseNumber             string
}

// CaseRef reads the routing facts of a case.
func (db *DB) CaseRef(ctx context.Context, id int64) (*CaseRef, error) {
	r := &CaseRef{}
	err := db.queryRow(ctx, `SELECT id, item_id, route, originator_org_id, COALESCE(operator_org_id, 0), COALESCE(secretariat_org_id, 0),
		ministry_org_id, operator_name, operator_label, COALESCE(case_number, '') FROM cases WHERE id = ?`, id).
		Scan(&r.ID, &r.ItemID, &r.Route, &r.Originator, &r.Operator, &r.Secretariat, &r.Ministry, &r.OperatorName, &r.Label, &r.CaseNumber)
	if err != nil {
		return nil, fmt.Errorf("case %d: %w", id, db.mapErr(err))
	}
	return r, nil
}
