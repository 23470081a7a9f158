package store

import (
	"context"
	"fmt"

	"kyoyu"
	"kyoyu/policy"
)

// SeedCase writes a case directly, bypassing the reporting flow: its item
// as given, one version per entry of versions (written by the item's
// originator unless OrgID is set), released ones indexed for search and
// copied onto the case. It is for generated data — the adversarial test
// and the national-scale data set — never for user actions.
func (db *DB) SeedCase(ctx context.Context, route kyoyu.Route, ministry, secretariat int64, operatorName, label string,
	it policy.Item, versions []kyoyu.ReportVersion) (caseID, itemID int64, err error) {
	err = db.Update(ctx, func(tx *Tx) error {
		var err error
		itemID, err = tx.createItem(ctx, it)
		if err != nil {
			return err
		}
		status := kyoyu.CaseDraft
		if it.Shared {
			status = kyoyu.CaseAtNISC
		}
		caseID, err = tx.insert(ctx, `INSERT INTO cases (item_id, route, status, originator_org_id, operator_name, operator_label,
			secretariat_org_id, ministry_org_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			itemID, string(route), string(status), it.Originator, operatorName, label, nullID(secretariat), ministry, tx.now, tx.now)
		if err != nil {
			return fmt.Errorf("seed case: %w", err)
		}
		var last *kyoyu.ReportVersion
		for i := range versions {
			v := versions[i]
			v.CaseID, v.Revision = caseID, i+1
			if v.ReportNumber == 0 {
				v.ReportNumber = 1
			}
			if v.OrgID == 0 {
				v.OrgID = it.Originator
			}
			if v.Status == "" {
				v.Status = kyoyu.VersionSubmitted
			}
			if err := tx.insertVersion(ctx, &v); err != nil {
				return err
			}
			if _, err := tx.exec(ctx, `UPDATE report_versions SET submitted_at = ? WHERE id = ? AND status = 'submitted'`, tx.now, v.ID); err != nil {
				return err
			}
			if v.Released {
				last = &v
			}
		}
		if last != nil {
			year := tx.now.In(kyoyu.JST).Year()
			var seq int
			if err := tx.queryRow(ctx, `INSERT INTO case_counters (year, last) VALUES (?, 1)
				ON CONFLICT (year) DO UPDATE SET last = case_counters.last + 1 RETURNING last`, year).Scan(&seq); err != nil {
				return err
			}
			if _, err := tx.exec(ctx, `UPDATE cases SET case_number = ?, case_year = ?, case_seq = ?, received_at = ? WHERE id = ?`,
				fmt.Sprintf("SEED-%d-%06d", year, seq), year, seq, tx.now, caseID); err != nil {
				return err
			}
			if err := tx.releaseColumns(ctx, caseID, last.ReportNumber, last.Form, nil); err != nil {
				return err
			}
			return tx.reindexCase(ctx, caseID)
		}
		return nil
	})
	return caseID, itemID, err
}

// RenameSeededOperator sets a seeded case's operator name and label.
func (db *DB) RenameSeededOperator(ctx context.Context, caseID int64, name, label string) error {
	return db.Update(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `UPDATE cases SET operator_name = ?, operator_label = ? WHERE id = ?`, name, label, caseID)
		return err
	})
}
