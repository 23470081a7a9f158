package misp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"kyoyu"
	"kyoyu/stix"
)

// Limits bound an input before anything is stored.
type Limits struct {
	MaxBytes      int64
	MaxEvents     int
	MaxAttributes int // over all events, objects' attributes included
}

// DefaultLimits suit an interactive import.
var DefaultLimits = Limits{MaxBytes: 16 << 20, MaxEvents: 1000, MaxAttributes: 100000}

const maxProblems = 50

// Problem is one reason an input is refused (the same shape as a STIX
// bundle's, so callers list both alike).
type Problem = stix.Problem

// refusal wraps problems as the domain's error, like a refused bundle.
func refusal(code string, problems []Problem) error {
	fields := map[string]string{}
	for _, p := range problems {
		if _, dup := fields[p.Where]; !dup {
			fields[p.Where] = p.Code
		}
	}
	msg := "MISP input refused, nothing imported: " + problems[0].String()
	if n := len(problems) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return &kyoyu.Error{Code: code, Message: msg, Fields: fields, Err: &stix.RefusedError{Problems: problems}}
}

// Detect says what a file holds: "stix" for a STIX bundle, "misp" for MISP
// events in any shape Parse reads, "" if neither.
func Detect(data []byte) string {
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(data) == 0 {
		return ""
	}
	if data[0] == '[' {
		return "misp"
	}
	var head map[string]json.RawMessage
	if json.Unmarshal(data, &head) != nil {
		return ""
	}
	var typ string
	_ = json.Unmarshal(head["type"], &typ)
	switch {
	case typ == "bundle":
		return "stix"
	case head["Event"] != nil || head["response"] != nil || head["info"] != nil || head["Attribute"] != nil:
		return "misp"
	}
	return ""
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Parse reads MISP events. Anything wrong — malformed JSON, no event, an
// attribute type MISP does not define, a distribution out of range, an
// event without uuid or info, more than the limits — refuses the whole
// input, every problem named (up to 50).
func Parse(data []byte, lim Limits) ([]*Event, error) {
	if lim == (Limits{}) {
		lim = DefaultLimits
	}
	if lim.MaxBytes > 0 && int64(len(data)) > lim.MaxBytes {
		return nil, refusal(kyoyu.ETOOLARGE, []Problem{{Where: "input", Code: "too_large",
			Detail: fmt.Sprintf("the input is %d bytes, over the limit of %d", len(data), lim.MaxBytes)}})
	}
	if !utf8.Valid(data) {
		return nil, refusal(kyoyu.EINVALID, []Problem{{Where: "input", Code: "not_utf8", Detail: "the input is not UTF-8"}})
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	raws, err := events(data)
	if err != nil {
		return nil, err
	}
	if lim.MaxEvents > 0 && len(raws) > lim.MaxEvents {
		return nil, refusal(kyoyu.ETOOLARGE, []Problem{{Where: "input", Code: "too_many_events",
			Detail: fmt.Sprintf("%d events, over the limit of %d", len(raws), lim.MaxEvents)}})
	}
	var out []*Event
	var problems []Problem
	add := func(p Problem) {
		if len(problems) < maxProblems {
			problems = append(problems, p)
		}
	}
	attrs := 0
	uuids := map[string]int{}
	for i, raw := range raws {
		where := fmt.Sprintf("events/%d", i)
		var ev Event
		dec := json.NewDecoder(bytes.NewReader(raw))
		if err := dec.Decode(&ev); err != nil {
			add(Problem{Where: where, Code: "malformed", Detail: "not a MISP event: " + jsonError(err)})
			continue
		}
		if j, dup := uuids[strings.ToLower(ev.UUID)]; dup && ev.UUID != "" {
			add(Problem{Where: where + "/uuid", Code: "duplicate_event", Detail: fmt.Sprintf("event %s is also events/%d", ev.UUID, j)})
		}
		uuids[strings.ToLower(ev.UUID)] = i
		for _, p := range checkEvent(&ev) {
			p.Where = where + p.Where
			add(p)
		}
		attrs += len(ev.Attributes)
		for _, o := range ev.Objects {
			attrs += len(o.Attributes)
		}
		out = append(out, &ev)
	}
	if lim.MaxAttributes > 0 && attrs > lim.MaxAttributes {
		return nil, refusal(kyoyu.ETOOLARGE, []Problem{{Where: "input", Code: "too_many_attributes",
			Detail: fmt.Sprintf("%d attributes, over the limit of %d", attrs, lim.MaxAttributes)}})
	}
	if len(problems) > 0 {
		return nil, refusal(kyoyu.EINVALID, problems)
	}
	return out, nil
}

// events finds the events of an input in any of the shapes MISP writes.
func events(data []byte) ([]json.RawMessage, error) {
	bad := func(code, detail string) error {
		return refusal(kyoyu.EINVALID, []Problem{{Where: "input", Code: code, Detail: detail}})
	}
	var top json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, bad("malformed", "not JSON: "+jsonError(err))
	}
	top = bytes.TrimSpace(top)
	var list []json.RawMessage
	switch {
	case len(top) > 0 && top[0] == '[':
		if err := json.Unmarshal(top, &list); err != nil {
			return nil, bad("malformed", jsonError(err))
		}
	case len(top) > 0 && top[0] == '{':
		var head map[string]json.RawMessage
		if err := json.Unmarshal(top, &head); err != nil {
			return nil, bad("malformed", jsonError(err))
		}
		var typ string
		_ = json.Unmarshal(head["type"], &typ)
		switch {
		case typ == "bundle":
			return nil, bad("not_misp", "this is a STIX bundle, not a MISP event: import it as STIX")
		case head["response"] != nil:
			if err := json.Unmarshal(head["response"], &list); err != nil {
				return nil, bad("malformed", `"response" is not a list of events`)
			}
		default:
			list = []json.RawMessage{top}
		}
	default:
		return nil, bad("missing_event", "no MISP event: want {\"Event\": {...}}, an event object, a list of them, or {\"response\": [...]}")
	}
	if len(list) == 0 {
		return nil, bad("missing_event", "no MISP event in the input")
	}
	out := make([]json.RawMessage, 0, len(list))
	for i, el := range list {
		var head map[string]json.RawMessage
		if err := json.Unmarshal(el, &head); err != nil {
			return nil, bad("missing_event", fmt.Sprintf("element %d is not an object", i))
		}
		if ev, ok := head["Event"]; ok {
			out = append(out, ev)
			continue
		}
		if head["info"] == nil && head["uuid"] == nil && head["Attribute"] == nil {
			return nil, bad("missing_event", fmt.Sprintf("element %d has no \"Event\" and is not an event (no info, uuid or Attribute)", i))
		}
		out = append(out, el)
	}
	return out, nil
}

func jsonError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s has the wrong type (%s)", te.Field, te.Value)
	}
	return err.Error()
}

// checkEvent names what is wrong with an event; Where is relative to it.
func checkEvent(ev *Event) []Problem {
	var ps []Problem
	p := func(where, code, detail string) { ps = append(ps, Problem{Where: where, Code: code, Detail: detail}) }
	if !uuidPattern.MatchString(ev.UUID) {
		p("/uuid", "invalid_uuid", fmt.Sprintf("the event's uuid %q is not a UUID", ev.UUID))
	}
	if strings.TrimSpace(ev.Info) == "" {
		p("/info", "missing_info", "the event has no info (its title)")
	}
	if ev.Date != "" {
		if _, err := time.Parse(time.DateOnly, ev.Date); err != nil {
			p("/date", "invalid_date", fmt.Sprintf("date %q is not YYYY-MM-DD", ev.Date))
		}
	}
	if ev.Distribution != nil && (*ev.Distribution < 0 || *ev.Distribution > 4) {
		p("/distribution", "invalid_distribution", fmt.Sprintf("event distribution %d is not 0–4", *ev.Distribution))
	}
	if ev.ThreatLevelID < 0 || ev.ThreatLevelID > 4 {
		p("/threat_level_id", "invalid_threat_level", fmt.Sprintf("threat_level_id %d is not 1–4", ev.ThreatLevelID))
	}
	if ev.Analysis < 0 || ev.Analysis > 2 {
		p("/analysis", "invalid_analysis", fmt.Sprintf("analysis %d is not 0–2", ev.Analysis))
	}
	checkTags := func(where string, tags []Tag) {
		for i, t := range tags {
			if strings.TrimSpace(t.Name) == "" {
				p(fmt.Sprintf("%s/Tag/%d", where, i), "empty_tag", "a tag without a name")
			}
		}
	}
	checkTags("", ev.Tags)
	checkAttr := func(where string, a *Attribute) {
		if !KnownType(a.Type) {
			p(where+"/type", "unknown_type", fmt.Sprintf("attribute type %q is not a MISP type", a.Type))
		}
		if a.Category != "" && !categories[a.Category] {
			p(where+"/category", "unknown_category", fmt.Sprintf("category %q is not a MISP category", a.Category))
		}
		if a.UUID != "" && !uuidPattern.MatchString(a.UUID) {
			p(where+"/uuid", "invalid_uuid", fmt.Sprintf("uuid %q is not a UUID", a.UUID))
		}
		if a.Distribution != nil && (*a.Distribution < 0 || *a.Distribution > 5) {
			p(where+"/distribution", "invalid_distribution", fmt.Sprintf("distribution %d is not 0–5", *a.Distribution))
		}
		if !bool(a.Deleted) && strings.TrimSpace(a.Value) == "" {
			p(where+"/value", "empty_value", "an attribute without a value")
		}
		checkTags(where, a.Tags)
	}
	for i := range ev.Attributes {
		checkAttr(fmt.Sprintf("/Attribute/%d", i), &ev.Attributes[i])
	}
	for i := range ev.Objects {
		o := &ev.Objects[i]
		w := fmt.Sprintf("/Object/%d", i)
		if strings.TrimSpace(o.Name) == "" {
			p(w+"/name", "missing_name", "an object without a name")
		}
		if o.UUID != "" && !uuidPattern.MatchString(o.UUID) {
			p(w+"/uuid", "invalid_uuid", fmt.Sprintf("uuid %q is not a UUID", o.UUID))
		}
		if o.Distribution != nil && (*o.Distribution < 0 || *o.Distribution > 5) {
			p(w+"/distribution", "invalid_distribution", fmt.Sprintf("distribution %d is not 0–5", *o.Distribution))
		}
		for j := range o.Attributes {
			checkAttr(fmt.Sprintf("%s/Attribute/%d", w, j), &o.Attributes[j])
		}
	}
	return ps
}
