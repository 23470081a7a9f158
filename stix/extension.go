package stix

import (
	"encoding/json"
	"time"

	"kyoyu"
)

// extensionCreated is when our extension-definition was first published;
// it is part of the object, so it never changes.
const extensionCreated = "2026-01-01T00:00:00.000Z"

// extensionSchema explains the extension, as §7.3 allows ("plain text
// explaining the definition") for producers without a published schema.
const extensionSchema = "Kyoyu incident report (情報連絡様式, figure 4 of the NISC handbook). " +
	"Property names follow the OASIS Incident Core extension where the meaning matches " +
	"(investigation_status, determination, criticality, impacted_entity_counts, events); " +
	"the others carry the form's fields under the names of Kyoyu's API (ReportForm in /api/v1/openapi.json). " +
	"Times are RFC 3339 UTC; coded fields use the codes of classification_version."

// IncidentExtension is the form of one report version as a property
// extension of an incident. Empty values are left out: the OASIS schemas
// refuse empty lists, and null is not a STIX value.
type IncidentExtension struct {
	ExtensionType string `json:"extension_type"`

	// Incident Core names, filled from the form where the meaning matches.
	InvestigationStatus  string         `json:"investigation_status,omitempty"`
	Determination        string         `json:"determination,omitempty"`
	Criticality          *int           `json:"criticality,omitempty"`
	ImpactedEntityCounts map[string]int `json:"impacted_entity_counts,omitempty"`
	Events               []Event        `json:"events,omitempty"`

	// The case and the version.
	CaseNumber   string `json:"case_number,omitempty"`
	ReportNumber int    `json:"report_number,omitempty"`
	Stage        string `json:"stage,omitempty"`

	// The form, under the API's names.
	ClassificationVersion string         `json:"classification_version,omitempty"`
	ReportedAt            string         `json:"reported_at,omitempty"`
	Reporter              *kyoyu.Contact `json:"reporter,omitempty"`
	TLP                   string         `json:"tlp,omitempty"`
	TLPNote               string         `json:"tlp_note,omitempty"`
	Importance            string         `json:"importance,omitempty"`
	EventClass            string         `json:"event_class,omitempty"`
	Causes                []string       `json:"causes,omitempty"`
	Sector                string         `json:"sector,omitempty"`
	OperatorName          string         `json:"operator_name,omitempty"`
	DiscoveredAt          string         `json:"discovered_at,omitempty"`
	OccurredAt            string         `json:"occurred_at,omitempty"`
	AffectedSystem        string         `json:"affected_system,omitempty"`
	SystemStatus          string         `json:"system_status,omitempty"`
	ServiceLevelDeviation *bool          `json:"service_level_deviation,omitempty"`
	SpilloverPossible     *bool          `json:"spillover_possible,omitempty"`
	Impact                *kyoyu.Impact  `json:"impact,omitempty"`
	Supplementary         string         `json:"supplementary,omitempty"`
	Press                 string         `json:"press,omitempty"`
	PressAt               string         `json:"press_at,omitempty"`
	PressTitle            string         `json:"press_title,omitempty"`
	OtherBodiesNotified   string         `json:"other_bodies_notified,omitempty"`
	Outlook               string         `json:"outlook,omitempty"`
	Lessons               string         `json:"lessons,omitempty"`
	ConcernedSectors      []string       `json:"concerned_sectors,omitempty"`
}

// Event is one line of the timeline (⑦), as written.
type Event struct {
	At          string `json:"at,omitempty"`
	Description string `json:"description"`
}

// extensionDefinition is the §7.3 object that defines IncidentExtension.
type extensionDefinition struct {
	common
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	Schema         string   `json:"schema"`
	Version        string   `json:"version"`
	ExtensionTypes []string `json:"extension_types"`
}

func extensionDefinitionObject() extensionDefinition {
	return extensionDefinition{
		common: common{Type: "extension-definition", SpecVersion: SpecVersion, ID: ExtensionID,
			Created: extensionCreated, Modified: extensionCreated, CreatedByRef: PlatformIdentityID},
		Name:           "Kyoyu incident report",
		Description:    "重要インフラの情報連絡（情報連絡様式）の内容 / the content of a critical-infrastructure incident report",
		Schema:         extensionSchema,
		Version:        "1.0",
		ExtensionTypes: []string{"property-extension"},
	}
}

// investigationStatus maps ⑧ 今後の見通し onto Incident Core's vocabulary.
var investigationStatus = map[string]string{
	"ongoing": "open", "investigating": "open", "considering": "open", "completed": "closed",
}

// criticality maps 重要度 onto the 5-level scale of Incident Core's appendix A.
var criticality = map[string]int{"warning": 70, "advisory": 40, "info": 15}

// Extension builds the extension for a form. A precursor (予兆・ヒヤリハット)
// is suspected; any other known class of event caused harm.
func Extension(f kyoyu.ReportForm, caseNumber string, reportNumber int, stage kyoyu.Stage) IncidentExtension {
	e := IncidentExtension{
		ExtensionType: "property-extension", CaseNumber: caseNumber, ReportNumber: reportNumber, Stage: string(stage),
		InvestigationStatus:   investigationStatus[f.Outlook],
		ClassificationVersion: f.ClassificationVersion, ReportedAt: ts(f.ReportedAt),
		TLP: f.TLP, TLPNote: f.TLPNote, Importance: f.Importance, EventClass: f.EventClass, Causes: nonEmpty(f.Causes),
		Sector: f.Sector, OperatorName: f.OperatorName, DiscoveredAt: ts(f.DiscoveredAt), OccurredAt: ts(f.OccurredAt),
		AffectedSystem: f.AffectedSystem, SystemStatus: f.SystemStatus,
		ServiceLevelDeviation: f.ServiceLevelDeviation, SpilloverPossible: f.SpilloverPossible,
		Supplementary: f.Supplementary, Press: f.Press, PressAt: ts(f.PressAt), PressTitle: f.PressTitle,
		OtherBodiesNotified: f.OtherBodiesNotified, Outlook: f.Outlook, Lessons: f.Lessons,
		ConcernedSectors: nonEmpty(f.ConcernedSectors),
	}
	if e.InvestigationStatus == "" {
		e.InvestigationStatus = "new"
	}
	switch f.EventClass {
	case "":
	case "precursor":
		e.Determination = "suspected"
	case "other":
	default:
		e.Determination = "successful-attempt"
	}
	if c, ok := criticality[f.Importance]; ok {
		e.Criticality = &c
	}
	if f.Impact.UsersAffected != nil {
		e.ImpactedEntityCounts = map[string]int{"individual": *f.Impact.UsersAffected}
	}
	if f.Impact != (kyoyu.Impact{}) {
		im := f.Impact
		e.Impact = &im
	}
	if r := f.Reporter; r != (kyoyu.Contact{}) {
		e.Reporter = &r
	}
	for _, row := range f.Timeline {
		if row.At != "" || row.Event != "" {
			e.Events = append(e.Events, Event{At: row.At, Description: row.Event})
		}
	}
	return e
}

// Form reads the form back out of an extension (the description is the
// incident's own). Times that do not parse are left empty.
func (e IncidentExtension) Form(description string) kyoyu.ReportForm {
	f := kyoyu.ReportForm{
		ClassificationVersion: e.ClassificationVersion, ReportedAt: parseTS(e.ReportedAt),
		TLP: e.TLP, TLPNote: e.TLPNote, Importance: e.Importance, EventClass: e.EventClass, Causes: e.Causes,
		Sector: e.Sector, OperatorName: e.OperatorName, DiscoveredAt: parseTS(e.DiscoveredAt), OccurredAt: parseTS(e.OccurredAt),
		AffectedSystem: e.AffectedSystem, Description: description, SystemStatus: e.SystemStatus,
		ServiceLevelDeviation: e.ServiceLevelDeviation, SpilloverPossible: e.SpilloverPossible,
		Supplementary: e.Supplementary, Press: e.Press, PressAt: parseTS(e.PressAt), PressTitle: e.PressTitle,
		OtherBodiesNotified: e.OtherBodiesNotified, Outlook: e.Outlook, Lessons: e.Lessons, ConcernedSectors: e.ConcernedSectors,
	}
	if e.Reporter != nil {
		f.Reporter = *e.Reporter
	}
	if e.Impact != nil {
		f.Impact = *e.Impact
	}
	for _, ev := range e.Events {
		f.Timeline = append(f.Timeline, kyoyu.TimelineRow{At: ev.At, Event: ev.Description})
	}
	return f
}

// DecodeIncident reads our extension (and the description) out of an
// incident object; ok is false when the incident does not carry it.
func DecodeIncident(raw json.RawMessage) (ext IncidentExtension, description string, ok bool) {
	var inc struct {
		Type        string                     `json:"type"`
		Description string                     `json:"description"`
		Extensions  map[string]json.RawMessage `json:"extensions"`
	}
	if json.Unmarshal(raw, &inc) != nil || inc.Type != "incident" {
		return ext, "", false
	}
	x, found := inc.Extensions[ExtensionID]
	if !found || json.Unmarshal(x, &ext) != nil {
		return IncidentExtension{}, "", false
	}
	return ext, inc.Description, true
}

func ts(t *time.Time) string {
	if t == nil {
		return ""
	}
	return Timestamp(*t)
}

func parseTS(s string) *time.Time {
	t, ok := parseTimestamp(s)
	if !ok {
		return nil
	}
	return &t
}

func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
