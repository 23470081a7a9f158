package stix

import (
	"encoding/json"
	"fmt"
	"sort"

	"kyoyu"
	"kyoyu/policy"
)

// understood says what Kyoyu makes of each type it reads; every other
// type is kept opaque: stored as received and served back, but not read.
var understood = map[string]string{
	"marking-definition":   "TLP markings set the sharing range; statements are kept with it",
	"extension-definition": "defines the extensions objects carry",
	"identity":             "an organisation or person",
	"incident":             "an incident (Kyoyu's own extension is read back as the report form)",
	"report":               "a report: its name, description and the objects it refers to",
	"note":                 "a note on other objects",
	"course-of-action":     "a recommended action",
	"indicator":            "an indicator with its detection pattern",
	"sighting":             "a sighting of an indicator or other object",
	"relationship":         "a link between two objects",
	"ipv4-addr":            "an observable Kyoyu also finds in reports",
	"ipv6-addr":            "an observable Kyoyu also finds in reports",
	"domain-name":          "an observable Kyoyu also finds in reports",
	"url":                  "an observable Kyoyu also finds in reports",
	"email-addr":           "an observable Kyoyu also finds in reports",
	"file":                 "an observable Kyoyu also finds in reports (hashes, name)",
}

// Understood reports whether Kyoyu reads objects of a type, and how.
func Understood(typ string) (string, bool) {
	s, ok := understood[typ]
	return s, ok
}

// Plan is what importing a parsed bundle will do: one sharing range for
// the whole bundle, and a line per object.
type Plan struct {
	BundleID string
	// TLP is the range the bundle is shared under: the narrowest of its
	// TLP markings and of the range the importer gave.
	TLP policy.TLP
	// RangeFrom says where the range came from: "markings", or "importer"
	// (no TLP marking, or the importer's range was narrower).
	RangeFrom string
	Objects   []*Object
	Notes     []string
}

// ImportOptions are the importer's choices.
type ImportOptions struct {
	// Range is the range the importer gives; empty to take the markings'.
	// A bundle with no TLP marking is refused without one: a range is
	// never assumed.
	Range policy.TLP
}

// PlanImport maps a bundle's markings to one sharing range, conservatively:
// TLP 1.0 and 2.0 markings (and OpenCTI's AMBER+STRICT) by their level,
// AMBER+STRICT as RED, several as the narrowest, the importer's range when
// given and narrower. An unmapped marking — a definition neither TLP nor a
// statement, a known TLP id defining another level, a reference to a
// marking nobody defines — refuses the bundle.
func PlanImport(b *ParsedBundle, opt ImportOptions) (*Plan, error) {
	if opt.Range != "" && !opt.Range.Valid() {
		return nil, &kyoyu.Error{Code: kyoyu.EINVALID, Message: fmt.Sprintf("unknown sharing range %q", opt.Range), Fields: map[string]string{"tlp": "invalid_choice"}}
	}
	p := &Plan{BundleID: b.ID, Objects: b.Objects}
	defined := map[string]*Object{}
	for _, o := range b.Objects {
		if o.Type == "marking-definition" {
			defined[o.ID] = o
		}
	}
	var problems []Problem
	var levels []Level
	statements := map[string]bool{}
	checked := map[string]bool{}
	check := func(o *Object, ref string) {
		if checked[ref] {
			return
		}
		checked[ref] = true
		def := defined[ref]
		if lvl, ok := KnownMarking(ref); ok {
			if def != nil {
				if stated, ok := statedLevel(def.props); ok && stated != lvl {
					problems = append(problems, Problem{Where: where(def.Index), ID: ref, Code: "inconsistent_marking",
						Detail: fmt.Sprintf("has the id of TLP:%s but defines %s", upper(string(lvl)), upper(string(stated)))})
					return
				}
			}
			levels = append(levels, lvl)
			return
		}
		if def == nil {
			problems = append(problems, Problem{Where: where(o.Index), ID: o.ID, Code: "unknown_marking",
				Detail: fmt.Sprintf("marking %s is neither a standard TLP marking nor defined in the bundle", ref)})
			return
		}
		var dt string
		_ = json.Unmarshal(def.props["definition_type"], &dt)
		if dt == "statement" {
			statements[ref] = true
			return
		}
		detail := fmt.Sprintf("marking-definition of type %q cannot be mapped to a sharing range", dt)
		if lvl, ok := statedLevel(def.props); ok {
			detail = fmt.Sprintf("claims TLP:%s but is not the standard TLP marking-definition id; cannot be mapped to a sharing range", upper(string(lvl)))
		}
		problems = append(problems, Problem{Where: where(def.Index), ID: ref, Code: "unmappable_marking", Detail: detail})
	}
	for _, o := range b.Objects {
		if o.Type == "marking-definition" {
			// A definition sent along counts even if nothing refers to it:
			// the sender meant something by it.
			check(o, o.ID)
		}
		for _, ref := range o.MarkingRefs {
			check(o, ref)
		}
	}
	if len(problems) > 0 {
		return nil, refusal(kyoyu.EINVALID, problems)
	}
	var ranges []policy.TLP
	for _, l := range levels {
		ranges = append(ranges, l.Range())
	}
	switch {
	case len(ranges) == 0 && opt.Range == "":
		return nil, &kyoyu.Error{Code: kyoyu.EINVALID,
			Message: "the bundle carries no TLP marking: give the range to share it under (it is never assumed)",
			Fields:  map[string]string{"tlp": "required"}}
	case len(ranges) == 0:
		p.TLP, p.RangeFrom = opt.Range, "importer"
	default:
		p.TLP, p.RangeFrom = ranges[0], "markings"
		for _, r := range ranges[1:] {
			p.TLP = policy.Narrower(p.TLP, r)
		}
		// The importer may narrow the markings' range, never widen it.
		if opt.Range != "" && policy.Narrower(p.TLP, opt.Range) != p.TLP {
			p.TLP, p.RangeFrom = opt.Range, "importer"
		}
	}
	for _, l := range levels {
		if l == LevelAmberStrict {
			p.Notes = append(p.Notes, "TLP:AMBER+STRICT (the recipient organisation only) is narrower than AMBER here: shared as RED")
			break
		}
	}
	if len(levels) > 1 {
		p.Notes = append(p.Notes, fmt.Sprintf("several TLP markings: the narrowest, %s, applies to the whole bundle", upper(string(p.TLP))))
	}
	var st []string
	for s := range statements {
		st = append(st, s)
	}
	sort.Strings(st)
	for _, s := range st {
		p.Notes = append(p.Notes, "statement marking "+s+" is kept with the objects; it does not set a range")
	}
	return p, nil
}

// Account is what an import did, for the person who asked: the range,
// what was stored and skipped and why, and what Kyoyu understands of it.
type Account struct {
	BundleID  string `json:"bundle_id"`
	ItemID    int64  `json:"item_id,omitempty"`
	TLP       string `json:"tlp"`
	RangeFrom string `json:"range_from"`
	Total     int    `json:"total"`
	Stored    int    `json:"stored"`
	Skipped   int    `json:"skipped"`
	// Understood and Opaque count the stored and skipped objects by type.
	Understood map[string]int  `json:"understood"`
	Opaque     map[string]int  `json:"opaque"`
	Objects    []ObjectOutcome `json:"objects"`
	Notes      []string        `json:"notes"`
}

// ObjectOutcome is one object's line of an account.
type ObjectOutcome struct {
	Index      int    `json:"index"`
	ID         string `json:"id"`
	Type       string `json:"type"`
	Version    string `json:"version,omitempty"`
	Outcome    string `json:"outcome"` // stored or skipped
	Understood bool   `json:"understood"`
	Note       string `json:"note"`
}

// Outcomes of an object.
const (
	Stored  = "stored"
	Skipped = "skipped"
)

// NewAccount writes the account of a plan; skipped maps an object's
// index to why it was not stored.
func NewAccount(p *Plan, skipped map[int]string) *Account {
	a := &Account{BundleID: p.BundleID, TLP: string(p.TLP), RangeFrom: p.RangeFrom, Total: len(p.Objects),
		Understood: map[string]int{}, Opaque: map[string]int{}, Objects: []ObjectOutcome{}, Notes: append([]string{}, p.Notes...)}
	for _, o := range p.Objects {
		how, ok := understood[o.Type]
		oc := ObjectOutcome{Index: o.Index, ID: o.ID, Type: o.Type, Version: o.Version(), Outcome: Stored, Understood: ok, Note: how}
		if ok {
			a.Understood[o.Type]++
		} else {
			a.Opaque[o.Type]++
			oc.Note = "kept as received: Kyoyu has no counterpart for " + o.Type
		}
		if o.Type == "incident" {
			if _, _, ours := DecodeIncident(o.Raw); ours {
				oc.Note = "a Kyoyu report: the form is read back from its extension"
			}
		}
		if why, skip := skipped[o.Index]; skip {
			oc.Outcome, oc.Note = Skipped, why
			a.Skipped++
		} else {
			a.Stored++
		}
		a.Objects = append(a.Objects, oc)
	}
	return a
}
