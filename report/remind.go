package report

import (
	"context"
	"fmt"

	"kyoyu/policy"
	"kyoyu/store"
)

// RemindOverdue reminds the originator and the ministry of every case whose
// promised follow-up has not come in time. Each person is told only if
// they may see the case.
func (s *Service) RemindOverdue(ctx context.Context) (int, error) {
	return s.DB.RemindOverdue(ctx, func(ref *store.CaseRef) ([]store.Notification, error) {
		item, err := s.DB.ItemState(ctx, ref.ItemID)
		if err != nil {
			return nil, err
		}
		var out []store.Notification
		for _, orgID := range []int64{ref.Originator, ref.Ministry} {
			org, err := s.DB.Organisation(ctx, orgID)
			if err != nil {
				return nil, err
			}
			people, err := s.DB.People(ctx, orgID)
			if err != nil {
				return nil, err
			}
			for _, p := range people {
				if p.DisabledAt == nil && policy.Decide(policy.ViewerOf(p, org), item).See {
					out = append(out, store.Notification{PersonID: p.ID, Kind: "notify.follow_up_overdue", Link: fmt.Sprintf("/cases/%d", ref.ID)})
				}
			}
			if ref.Originator == ref.Ministry {
				break
			}
		}
		return out, nil
	})
}
