package misp

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"kyoyu/policy"
	"kyoyu/stix"
)

// Distribution and TLP tag of a range, for export. RED and AMBER stay in
// the receiving organisation (0), with their tag saying how far within it;
// GREEN goes to the receiving community (1); WHITE to all (3).
func Distribution(t policy.TLP) (Int, string) {
	switch t {
	case policy.White:
		return 3, "tlp:white"
	case policy.Green:
		return 1, "tlp:green"
	case policy.Amber:
		return 0, "tlp:amber"
	}
	return 0, "tlp:red"
}

// threatLevels maps a report's importance to MISP's threat level:
// warning (警報) high, advisory (注意喚起) medium, info low, else undefined.
var threatLevels = map[string]Int{"warning": 1, "advisory": 2, "info": 3}

type stixObject struct {
	Type  string
	ID    string
	props map[string]json.RawMessage
}

func (o *stixObject) str(k string) string {
	var s string
	_ = json.Unmarshal(o.props[k], &s)
	return s
}

func (o *stixObject) strs(k string) []string {
	var s []string
	_ = json.Unmarshal(o.props[k], &s)
	return s
}

func uuidOf(stixID string) string {
	if _, u, ok := strings.Cut(stixID, "--"); ok {
		return u
	}
	return ""
}

// unixOf is a STIX timestamp as MISP's seconds.
func unixOf(ts string) Int {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return 0
	}
	return Int(t.Unix())
}

var simplePattern = regexp.MustCompile(`^\[([a-z0-9-]+):([A-Za-z0-9_.'-]+) = '((?:[^'\\]|\\.)*)'\]$`)

// patternAttribute reads back a pattern of one comparison, as Kyoyu's own
// case exports write them.
func patternAttribute(p string) (typ, value string, ok bool) {
	m := simplePattern.FindStringSubmatch(p)
	if m == nil {
		return "", "", false
	}
	value = strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(m[3])
	switch m[1] + ":" + m[2] {
	case "ipv4-addr:value", "ipv6-addr:value":
		return "ip-dst", value, true
	case "domain-name:value":
		return "domain", value, true
	case "url:value":
		return "url", value, true
	case "email-addr:value":
		return "email", value, true
	case "file:name":
		return "filename", value, true
	}
	if m[1] == "file" && strings.HasPrefix(m[2], "hashes.") {
		k := strings.Trim(strings.TrimPrefix(m[2], "hashes."), "'")
		for t, name := range hashKeys {
			if strings.EqualFold(name, k) {
				return t, value, true
			}
		}
	}
	return "", "", false
}

// scoAttribute reads an observable left without an indicator.
func scoAttribute(o *stixObject) (typ, value string, ok bool) {
	switch o.Type {
	case "ipv4-addr", "ipv6-addr":
		return "ip-dst", o.str("value"), o.str("value") != ""
	case "domain-name":
		return "domain", o.str("value"), o.str("value") != ""
	case "url":
		return "url", o.str("value"), o.str("value") != ""
	case "email-addr":
		return "email", o.str("value"), o.str("value") != ""
	case "file":
		var h map[string]string
		_ = json.Unmarshal(o.props["hashes"], &h)
		for t, name := range hashKeys {
			if v, ok := h[name]; ok {
				if n := o.str("name"); n != "" && KnownType("filename|"+t) {
					return "filename|" + t, n + "|" + v, true
				}
				return t, v, true
			}
		}
		return "filename", o.str("name"), o.str("name") != ""
	}
	return "", "", false
}

// FromSTIX gives a STIX bundle exported by Kyoyu back as one MISP event,
// shared under tlp: the event a MISP import became (its report or
// grouping and the x_misp_* properties), or a case (its incident, its
// indicators, the operator it impacts as named in the bundle — the bundle
// already keeps anonymity, so the event does too). The creator
// organisation is the one the bundle names as author; if it names none
// (an anonymised source), Kyoyu itself.
func FromSTIX(raws []json.RawMessage, tlp policy.TLP) (*Event, error) {
	var objs []*stixObject
	byID := map[string]*stixObject{}
	for i, raw := range raws {
		o := &stixObject{}
		if err := json.Unmarshal(raw, &o.props); err != nil {
			return nil, fmt.Errorf("misp: stix object %d: %w", i, err)
		}
		o.Type, o.ID = "", ""
		_ = json.Unmarshal(o.props["type"], &o.Type)
		_ = json.Unmarshal(o.props["id"], &o.ID)
		objs = append(objs, o)
		byID[o.ID] = o
	}
	dist, tag := Distribution(tlp)
	ev := &Event{Distribution: &dist, ThreatLevelID: 4, Analysis: 0, Attributes: []Attribute{}}
	var container *stixObject
	for _, o := range objs {
		if (o.Type == "report" || o.Type == "grouping") && o.props["x_misp_event_uuid"] != nil {
			container = o
			break
		}
	}
	if container == nil {
		for _, o := range objs {
			if o.Type == "incident" || o.Type == "report" || o.Type == "grouping" {
				container = o
				break
			}
		}
	}
	var when time.Time
	if container != nil {
		ev.Info = container.str("name")
		ev.UUID = uuidOf(container.ID)
		when, _ = time.Parse(time.RFC3339Nano, container.str("created"))
		ev.Timestamp = unixOf(container.str("modified"))
		if u := container.str("x_misp_event_uuid"); u != "" {
			ev.UUID = u
		}
		if d := container.str("x_misp_date"); d != "" {
			ev.Date = d
		}
		if n, err := strconv.Atoi(container.str("x_misp_threat_level_id")); err == nil && n >= 1 && n <= 4 {
			ev.ThreatLevelID = Int(n)
		}
		if n, err := strconv.Atoi(container.str("x_misp_analysis")); err == nil && n >= 0 && n <= 2 {
			ev.Analysis = Int(n)
		}
		var pub bool
		_ = json.Unmarshal(container.props["x_misp_published"], &pub)
		ev.Published = Bool(pub || container.Type == "report")
		for _, l := range container.strs("labels") {
			ev.Tags = append(ev.Tags, Tag{Name: l})
		}
		if container.Type == "incident" {
			ext, _, _ := stix.DecodeIncident(json.RawMessage(mustMarshal(container.props)))
			if lvl, ok := threatLevels[ext.Importance]; ok {
				ev.ThreatLevelID = lvl
			}
			ev.Analysis = 1
			if ext.InvestigationStatus == "closed" {
				ev.Analysis = 2
			}
		}
		if a := byID[container.str("created_by_ref")]; a != nil && a.Type == "identity" {
			ev.Orgc = &Org{Name: a.str("name"), UUID: uuidOf(a.ID)}
			if u := a.str("x_misp_uuid"); u != "" {
				ev.Orgc.UUID = u
			}
		}
	}
	if ev.Orgc == nil {
		ev.Orgc = &Org{Name: "Kyoyu", UUID: uuidOf(stix.PlatformIdentityID)}
	}
	if ev.Info == "" {
		ev.Info = "Kyoyu STIX import"
	}
	if ev.UUID == "" {
		ev.UUID = stix.UUID5(namespace, "export/"+string(mustMarshal(raws)))
	}
	if ev.Date == "" {
		if when.IsZero() {
			when = time.Unix(int64(ev.Timestamp), 0)
		}
		ev.Date = when.UTC().Format(time.DateOnly)
	}
	ev.Tags = append([]Tag{{Name: tag}}, ev.Tags...)

	covered := map[string]bool{}
	objects := map[string]*Object{}
	var order []string
	place := func(o *stixObject, a Attribute) {
		covered[a.Type+"\x00"+a.Value] = true
		ou := o.str("x_misp_object_uuid")
		name := o.str("x_misp_object_name")
		if name == "" {
			ev.Attributes = append(ev.Attributes, a)
			return
		}
		key := ou + "\x00" + name + "\x00" + o.str("x_misp_object_where")
		obj := objects[key]
		if obj == nil {
			obj = &Object{UUID: ou, Name: name, MetaCategory: o.str("x_misp_object_meta_category"), Distribution: IntPtr(5)}
			objects[key] = obj
			order = append(order, key)
		}
		a.ObjectRelation = o.str("x_misp_object_relation")
		obj.Attributes = append(obj.Attributes, a)
	}
	five := IntPtr(5)
	for _, o := range objs {
		if t := o.str("x_misp_type"); t != "" && KnownType(t) {
			var toIDs bool
			_ = json.Unmarshal(o.props["x_misp_to_ids"], &toIDs)
			a := Attribute{UUID: o.str("x_misp_uuid"), Type: t, Category: o.str("x_misp_category"), Value: o.str("x_misp_value"),
				ToIDs: Bool(toIDs), Comment: o.str("x_misp_comment"), Distribution: five, Timestamp: unixOf(o.str("modified"))}
			if n, err := strconv.ParseInt(o.str("x_misp_timestamp"), 10, 64); err == nil {
				a.Timestamp = Int(n)
			}
			for _, tg := range o.strs("x_misp_tags") {
				a.Tags = append(a.Tags, Tag{Name: tg})
			}
			if a.Category == "" {
				a.Category = DefaultCategory(t)
			}
			if a.UUID == "" {
				a.UUID = uuidOf(o.ID)
			}
			place(o, a)
			continue
		}
		switch o.Type {
		case "indicator":
			typ, value, ok := "", "", false
			if o.str("pattern_type") == "stix" {
				typ, value, ok = patternAttribute(o.str("pattern"))
			}
			if !ok {
				typ, value = "stix2-pattern", o.str("pattern")
				if pt := o.str("pattern_type"); pt != "stix" {
					for mt, st := range ruleTypes {
						if st == pt && mt != "suricata" {
							typ = mt
						}
					}
				}
			}
			place(o, Attribute{UUID: uuidOf(o.ID), Type: typ, Category: DefaultCategory(typ), Value: value, ToIDs: true,
				Comment: o.str("description"), Distribution: five, Timestamp: unixOf(o.str("modified"))})
		case "note":
			place(o, Attribute{UUID: uuidOf(o.ID), Type: "comment", Category: "Other", Value: o.str("content"),
				Comment: o.str("abstract"), Distribution: five, Timestamp: unixOf(o.str("modified"))})
		case "relationship":
			// The operator an incident impacts, as the bundle names it (its
			// label only, for those who may not know the source).
			if o.str("relationship_type") == "impacts" {
				if t := byID[o.str("target_ref")]; t != nil && t.Type == "identity" && t.str("name") != "" {
					place(o, Attribute{UUID: uuidOf(t.ID), Type: "target-org", Category: "Targeting data", Value: t.str("name"),
						Distribution: five, Timestamp: unixOf(o.str("modified"))})
				}
			}
		}
	}
	// Observables no indicator or observed-data carried (a MISP event's
	// attributes all travel in their x_misp_* objects).
	for _, o := range objs {
		if container != nil && container.props["x_misp_event_uuid"] != nil {
			break
		}
		if typ, value, ok := scoAttribute(o); ok && !covered[typ+"\x00"+value] {
			covered[typ+"\x00"+value] = true
			ev.Attributes = append(ev.Attributes, Attribute{UUID: uuidOf(o.ID), Type: typ, Category: DefaultCategory(typ), Value: value,
				Distribution: five, Timestamp: ev.Timestamp})
		}
	}
	for _, k := range order {
		ev.Objects = append(ev.Objects, *objects[k])
	}
	return ev, nil
}

func mustMarshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// JSON encodes an event as MISP exports one: {"Event": {...}}, indented.
func (ev *Event) JSON() ([]byte, error) {
	return json.MarshalIndent(Wrapped{Event: ev}, "", "  ")
}
