package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"kyoyu"
)

// Limits bound what a bundle may be before anything is parsed or stored.
type Limits struct {
	MaxBytes   int64 // the bundle's encoded size
	MaxObjects int
}

// DefaultLimits suit an interactive import: larger feeds come in through
// the command line with limits of their own.
var DefaultLimits = Limits{MaxBytes: 16 << 20, MaxObjects: 50000}

// maxProblems is how many problems a refusal lists; the first ones are
// enough to fix a generator, and the answer stays small.
const maxProblems = 50

// Object is one object of a parsed bundle: what Kyoyu indexes, and the
// object itself, compact, exactly as received otherwise.
type Object struct {
	Index       int
	Type        string
	ID          string
	SpecVersion string
	Created     string // VersionKey of created, or ""
	Modified    string // VersionKey of modified, or "" (cyber observables have none)
	MarkingRefs []string
	Raw         json.RawMessage
	props       map[string]json.RawMessage
}

// Version is the object's version key: modified, else created, else ""
// (TAXII 2.1 §3.4.1 falls back the same way, then to date added).
func (o *Object) Version() string {
	if o.Modified != "" {
		return o.Modified
	}
	return o.Created
}

// ParsedBundle is a bundle that passed Parse.
type ParsedBundle struct {
	ID      string
	Objects []*Object
}

// Problem is one reason a bundle is refused.
type Problem struct {
	Where  string `json:"where"`        // "bundle" or "objects/N"
	ID     string `json:"id,omitempty"` // the object's id, when it has one
	Code   string `json:"code"`         // machine-readable, e.g. wrong_spec_version
	Detail string `json:"detail"`       // what is wrong, in words
}

// RefusedError lists why a bundle was refused. Nothing of a refused bundle
// is stored.
type RefusedError struct{ Problems []Problem }

func (e *RefusedError) Error() string {
	var parts []string
	for _, p := range e.Problems {
		parts = append(parts, p.String())
	}
	return strings.Join(parts, "; ")
}

func (p Problem) String() string {
	s := p.Where
	if p.ID != "" {
		s += " (" + p.ID + ")"
	}
	return s + ": " + p.Detail
}

// refusal wraps problems as the domain's error: EINVALID with a field per
// place, and the first problem (and how many more) as the message.
func refusal(code string, problems []Problem) error {
	fields := map[string]string{}
	for _, p := range problems {
		if _, dup := fields[p.Where]; !dup {
			fields[p.Where] = p.Code
		}
	}
	msg := "bundle refused, nothing imported: " + problems[0].String()
	if n := len(problems) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return &kyoyu.Error{Code: code, Message: msg, Fields: fields, Err: &RefusedError{Problems: problems}}
}

// Problems returns the problems of a refused bundle, or nil.
func Problems(err error) []Problem {
	var re *RefusedError
	if errors.As(err, &re) {
		return re.Problems
	}
	return nil
}

// Parse checks a bundle and returns its objects. A bundle with anything
// wrong — malformed JSON, not a bundle, STIX 2.0, an object without type
// or id, a wrong spec_version, an impossible timestamp, two objects with
// the same id and modified — is refused whole, every problem named.
func Parse(data []byte, lim Limits) (*ParsedBundle, error) {
	if lim.MaxBytes > 0 && int64(len(data)) > lim.MaxBytes {
		return nil, refusal(kyoyu.ETOOLARGE, []Problem{{Where: "bundle", Code: "too_large",
			Detail: fmt.Sprintf("the bundle is %d bytes, over the limit of %d", len(data), lim.MaxBytes)}})
	}
	if !utf8.Valid(data) {
		return nil, refusal(kyoyu.EINVALID, []Problem{{Where: "bundle", Code: "not_utf8", Detail: "the bundle is not UTF-8 text"}})
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, refusal(kyoyu.EINVALID, []Problem{{Where: "bundle", Code: "malformed_json", Detail: jsonError(data, err)}})
	}
	var typ, bid, spec string
	_ = json.Unmarshal(top["type"], &typ)
	_ = json.Unmarshal(top["id"], &bid)
	_ = json.Unmarshal(top["spec_version"], &spec)
	switch {
	case typ != "bundle":
		return nil, refusal(kyoyu.EINVALID, []Problem{{Where: "bundle", Code: "not_a_bundle",
			Detail: fmt.Sprintf("the top-level object is of type %q, not a STIX bundle", typ)}})
	case spec != "":
		// STIX 2.0 bundles carry spec_version; 2.1 bundles do not.
		return nil, refusal(kyoyu.EINVALID, []Problem{{Where: "bundle", Code: "wrong_spec_version",
			Detail: fmt.Sprintf("a STIX %s bundle; only STIX 2.1 is imported", spec)}})
	case !idPattern.MatchString(bid) || !strings.HasPrefix(bid, "bundle--"):
		return nil, refusal(kyoyu.EINVALID, []Problem{{Where: "bundle", Code: "invalid_id", Detail: fmt.Sprintf("bundle id %q is not bundle--<uuid>", bid)}})
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(top["objects"], &raws); err != nil || len(raws) == 0 {
		return nil, refusal(kyoyu.EINVALID, []Problem{{Where: "bundle", Code: "no_objects", Detail: "the bundle has no objects list, or an empty one"}})
	}
	if lim.MaxObjects > 0 && len(raws) > lim.MaxObjects {
		return nil, refusal(kyoyu.ETOOLARGE, []Problem{{Where: "bundle", Code: "too_many_objects",
			Detail: fmt.Sprintf("the bundle has %d objects, over the limit of %d", len(raws), lim.MaxObjects)}})
	}
	out := &ParsedBundle{ID: bid}
	var problems []Problem
	seen := map[string]int{}
	for i, raw := range raws {
		o, p := parseObject(i, raw)
		if p != nil {
			problems = append(problems, *p)
		} else {
			key := o.ID + "\x00" + o.Version()
			if first, dup := seen[key]; dup {
				problems = append(problems, Problem{Where: where(i), ID: o.ID, Code: "duplicate_id",
					Detail: fmt.Sprintf("same id and version as objects/%d", first)})
			} else {
				seen[key] = i
				out.Objects = append(out.Objects, o)
			}
		}
		if len(problems) >= maxProblems {
			break
		}
	}
	if len(problems) > 0 {
		return nil, refusal(kyoyu.EINVALID, problems)
	}
	return out, nil
}

func where(i int) string { return fmt.Sprintf("objects/%d", i) }

// jsonError says where malformed JSON goes wrong, as line and column.
func jsonError(data []byte, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		return "the bundle is not a JSON object"
	}
	if off < 0 || off > int64(len(data)) {
		return "malformed JSON: " + err.Error()
	}
	line := bytes.Count(data[:off], []byte("\n")) + 1
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Sprintf("malformed JSON at line %d, column %d: %v", line, col, err)
}

// parseObject checks one object's common properties.
func parseObject(i int, raw json.RawMessage) (*Object, *Problem) {
	bad := func(id, code, format string, args ...any) (*Object, *Problem) {
		return nil, &Problem{Where: where(i), ID: id, Code: code, Detail: fmt.Sprintf(format, args...)}
	}
	var props map[string]json.RawMessage
	if err := json.Unmarshal(raw, &props); err != nil {
		return bad("", "not_an_object", "not a JSON object")
	}
	o := &Object{Index: i, props: props}
	str := func(name string) (string, bool, bool) {
		v, ok := props[name]
		if !ok {
			return "", false, true
		}
		var s string
		err := json.Unmarshal(v, &s)
		return s, true, err == nil
	}
	typ, has, ok := str("type")
	if !has || !ok || typ == "" {
		return bad("", "missing_type", "no type")
	}
	if !typePattern.MatchString(typ) || len(typ) < 3 || len(typ) > 250 {
		return bad("", "invalid_type", "type %q is not a STIX type name", typ)
	}
	o.Type = typ
	oid, has, ok := str("id")
	if !has || !ok || oid == "" {
		return bad("", "missing_id", "no id (a %s)", typ)
	}
	if !idPattern.MatchString(oid) || !strings.HasPrefix(oid, typ+"--") {
		return bad(oid, "invalid_id", "id %q is not %s--<uuid>", oid, typ)
	}
	o.ID = oid
	for _, name := range []string{"created", "modified"} {
		s, has, ok := str(name)
		if !has {
			continue
		}
		t, valid := parseTimestamp(s)
		if !ok || !valid {
			return bad(oid, "invalid_timestamp", "%s %s is not a STIX timestamp (RFC 3339, UTC, e.g. 2026-01-02T03:04:05.000Z)", name, props[name])
		}
		if name == "created" {
			o.Created = VersionKey(t)
		} else {
			o.Modified = VersionKey(t)
		}
	}
	spec, has, ok := str("spec_version")
	switch {
	case has && (!ok || spec != SpecVersion):
		return bad(oid, "wrong_spec_version", "spec_version %s; only %q is imported", props["spec_version"], SpecVersion)
	case !has && (o.Created != "" || o.Modified != ""):
		// Domain and relationship objects must say their version; only
		// cyber observables may leave it to the bundle.
		return bad(oid, "missing_spec_version", "no spec_version (STIX 2.0 objects are not imported)")
	}
	o.SpecVersion = SpecVersion
	if refs, has := props["object_marking_refs"]; has {
		if err := json.Unmarshal(refs, &o.MarkingRefs); err != nil {
			return bad(oid, "invalid_markings", "object_marking_refs is not a list of ids")
		}
	}
	if g, has := props["granular_markings"]; has {
		var gm []struct {
			MarkingRef string `json:"marking_ref"`
		}
		if err := json.Unmarshal(g, &gm); err != nil {
			return bad(oid, "invalid_markings", "granular_markings is not a list of markings")
		}
		for _, m := range gm {
			if m.MarkingRef != "" {
				o.MarkingRefs = append(o.MarkingRefs, m.MarkingRef)
			}
		}
	}
	for _, r := range o.MarkingRefs {
		if !idPattern.MatchString(r) || !strings.HasPrefix(r, "marking-definition--") {
			return bad(oid, "invalid_markings", "marking %q is not a marking-definition id", r)
		}
	}
	sort.Strings(o.MarkingRefs)
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return bad(oid, "not_an_object", "not a JSON object")
	}
	o.Raw = buf.Bytes()
	return o, nil
}
