// Package misp reads and writes events in the MISP core format, as pure
// functions: it reads no database and decides no visibility.
//
// Import: Parse accepts an event ({"Event": {...}}), a bare event object,
// a list of either, or the answer of MISP's REST search
// ({"response": [{"Event": ...}]}), and refuses the whole input, every
// problem named, if anything is wrong with it. Range maps an event's
// distribution and TLP tags (and those of its attributes and objects) to
// one sharing range, never wider than any of them; ToSTIX turns the event
// into STIX 2.1 objects, which the STIX import path stores and serves.
//
// Export: FromSTIX turns a STIX bundle exported by Kyoyu (a case, or an
// imported item) back into a MISP event, with the distribution and TLP tag
// of the range it is shared under.
package misp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// MediaType is what MISP events are served as.
const MediaType = "application/json"

// Event is a MISP event: what Kyoyu reads and writes of it.
type Event struct {
	ID               string      `json:"id,omitempty"`
	UUID             string      `json:"uuid"`
	Info             string      `json:"info"`
	Date             string      `json:"date"`
	ThreatLevelID    Int         `json:"threat_level_id"`
	Analysis         Int         `json:"analysis"`
	Distribution     *Int        `json:"distribution,omitempty"`
	SharingGroupID   Int         `json:"sharing_group_id,omitempty"`
	Timestamp        Int         `json:"timestamp,omitempty"`
	Published        Bool        `json:"published"`
	PublishTimestamp Int         `json:"publish_timestamp,omitempty"`
	Orgc             *Org        `json:"Orgc,omitempty"`
	Org              *Org        `json:"Org,omitempty"`
	Tags             []Tag       `json:"Tag,omitempty"`
	Attributes       []Attribute `json:"Attribute"`
	Objects          []Object    `json:"Object,omitempty"`
}

// Org is an organisation as MISP names it.
type Org struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
	UUID string `json:"uuid,omitempty"`
}

// Tag is a tag on an event or an attribute (tlp:amber, type:OSINT …).
type Tag struct {
	Name   string `json:"name"`
	Colour string `json:"colour,omitempty"`
}

// Attribute is one value of an event or an object.
type Attribute struct {
	ID                 string `json:"id,omitempty"`
	UUID               string `json:"uuid"`
	Type               string `json:"type"`
	Category           string `json:"category"`
	Value              string `json:"value"`
	ToIDs              Bool   `json:"to_ids"`
	Comment            string `json:"comment"`
	Distribution       *Int   `json:"distribution,omitempty"`
	SharingGroupID     Int    `json:"sharing_group_id,omitempty"`
	Timestamp          Int    `json:"timestamp,omitempty"`
	Deleted            Bool   `json:"deleted"`
	DisableCorrelation Bool   `json:"disable_correlation"`
	ObjectRelation     string `json:"object_relation,omitempty"`
	Tags               []Tag  `json:"Tag,omitempty"`
}

// Object is a MISP object: a named template grouping attributes.
type Object struct {
	ID           string      `json:"id,omitempty"`
	UUID         string      `json:"uuid"`
	Name         string      `json:"name"`
	MetaCategory string      `json:"meta-category,omitempty"`
	Description  string      `json:"description,omitempty"`
	TemplateUUID string      `json:"template_uuid,omitempty"`
	Comment      string      `json:"comment,omitempty"`
	Distribution *Int        `json:"distribution,omitempty"`
	Timestamp    Int         `json:"timestamp,omitempty"`
	Deleted      Bool        `json:"deleted"`
	Attributes   []Attribute `json:"Attribute"`
}

// Wrapped is an event as MISP exports one: {"Event": {...}}.
type Wrapped struct {
	Event *Event `json:"Event"`
}

// Int is a number MISP writes either as a JSON number or as a string of
// digits ("3"); it is written back as a string, as MISP does.
type Int int64

func (n *Int) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*n = 0
			return nil
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	*n = Int(v)
	return nil
}

func (n Int) MarshalJSON() ([]byte, error) { return json.Marshal(strconv.FormatInt(int64(n), 10)) }

// IntPtr is a convenience for optional numbers.
func IntPtr(v int64) *Int { n := Int(v); return &n }

// Bool is a truth value MISP writes as true/false, 0/1 or "0"/"1".
type Bool bool

func (v *Bool) UnmarshalJSON(b []byte) error {
	switch string(bytes.TrimSpace(b)) {
	case "true", "1", `"1"`, `"true"`:
		*v = true
	case "false", "0", `"0"`, `"false"`, `""`, "null":
		*v = false
	default:
		return fmt.Errorf("%s is not a truth value", b)
	}
	return nil
}
