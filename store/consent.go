package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/audit"
	"kyoyu/policy"
)

// ConsentStatus is where a request to widen a range stands.
type ConsentStatus string

const (
	ConsentPending   ConsentStatus = "pending"
	ConsentGranted   ConsentStatus = "granted"
	ConsentRefused   ConsentStatus = "refused"
	ConsentWithdrawn ConsentStatus = "withdrawn"
)

// ConsentRequest asks the originating organisation of a report to widen
// its sharing range (情報発信者の同意): a wider TLP, more named recipients,
// more concerned sectors, or any of these.
type ConsentRequest struct {
	ID                int64  `json:"id"`
	ItemID            int64  `json:"-"`
	CaseID            int64  `json:"case_id"`
	RequestedByOrg    int64  `json:"requested_by_org"`
	RequestedByPerson int64  `json:"requested_by_person,omitempty"`
	FromTLP           string `json:"from_tlp"`
	ToTLP             string `json:"to_tlp"`
	// AddRecipients are organisation ids (※1 recipients to add).
	AddRecipients []int64       `json:"add_recipients"`
	AddSectors    []string      `json:"add_sectors"`
	Reason        string        `json:"reason"`
	Status        ConsentStatus `json:"status"`
	// AnsweredByPerson is the person of the originator who answered; it is
	// 0 for readers who may not know an anonymised report's source.
	AnsweredByPerson int64      `json:"answered_by_person,omitempty"`
	AnswerNote       string     `json:"answer_note"`
	CreatedAt        time.Time  `json:"created_at"`
	AnsweredAt       *time.Time `json:"answered_at,omitempty"`
}

// consentSelect reads requests as v may see them: only about items v may
// see (policy.Where), and only by the two parties to a request, the
// originating organisation and the one that asked. The answerer is named
// only to those who may know the source.
func consentSelect(v policy.Viewer) (string, []any) {
	src, args := policy.SourceVisible(v, "i")
	where, wargs := policy.Where(v, "i")
	args = append(append(args, wargs...), v.OrgID, v.OrgID)
	return `SELECT r.id, r.item_id, r.case_id, r.requested_by_org, COALESCE(r.requested_by_person, 0), r.from_tlp, r.to_tlp,
		r.add_recipients, r.add_sectors, r.reason, r.status, CASE WHEN ` + src + ` THEN COALESCE(r.answered_by_person, 0) ELSE 0 END,
		r.answer_note, r.created_at, r.answered_at
		FROM consent_requests r JOIN items i ON i.id = r.item_id
		WHERE ` + where + ` AND (i.originator_org_id = ? OR r.requested_by_org = ?)`, args
}

func scanConsent(r rowScanner) (*ConsentRequest, error) {
	c := &ConsentRequest{}
	var recipients, sectors, status string
	var answered sqlNullTime
	if err := r.Scan(&c.ID, &c.ItemID, &c.CaseID, &c.RequestedByOrg, &c.RequestedByPerson, &c.FromTLP, &c.ToTLP,
		&recipients, &sectors, &c.Reason, &status, &c.AnsweredByPerson, &c.AnswerNote, &c.CreatedAt, &answered); err != nil {
		return nil, err
	}
	c.Status = ConsentStatus(status)
	c.CreatedAt, c.AnsweredAt = c.CreatedAt.UTC(), answered.ptr()
	c.AddRecipients, c.AddSectors = []int64{}, []string{}
	if err := json.Unmarshal([]byte(recipients), &c.AddRecipients); err != nil {
		return nil, fmt.Errorf("consent request %d: recipients: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(sectors), &c.AddSectors); err != nil {
		return nil, fmt.Errorf("consent request %d: sectors: %w", c.ID, err)
	}
	return c, nil
}

// ConsentRequests lists the requests about a case that v may see, oldest
// first. Someone who may see the case but is not a party sees none.
func (db *DB) ConsentRequests(ctx context.Context, v policy.Viewer, caseID int64) ([]*ConsentRequest, error) {
	out := []*ConsentRequest{}
	if v.Anonymous || v.OrgID == 0 {
		return out, nil
	}
	sel, args := consentSelect(v)
	rows, err := db.query(ctx, sel+` AND r.case_id = ? ORDER BY r.id`, append(args, caseID)...)
	if err != nil {
		return nil, fmt.Errorf("list consent requests: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanConsent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ConsentRequest returns one request if v may see it, else ErrNotFound.
func (db *DB) ConsentRequest(ctx context.Context, v policy.Viewer, id int64) (*ConsentRequest, error) {
	if v.Anonymous || v.OrgID == 0 {
		return nil, fmt.Errorf("consent request %d: %w", id, kyoyu.ErrNotFound)
	}
	sel, args := consentSelect(v)
	c, err := scanConsent(db.queryRow(ctx, sel+` AND r.id = ?`, append(args, id)...))
	if err != nil {
		return nil, fmt.Errorf("consent request %d: %w", id, db.mapErr(err))
	}
	return c, nil
}

// auditItem records what actor did to an object that belongs to an item.
func (tx *Tx) auditItem(ctx context.Context, actor kyoyu.Actor, itemID int64, action, objType, objID, detail string) error {
	e := EntryFor(actor, action, objType, objID, audit.OK, detail)
	e.ItemID = itemID
	return tx.appendAudit(ctx, e)
}

func consentDetail(r *ConsentRequest) string {
	return fmt.Sprintf("case=%d from=%s to=%s recipients=%v sectors=%v", r.CaseID, r.FromTLP, r.ToTLP, r.AddRecipients, r.AddSectors)
}

// CreateConsentRequest stores a new pending request, audited, with the
// notifications of the originator's people, in one transaction. A second
// pending request of the same organisation for the item is a conflict.
func (db *DB) CreateConsentRequest(ctx context.Context, actor kyoyu.Actor, r *ConsentRequest, notify []Notification) error {
	if r.AddRecipients == nil {
		r.AddRecipients = []int64{}
	}
	if r.AddSectors == nil {
		r.AddSectors = []string{}
	}
	recipients, _ := json.Marshal(r.AddRecipients)
	sectors, _ := json.Marshal(r.AddSectors)
	return db.Update(ctx, func(tx *Tx) error {
		r.Status, r.CreatedAt = ConsentPending, tx.now
		var err error
		r.ID, err = tx.insert(ctx, `INSERT INTO consent_requests (item_id, case_id, requested_by_org, requested_by_person, from_tlp, to_tlp,
			add_recipients, add_sectors, reason, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ItemID, r.CaseID, r.RequestedByOrg, nullID(r.RequestedByPerson), r.FromTLP, r.ToTLP,
			string(recipients), string(sectors), r.Reason, string(r.Status), tx.now)
		if err != nil {
			if sqliteIsConflict(err) || postgresIsConflict(err) {
				return &kyoyu.Error{Code: kyoyu.ECONFLICT, Message: "consent.already_pending", Err: err}
			}
			return fmt.Errorf("create consent request: %w", err)
		}
		for _, n := range notify {
			n.ItemID = r.ItemID
			if err := tx.notify(ctx, n); err != nil {
				return err
			}
		}
		return tx.auditItem(ctx, actor, r.ItemID, "consent.request", "consent_request", fmt.Sprint(r.ID), consentDetail(r))
	})
}

// ConsentAnswer closes a pending request: the originator grants or
// refuses it, or the requester withdraws it.
type ConsentAnswer struct {
	RequestID int64
	Status    ConsentStatus // granted, refused or withdrawn
	PersonID  int64
	Note      string
	// Notify is who is told, in the same transaction.
	Notify []Notification
}

// AnswerConsent records the answer to a pending request and, when it is
// granted, widens the item to the range asked for — all in one
// transaction, so the range never changes without its recorded consent
// and a consent is never recorded without its change. A request that is
// no longer pending is a conflict (two answers at once: one wins).
func (db *DB) AnswerConsent(ctx context.Context, actor kyoyu.Actor, a ConsentAnswer) error {
	if !slices.Contains([]ConsentStatus{ConsentGranted, ConsentRefused, ConsentWithdrawn}, a.Status) {
		return &kyoyu.Error{Code: kyoyu.EINVALID, Message: "consent.invalid", Fields: map[string]string{"status": "invalid_choice"}}
	}
	return db.Update(ctx, func(tx *Tx) error {
		var r ConsentRequest
		var recipients, sectors string
		err := tx.queryRow(ctx, `SELECT item_id, case_id, from_tlp, to_tlp, add_recipients, add_sectors FROM consent_requests WHERE id = ?`, a.RequestID).
			Scan(&r.ItemID, &r.CaseID, &r.FromTLP, &r.ToTLP, &recipients, &sectors)
		if err != nil {
			return fmt.Errorf("consent request %d: %w", a.RequestID, tx.db.mapErr(err))
		}
		if err := json.Unmarshal([]byte(recipients), &r.AddRecipients); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(sectors), &r.AddSectors); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `UPDATE consent_requests SET status = ?, answered_by_person = ?, answer_note = ?, answered_at = ?
			WHERE id = ? AND status = 'pending'`, string(a.Status), nullID(a.PersonID), a.Note, tx.now, a.RequestID)
		if err != nil {
			return fmt.Errorf("answer consent request: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &kyoyu.Error{Code: kyoyu.ECONFLICT, Message: "consent.already_answered"}
		}
		detail := consentDetail(&r)
		if a.Status == ConsentGranted {
			tlp, err := tx.widenItem(ctx, r.ItemID, policy.TLP(r.ToTLP), r.AddRecipients, r.AddSectors)
			if err != nil {
				return err
			}
			detail += " now=" + string(tlp)
		}
		for _, n := range a.Notify {
			n.ItemID = r.ItemID
			if err := tx.notify(ctx, n); err != nil {
				return err
			}
		}
		action := map[ConsentStatus]string{ConsentGranted: "consent.grant", ConsentRefused: "consent.refuse", ConsentWithdrawn: "consent.withdraw"}[a.Status]
		return tx.auditItem(ctx, actor, r.ItemID, action, "consent_request", fmt.Sprint(a.RequestID), detail)
	})
}

// widenItem applies a granted request: the item's range becomes to when
// that is wider (a later, wider grant is never narrowed by an earlier
// one), and the recipients and sectors are added. It returns the range.
func (tx *Tx) widenItem(ctx context.Context, id int64, to policy.TLP, recipients []int64, sectors []string) (policy.TLP, error) {
	var cur string
	if err := tx.queryRow(ctx, `SELECT tlp FROM items WHERE id = ?`, id).Scan(&cur); err != nil {
		return "", fmt.Errorf("item %d: %w", id, tx.db.mapErr(err))
	}
	next := policy.TLP(cur)
	if to.Valid() && next.Valid() && policy.Widens(next, to) {
		next = to
	}
	if _, err := tx.exec(ctx, `UPDATE items SET tlp = ?, updated_at = ? WHERE id = ?`, string(next), tx.now, id); err != nil {
		return "", fmt.Errorf("widen item %d: %w", id, err)
	}
	if err := tx.setItemRelations(ctx, id, policy.Item{Recipients: recipients, Sectors: sectors}); err != nil {
		return "", err
	}
	return next, nil
}

// SetPartners makes partners the analysis partners (※2) of a case's item:
// those not yet engaged are added, those no longer chosen removed. notify
// holds, per partner organisation, the notifications to send if it is
// newly engaged. It returns what changed.
func (db *DB) SetPartners(ctx context.Context, actor kyoyu.Actor, caseID int64, partners []int64, notify map[int64][]Notification) (added, removed []int64, err error) {
	err = db.Update(ctx, func(tx *Tx) error {
		var itemID int64
		if err := tx.queryRow(ctx, `SELECT item_id FROM cases WHERE id = ?`, caseID).Scan(&itemID); err != nil {
			return fmt.Errorf("case %d: %w", caseID, tx.db.mapErr(err))
		}
		rows, err := tx.query(ctx, `SELECT org_id FROM item_orgs WHERE item_id = ? AND relation = ? ORDER BY org_id`, itemID, policy.RelPartner)
		if err != nil {
			return err
		}
		var current []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			current = append(current, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		added, removed = nil, nil
		for _, id := range current {
			if !slices.Contains(partners, id) {
				removed = append(removed, id)
				if _, err := tx.exec(ctx, `DELETE FROM item_orgs WHERE item_id = ? AND org_id = ? AND relation = ?`, itemID, id, policy.RelPartner); err != nil {
					return fmt.Errorf("remove partner %d: %w", id, err)
				}
			}
		}
		for _, id := range partners {
			if slices.Contains(current, id) || slices.Contains(added, id) {
				continue
			}
			added = append(added, id)
			if err := tx.setItemRelations(ctx, itemID, policy.Item{Partners: []int64{id}}); err != nil {
				return err
			}
			for _, n := range notify[id] {
				n.ItemID = itemID
				if err := tx.notify(ctx, n); err != nil {
					return err
				}
			}
		}
		if len(added) == 0 && len(removed) == 0 {
			return nil
		}
		if _, err := tx.exec(ctx, `UPDATE items SET updated_at = ? WHERE id = ?`, tx.now, itemID); err != nil {
			return err
		}
		return tx.auditItem(ctx, actor, itemID, "case.partners", "case", fmt.Sprint(caseID),
			fmt.Sprintf("added=%s removed=%s", idList(added), idList(removed)))
	})
	return added, removed, err
}

func idList(xs []int64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return "[" + strings.Join(s, ",") + "]"
}
