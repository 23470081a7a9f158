package stix

import (
	"encoding/json"

	"kyoyu/policy"
)

// Level is a TLP level as a marking states it.
type Level string

const (
	LevelClear       Level = "clear" // TLP 2.0 CLEAR, TLP 1.0 WHITE
	LevelGreen       Level = "green"
	LevelAmber       Level = "amber"
	LevelAmberStrict Level = "amber+strict" // TLP 2.0 only
	LevelRed         Level = "red"
)

// The TLP marking-definition ids, copied from INTEROP.md (STIX 2.1 §7.2.1
// for 1.0, the OASIS TLP 2.0 extension for 2.0); some public code carries
// wrong 2.0 ids, so none is taken from anywhere else.
const (
	TLP1White = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
	TLP1Green = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
	TLP1Amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	TLP1Red   = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"

	TLP2Clear       = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	TLP2Green       = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	TLP2Amber       = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	TLP2AmberStrict = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	TLP2Red         = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

	// OpenCTIAmberStrict is OpenCTI's own AMBER+STRICT marking.
	OpenCTIAmberStrict = "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37"

	// TLP2Extension is the extension-definition the TLP 2.0 markings use.
	TLP2Extension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
)

// knownMarkings maps every marking id we recognise to its level and the
// TLP version it belongs to (0 for OpenCTI's).
var knownMarkings = map[string]struct {
	Level   Level
	Version int
}{
	TLP1White: {LevelClear, 1}, TLP1Green: {LevelGreen, 1}, TLP1Amber: {LevelAmber, 1}, TLP1Red: {LevelRed, 1},
	TLP2Clear: {LevelClear, 2}, TLP2Green: {LevelGreen, 2}, TLP2Amber: {LevelAmber, 2},
	TLP2AmberStrict: {LevelAmberStrict, 2}, TLP2Red: {LevelRed, 2},
	OpenCTIAmberStrict: {LevelAmberStrict, 0},
}

// KnownMarking returns the level of a TLP marking id we recognise.
func KnownMarking(id string) (Level, bool) {
	m, ok := knownMarkings[id]
	return m.Level, ok
}

// Range is the sharing range an incoming TLP level is imported under,
// never wider than meant: AMBER+STRICT (the organisation only) is narrower
// than our AMBER (specific sectors), so it becomes RED.
func (l Level) Range() policy.TLP {
	switch l {
	case LevelClear:
		return policy.White
	case LevelGreen:
		return policy.Green
	case LevelAmber:
		return policy.Amber
	}
	return policy.Red
}

// MarkingID is the marking-definition id a range is exported with: TLP 1.0
// ids (version 1, the default) or TLP 2.0 (version 2). Our AMBER is TLP 2.0
// AMBER, never CLEAR or GREEN; WHITE is CLEAR. An unknown range is RED.
func MarkingID(t policy.TLP, version int) string {
	if version == 2 {
		switch t {
		case policy.White:
			return TLP2Clear
		case policy.Green:
			return TLP2Green
		case policy.Amber:
			return TLP2Amber
		}
		return TLP2Red
	}
	switch t {
	case policy.White:
		return TLP1White
	case policy.Green:
		return TLP1Green
	case policy.Amber:
		return TLP1Amber
	}
	return TLP1Red
}

// markingDefinition is a TLP marking-definition object: TLP 1.0 in the
// exact shape the OASIS schema requires, TLP 2.0 with its extension.
type markingDefinition struct {
	Type           string            `json:"type"`
	SpecVersion    string            `json:"spec_version"`
	ID             string            `json:"id"`
	Created        string            `json:"created"`
	Name           string            `json:"name"`
	DefinitionType string            `json:"definition_type,omitempty"`
	Definition     map[string]string `json:"definition,omitempty"`
	Extensions     map[string]any    `json:"extensions,omitempty"`
}

var tlp1Names = map[Level]string{LevelClear: "white", LevelGreen: "green", LevelAmber: "amber", LevelRed: "red"}

// MarkingObject returns the marking-definition object for a known TLP id.
func MarkingObject(markingID string) (json.RawMessage, bool) {
	m, ok := knownMarkings[markingID]
	if !ok || m.Version == 0 {
		return nil, false
	}
	md := markingDefinition{Type: "marking-definition", SpecVersion: SpecVersion, ID: markingID}
	if m.Version == 1 {
		name := tlp1Names[m.Level]
		md.Created, md.DefinitionType = "2017-01-20T00:00:00.000Z", "tlp"
		md.Name, md.Definition = "TLP:"+upper(name), map[string]string{"tlp": name}
	} else {
		md.Created, md.Name = "2022-10-01T00:00:00.000Z", "TLP:"+upper(string(m.Level))
		md.Extensions = map[string]any{TLP2Extension: map[string]string{"extension_type": "property-extension", "tlp_2_0": string(m.Level)}}
	}
	raw, err := marshal(md)
	return raw, err == nil
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// statedLevel reads the level a marking-definition object states about
// itself — its TLP 1.0 definition, its TLP 2.0 extension, or its name —
// so a known id carrying another level's content is caught.
func statedLevel(props map[string]json.RawMessage) (Level, bool) {
	var def struct {
		TLP string `json:"tlp"`
	}
	if raw, ok := props["definition"]; ok && json.Unmarshal(raw, &def) == nil && def.TLP != "" {
		if def.TLP == "white" {
			return LevelClear, true
		}
		return Level(def.TLP), true
	}
	var ext map[string]struct {
		TLP string `json:"tlp_2_0"`
	}
	if raw, ok := props["extensions"]; ok && json.Unmarshal(raw, &ext) == nil {
		if e, ok := ext[TLP2Extension]; ok && e.TLP != "" {
			return Level(e.TLP), true
		}
	}
	var name string
	if raw, ok := props["name"]; ok && json.Unmarshal(raw, &name) == nil {
		switch name {
		case "TLP:WHITE", "TLP:CLEAR":
			return LevelClear, true
		case "TLP:GREEN":
			return LevelGreen, true
		case "TLP:AMBER":
			return LevelAmber, true
		case "TLP:AMBER+STRICT":
			return LevelAmberStrict, true
		case "TLP:RED":
			return LevelRed, true
		}
	}
	return "", false
}
