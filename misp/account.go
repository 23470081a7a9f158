package misp

import "kyoyu/stix"

// Account is what importing a MISP file did, event by event.
type Account struct {
	Events []*EventAccount `json:"events"`
	// Stored counts the events stored as new items; Unchanged those whose
	// every object the organisation already held.
	Stored    int `json:"stored"`
	Unchanged int `json:"unchanged"`
}

// EventAccount is one event's line: its range and how it was reached,
// what became of each attribute, and the account of the STIX objects it
// was stored as.
type EventAccount struct {
	UUID       string             `json:"uuid"`
	Info       string             `json:"info"`
	ItemID     int64              `json:"item_id,omitempty"`
	TLP        string             `json:"tlp"`
	RangeFrom  string             `json:"range_from"`
	Imported   int                `json:"imported"`
	Skipped    int                `json:"skipped"`
	Attributes []AttributeOutcome `json:"attributes"`
	Notes      []string           `json:"notes"`
	STIX       *stix.Account      `json:"stix"`
}

// NewEventAccount starts an event's account from its plan and conversion;
// attributes whose STIX objects were all skipped by the STIX import (the
// organisation already holds them) are marked skipped with its reason.
func NewEventAccount(ev *Event, plan *Plan, conv *Conversion, sacc *stix.Account) *EventAccount {
	a := &EventAccount{UUID: ev.UUID, Info: ev.Info, TLP: string(plan.TLP), RangeFrom: plan.RangeFrom,
		Attributes: []AttributeOutcome{}, Notes: append([]string{}, plan.Notes...), STIX: sacc}
	skipped := map[string]string{}
	if sacc != nil {
		for _, o := range sacc.Objects {
			if o.Outcome == stix.Skipped {
				skipped[o.ID] = o.Note
			}
		}
	}
	for _, o := range conv.Attributes {
		if o.Outcome == Imported && len(o.ids) > 0 {
			if why, ok := skipped[o.ids[len(o.ids)-1]]; ok {
				o.Outcome, o.Note = Skipped, why
			}
		}
		if o.Outcome == Imported {
			a.Imported++
		} else {
			a.Skipped++
		}
		a.Attributes = append(a.Attributes, o)
	}
	return a
}
