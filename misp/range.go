package misp

import (
	"fmt"
	"strings"

	"kyoyu"
	"kyoyu/policy"
)

// distributionRange maps a MISP distribution to the widest range it
// allows here. Kyoyu is not the sender's MISP community: "this community
// only" (1) becomes AMBER, "connected communities" (2) GREEN, "all
// communities" (3) WHITE. "Your organisation only" (0) and a sharing group
// (4), whose members cannot be mapped onto Kyoyu's organisations, become
// RED: the narrowest, and the importer may not widen it.
func distributionRange(d Int) policy.TLP {
	switch d {
	case 1:
		return policy.Amber
	case 2:
		return policy.Green
	case 3:
		return policy.White
	}
	return policy.Red
}

var distributionNames = map[Int]string{0: "your organisation only", 1: "this community only", 2: "connected communities",
	3: "all communities", 4: "a sharing group", 5: "inherit"}

// tagRange maps a tlp: tag to a range; ok is false for a tag that is not
// of the tlp namespace. TLP:AMBER+STRICT (the organisation only) and any
// tlp: value we do not know become RED, never guessed wider.
func tagRange(name string) (t policy.TLP, known, ok bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if !strings.HasPrefix(n, "tlp:") {
		return "", false, false
	}
	switch strings.Trim(strings.TrimPrefix(n, "tlp:"), `"`) {
	case "white", "clear":
		return policy.White, true, true
	case "green":
		return policy.Green, true, true
	case "amber":
		return policy.Amber, true, true
	case "red", "amber+strict":
		return policy.Red, true, true
	}
	return policy.Red, false, true
}

// Plan is the range an event is imported under and how it was reached.
type Plan struct {
	TLP policy.TLP
	// RangeFrom: "distribution", "tlp_tag", "attribute" (an attribute or
	// object narrowed it) or "importer".
	RangeFrom string
	Notes     []string
}

// Range decides one range for the whole event: the narrowest of its
// distribution, its tlp: tags, the distributions and tags of its
// attributes and objects (an attribute meant for fewer people narrows the
// whole event, so nothing of it travels wider than meant and the event
// stays one item), and the importer's range. Attributes and objects only
// narrow: an event that says nothing of its own range needs the
// importer's, as a range is never assumed.
func Range(ev *Event, importer policy.TLP) (*Plan, error) {
	if importer != "" && !importer.Valid() {
		return nil, &kyoyu.Error{Code: kyoyu.EINVALID, Message: fmt.Sprintf("unknown sharing range %q", importer), Fields: map[string]string{"tlp": "invalid_choice"}}
	}
	p := &Plan{}
	narrow := func(t policy.TLP, from string) {
		if p.TLP == "" || policy.Narrower(p.TLP, t) != p.TLP {
			p.TLP, p.RangeFrom = t, from
		}
	}
	if ev.Distribution != nil {
		narrow(distributionRange(*ev.Distribution), "distribution")
		if *ev.Distribution == 4 {
			p.Notes = append(p.Notes, "distribution 4 (a sharing group): its members cannot be mapped onto Kyoyu's organisations, so the event is shared as RED")
		}
	}
	tagNotes := func(t Tag, what string) {
		if _, known, ok := tagRange(t.Name); ok && !known {
			p.Notes = append(p.Notes, fmt.Sprintf("%s tag %q is not a TLP level Kyoyu knows: read as RED", what, t.Name))
		} else if strings.EqualFold(strings.TrimSpace(t.Name), "tlp:amber+strict") {
			p.Notes = append(p.Notes, what+" tag tlp:amber+strict (the recipient organisation only) is narrower than AMBER here: read as RED")
		}
	}
	for _, t := range ev.Tags {
		if r, _, ok := tagRange(t.Name); ok {
			tagNotes(t, "event")
			narrow(r, "tlp_tag")
		}
	}
	if p.TLP == "" {
		if importer == "" {
			return nil, &kyoyu.Error{Code: kyoyu.EINVALID,
				Message: fmt.Sprintf("event %s has neither a distribution nor a tlp: tag: give the range to share it under (it is never assumed)", ev.UUID),
				Fields:  map[string]string{"tlp": "required"}}
		}
		p.TLP, p.RangeFrom = importer, "importer"
	}
	// Members only narrow what the event (or the importer) set.
	member := func(what string, d *Int, tags []Tag) {
		if d != nil && *d != 5 {
			before := p.TLP
			narrow(distributionRange(*d), "attribute")
			if before != p.TLP {
				p.Notes = append(p.Notes, fmt.Sprintf("%s has distribution %d (%s): it narrows the whole event to %s",
					what, *d, distributionNames[*d], strings.ToUpper(string(p.TLP))))
			}
		}
		for _, t := range tags {
			r, _, ok := tagRange(t.Name)
			if !ok {
				continue
			}
			tagNotes(t, what)
			before := p.TLP
			narrow(r, "attribute")
			if before != p.TLP {
				p.Notes = append(p.Notes, fmt.Sprintf("%s has tag %s: it narrows the whole event to %s", what, t.Name, strings.ToUpper(string(p.TLP))))
			}
		}
	}
	for i := range ev.Attributes {
		if a := &ev.Attributes[i]; !a.Deleted {
			member(fmt.Sprintf("attribute %d (%s)", i, a.Type), a.Distribution, a.Tags)
		}
	}
	for i := range ev.Objects {
		o := &ev.Objects[i]
		if o.Deleted {
			continue
		}
		member(fmt.Sprintf("object %d (%s)", i, o.Name), o.Distribution, nil)
		for j := range o.Attributes {
			if a := &o.Attributes[j]; !a.Deleted {
				member(fmt.Sprintf("object %d (%s) attribute %d (%s)", i, o.Name, j, a.Type), a.Distribution, a.Tags)
			}
		}
	}
	if importer != "" && policy.Narrower(p.TLP, importer) != p.TLP {
		p.TLP, p.RangeFrom = importer, "importer"
	}
	return p, nil
}
