package misp

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"kyoyu/stix"
)

// namespace seeds the ids of what an event becomes: the same event gives
// the same ids, so importing it again stores only what changed.
const namespace = "0b7e6a52-3c1f-4d8e-9a47-5e21c9d08f63"

// orgVersion is the version of every organisation's identity.
const orgVersion = "2012-01-01T00:00:00.000Z"

func sid(typ, name string) string { return typ + "--" + stix.UUID5(namespace, typ+"/"+name) }

// Outcome of one attribute (or object) of an event.
type AttributeOutcome struct {
	Where    string   `json:"where"` // Attribute/3, Object/1/Attribute/0
	UUID     string   `json:"uuid,omitempty"`
	Type     string   `json:"type"`
	Category string   `json:"category,omitempty"`
	ToIDs    bool     `json:"to_ids"`
	Outcome  string   `json:"outcome"`      // imported or skipped
	As       []string `json:"as,omitempty"` // the STIX objects it became
	Note     string   `json:"note"`
	ids      []string // the STIX ids it became, the main one last
}

// Outcomes of an attribute.
const (
	Imported = "imported"
	Skipped  = "skipped"
)

// Conversion is an event as a STIX bundle, with what became of each
// attribute.
type Conversion struct {
	BundleID   string
	Bundle     []byte
	Attributes []AttributeOutcome
}

// unixTime reads a MISP timestamp (seconds since 1970).
func unixTime(n Int) (time.Time, bool) {
	if n <= 0 || n > 253402300799 {
		return time.Time{}, false
	}
	return time.Unix(int64(n), 0).UTC(), true
}

// eventTime is when the event was last changed, else its date.
func eventTime(ev *Event) time.Time {
	if t, ok := unixTime(ev.Timestamp); ok {
		return t
	}
	if t, err := time.Parse(time.DateOnly, ev.Date); err == nil {
		return t
	}
	return time.Unix(0, 0).UTC()
}

// obj is a STIX object under construction: fixed fields plus the rest.
type obj map[string]any

// ToSTIX turns an event into a STIX 2.1 bundle marked with the plan's
// range: the event becomes a report (published) or a grouping (not yet),
// its creator organisation an identity, an attribute of an observable type
// a cyber observable with an indicator (to_ids) or an observed-data (not
// to_ids), a detection rule (snort, yara, sigma, stix2-pattern) an
// indicator of that pattern type, and every other attribute a note. What
// MISP said of each attribute travels in x_misp_* properties, so the event
// can be given back as MISP. Deleted attributes are skipped.
func ToSTIX(ev *Event, plan *Plan) (*Conversion, error) {
	marking := stix.MarkingID(plan.TLP, 1)
	marks := []string{marking}
	mraw, _ := stix.MarkingObject(marking)
	evAt := eventTime(ev)
	at := stix.Timestamp(evAt)
	conv := &Conversion{BundleID: sid("bundle", "event/"+strings.ToLower(ev.UUID))}
	var objects []any
	objects = append(objects, mraw)
	seen := map[string]bool{}
	var refs []string
	var cur *AttributeOutcome
	add := func(o obj) {
		id := o["id"].(string)
		if cur != nil {
			cur.ids = append(cur.ids, id)
		}
		if seen[id] {
			return
		}
		seen[id] = true
		objects = append(objects, o)
		refs = append(refs, id)
	}
	author := ""
	if ev.Orgc != nil && strings.TrimSpace(ev.Orgc.Name) != "" {
		key := "org/name/" + ev.Orgc.Name
		if uuidPattern.MatchString(ev.Orgc.UUID) {
			key = "org/" + strings.ToLower(ev.Orgc.UUID)
		}
		author = sid("identity", key)
		// One version of an organisation whatever the event: MISP gives
		// organisations no time, and a new version per event would make the
		// newest one depend on which event was imported last.
		o := obj{"type": "identity", "spec_version": stix.SpecVersion, "id": author, "created": orgVersion, "modified": orgVersion,
			"name": ev.Orgc.Name, "identity_class": "organization", "object_marking_refs": marks}
		if ev.Orgc.UUID != "" {
			o["x_misp_uuid"] = ev.Orgc.UUID
		}
		add(o)
	}
	containerType := "grouping"
	if ev.Published {
		containerType = "report"
	}
	container := sid(containerType, "event/"+strings.ToLower(ev.UUID))
	sdo := func(typ, key string, t time.Time) obj {
		ts := stix.Timestamp(t)
		o := obj{"type": typ, "spec_version": stix.SpecVersion, "id": sid(typ, key), "created": ts, "modified": ts, "object_marking_refs": marks}
		if author != "" {
			o["created_by_ref"] = author
		}
		return o
	}
	convert := func(where string, a *Attribute, object *Object, objectWhere string) AttributeOutcome {
		out := AttributeOutcome{Where: where, UUID: a.UUID, Type: a.Type, Category: a.Category, ToIDs: bool(a.ToIDs)}
		cur = &out
		defer func() { cur = nil }()
		if out.Category == "" {
			out.Category = DefaultCategory(a.Type)
		}
		if a.Deleted {
			out.Outcome, out.Note = Skipped, "deleted in MISP"
			return out
		}
		key := "attribute/" + strings.ToLower(a.UUID)
		if a.UUID == "" {
			key = "event/" + strings.ToLower(ev.UUID) + "/" + where
		}
		t, ok := unixTime(a.Timestamp)
		if !ok {
			t = evAt
		}
		props := obj{"x_misp_type": a.Type, "x_misp_category": out.Category, "x_misp_value": a.Value, "x_misp_to_ids": bool(a.ToIDs)}
		if a.UUID != "" {
			props["x_misp_uuid"] = a.UUID
		}
		if a.Comment != "" {
			props["x_misp_comment"] = a.Comment
		}
		if a.Timestamp > 0 {
			props["x_misp_timestamp"] = strconv.FormatInt(int64(a.Timestamp), 10)
		}
		var tags []string
		for _, tg := range a.Tags {
			if _, _, isTLP := tagRange(tg.Name); !isTLP {
				tags = append(tags, tg.Name)
			}
		}
		if len(tags) > 0 {
			props["x_misp_tags"] = tags
		}
		if object != nil {
			props["x_misp_object_name"] = object.Name
			if object.UUID != "" {
				props["x_misp_object_uuid"] = object.UUID
			}
			if object.MetaCategory != "" {
				props["x_misp_object_meta_category"] = object.MetaCategory
			}
			if a.ObjectRelation != "" {
				props["x_misp_object_relation"] = a.ObjectRelation
			}
			props["x_misp_object_where"] = objectWhere
		}
		with := func(o obj) obj {
			for k, v := range props {
				o[k] = v
			}
			return o
		}
		scos, pattern := observable(a.Type, a.Value, marks)
		switch {
		case len(scos) > 0:
			for _, s := range scos {
				add(s)
				out.As = append(out.As, s["type"].(string))
			}
			if a.ToIDs {
				o := with(sdo("indicator", key, t))
				o["name"] = a.Type + ": " + a.Value
				o["pattern"], o["pattern_type"], o["pattern_version"], o["valid_from"] = pattern, "stix", stix.SpecVersion, o["created"]
				if a.Comment != "" {
					o["description"] = a.Comment
				}
				add(o)
				out.As = append(out.As, "indicator")
				out.Note = "an indicator (to_ids) with its observable"
			} else {
				o := with(sdo("observed-data", key, t))
				o["first_observed"], o["last_observed"], o["number_observed"] = o["created"], o["created"], 1
				var ids []string
				for _, s := range scos {
					ids = append(ids, s["id"].(string))
				}
				o["object_refs"] = ids
				add(o)
				out.As = append(out.As, "observed-data")
				out.Note = "an observable (not for detection: to_ids is off)"
			}
		case bool(a.ToIDs) && ruleTypes[a.Type] != "":
			o := with(sdo("indicator", key, t))
			o["name"] = a.Type + " rule"
			o["pattern"], o["pattern_type"], o["valid_from"] = a.Value, ruleTypes[a.Type], o["created"]
			if a.Comment != "" {
				o["description"] = a.Comment
			}
			add(o)
			out.As = append(out.As, "indicator")
			out.Note = "an indicator with a " + ruleTypes[a.Type] + " pattern"
		default:
			o := with(sdo("note", key, t))
			o["abstract"] = a.Type + " (" + out.Category + ")"
			o["content"] = a.Value
			o["object_refs"] = []string{container}
			add(o)
			out.As = append(out.As, "note")
			out.Note = "a note: STIX has no observable for " + a.Type
			if a.Type == "comment" || a.Type == "text" {
				out.Note = "a note"
			}
			if a.ToIDs {
				out.Note += "; to_ids is kept, but no detection pattern is made from it"
			}
		}
		out.Outcome = Imported
		return out
	}
	for i := range ev.Attributes {
		conv.Attributes = append(conv.Attributes, convert(fmt.Sprintf("Attribute/%d", i), &ev.Attributes[i], nil, ""))
	}
	for i := range ev.Objects {
		o := &ev.Objects[i]
		w := fmt.Sprintf("Object/%d", i)
		if o.Deleted {
			conv.Attributes = append(conv.Attributes, AttributeOutcome{Where: w, UUID: o.UUID, Type: "object:" + o.Name, Outcome: Skipped, Note: "object deleted in MISP"})
			continue
		}
		for j := range o.Attributes {
			conv.Attributes = append(conv.Attributes, convert(fmt.Sprintf("%s/Attribute/%d", w, j), &o.Attributes[j], o, w))
		}
	}
	// The container: the event itself, referring to everything else.
	c := obj{"type": containerType, "spec_version": stix.SpecVersion, "id": container, "created": at, "modified": at,
		"name": ev.Info, "object_marking_refs": marks, "x_misp_event_uuid": ev.UUID,
		"x_misp_threat_level_id": strconv.FormatInt(int64(ev.ThreatLevelID), 10), "x_misp_analysis": strconv.FormatInt(int64(ev.Analysis), 10),
		"x_misp_published": bool(ev.Published)}
	if author != "" {
		c["created_by_ref"] = author
	}
	if ev.Date != "" {
		c["x_misp_date"] = ev.Date
	}
	if containerType == "report" {
		pub := evAt
		if t, ok := unixTime(ev.PublishTimestamp); ok {
			pub = t
		}
		c["published"] = stix.Timestamp(pub)
		c["report_types"] = []string{"threat-report"}
	} else {
		c["context"] = "suspicious-activity"
	}
	var labels []string
	for _, t := range ev.Tags {
		if _, _, isTLP := tagRange(t.Name); !isTLP {
			labels = append(labels, t.Name)
		}
	}
	if len(labels) > 0 {
		c["labels"] = labels
	}
	if len(refs) == 0 {
		refs = []string{marking}
	}
	c["object_refs"] = refs
	objects = append(objects, c)
	b := obj{"type": "bundle", "id": conv.BundleID, "objects": objects}
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("misp: event %s as stix: %w", ev.UUID, err)
	}
	conv.Bundle = raw
	return conv, nil
}

// ruleTypes are detection rules that become indicators of their own
// pattern type (STIX 2.1 pattern-type-ov).
var ruleTypes = map[string]string{"snort": "snort", "suricata": "suricata", "yara": "yara", "sigma": "sigma", "stix2-pattern": "stix"}

// hashKeys are MISP hash types with a STIX hash-algorithm-ov name.
var hashKeys = map[string]string{"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "sha512": "SHA-512",
	"sha3-256": "SHA3-256", "sha3-512": "SHA3-512", "ssdeep": "SSDEEP", "tlsh": "TLSH"}

// observable maps an attribute to cyber observables and the pattern that
// matches it; none for a type without an observable, or a value that is
// not what its type says (an address that does not parse).
func observable(typ, value string, marks []string) ([]obj, string) {
	value = strings.TrimSpace(value)
	sco := func(t string, props obj, contrib map[string]any) obj {
		o := obj{"type": t, "spec_version": stix.SpecVersion, "id": stix.SCOID(t, contrib), "object_marking_refs": marks}
		for k, v := range props {
			o[k] = v
		}
		return o
	}
	q := stix.QuotePattern
	ip := func(v string) ([]obj, string) {
		t := ""
		if p, err := netip.ParsePrefix(v); err == nil {
			t = map[bool]string{true: "ipv4-addr", false: "ipv6-addr"}[p.Addr().Is4()]
		} else if a, err := netip.ParseAddr(v); err == nil {
			t = map[bool]string{true: "ipv4-addr", false: "ipv6-addr"}[a.Is4() || a.Is4In6()]
		} else {
			return nil, ""
		}
		return []obj{sco(t, obj{"value": v}, map[string]any{"value": v})}, "[" + t + ":value = " + q(v) + "]"
	}
	before := func(sep string) string {
		if i := strings.LastIndex(value, sep); i > 0 {
			return value[:i]
		}
		return value
	}
	switch typ {
	case "ip-src", "ip-dst":
		return ip(value)
	case "ip-src|port", "ip-dst|port":
		return ip(before("|"))
	case "domain", "hostname", "hostname|port", "domain|ip":
		d := strings.ToLower(strings.TrimSuffix(strings.SplitN(value, "|", 2)[0], "."))
		if d == "" || strings.ContainsAny(d, " /") {
			return nil, ""
		}
		return []obj{sco("domain-name", obj{"value": d}, map[string]any{"value": d})}, "[domain-name:value = " + q(d) + "]"
	case "url":
		return []obj{sco("url", obj{"value": value}, map[string]any{"value": value})}, "[url:value = " + q(value) + "]"
	case "email", "email-src", "email-dst", "email-reply-to":
		if !strings.Contains(value, "@") {
			return nil, ""
		}
		return []obj{sco("email-addr", obj{"value": value}, map[string]any{"value": value})}, "[email-addr:value = " + q(value) + "]"
	case "filename":
		return []obj{sco("file", obj{"name": value}, map[string]any{"name": value})}, "[file:name = " + q(value) + "]"
	case "mutex":
		return []obj{sco("mutex", obj{"name": value}, map[string]any{"name": value})}, "[mutex:name = " + q(value) + "]"
	case "regkey":
		k := registryKey(value)
		if k == "" {
			return nil, ""
		}
		return []obj{sco("windows-registry-key", obj{"key": k}, map[string]any{"key": k})}, "[windows-registry-key:key = " + q(k) + "]"
	case "mac-address":
		v := strings.ToLower(value)
		return []obj{sco("mac-addr", obj{"value": v}, map[string]any{"value": v})}, "[mac-addr:value = " + q(v) + "]"
	case "AS":
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(value), "AS"), 10, 32)
		if err != nil {
			return nil, ""
		}
		return []obj{sco("autonomous-system", obj{"number": n}, map[string]any{"number": n})}, fmt.Sprintf("[autonomous-system:number = %d]", n)
	}
	if k, ok := hashKeys[typ]; ok {
		h := value
		if k != "SSDEEP" && k != "TLSH" {
			h = strings.ToLower(h)
		}
		hashes := map[string]string{k: h}
		return []obj{sco("file", obj{"hashes": hashes}, map[string]any{"hashes": hashes})}, "[file:hashes." + q(k) + " = " + q(h) + "]"
	}
	if name, ok := strings.CutPrefix(typ, "filename|"); ok {
		if k, ok := hashKeys[name]; ok {
			fn, h, found := strings.Cut(value, "|")
			if !found {
				return nil, ""
			}
			if k != "SSDEEP" && k != "TLSH" {
				h = strings.ToLower(h)
			}
			hashes := map[string]string{k: h}
			return []obj{sco("file", obj{"name": fn, "hashes": hashes}, map[string]any{"hashes": hashes, "name": fn})},
				"[file:hashes." + q(k) + " = " + q(h) + " AND file:name = " + q(fn) + "]"
		}
	}
	return nil, ""
}

// hives are the abbreviations MISP events use; STIX wants hives in full.
var hives = []struct{ short, long string }{{"HKLM", "HKEY_LOCAL_MACHINE"}, {"HKCU", "HKEY_CURRENT_USER"},
	{"HKCR", "HKEY_CLASSES_ROOT"}, {"HKCC", "HKEY_CURRENT_CONFIG"}, {"HKU", "HKEY_USERS"}}

// abbreviated is what the OASIS schema refuses anywhere in a key.
var abbreviated = regexp.MustCompile(`HKLM|HKCC|HKCR|HKCU|HKU|hklm|hkcc|hkcr|hkcu|hku`)

// registryKey spells a key's hive in full; "" if the schema would still
// refuse it (then the attribute is kept as a note).
func registryKey(v string) string {
	for _, h := range hives {
		if len(v) >= len(h.short) && strings.EqualFold(v[:len(h.short)], h.short) && (len(v) == len(h.short) || v[len(h.short)] == '\\') {
			v = h.long + v[len(h.short):]
			break
		}
	}
	if abbreviated.MatchString(v) {
		return ""
	}
	return v
}
