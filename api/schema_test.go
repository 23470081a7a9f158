package api_test

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/api"
	"kyoyu/directory"
	"kyoyu/report"
	"kyoyu/store"
)

// jsonFields lists a struct's JSON names, and those always present (no
// omitempty); embedded structs are not used by these types.
func jsonFields(t reflect.Type) (all, always []string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") {
			always = append(always, name)
		}
	}
	sort.Strings(all)
	sort.Strings(always)
	return all, always
}

func strs(v any) []string {
	var out []string
	switch v := v.(type) {
	case []any:
		for _, s := range v {
			out = append(out, s.(string))
		}
	case map[string]any:
		for k := range v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPISchemasMatchGo keeps each documented object equal to the Go
// type the API encodes (or decodes): a field added in Go but not in the
// document fails here even while no answer carries it yet. Where the
// schema lists required fields, they are exactly those always encoded.
func TestOpenAPISchemasMatchGo(t *testing.T) {
	_, doc := readDoc(t)
	schemas := obj(t, doc, "components", "schemas")
	for name, v := range map[string]any{
		"Case": kyoyu.Case{}, "ReportVersion": kyoyu.ReportVersion{}, "ReportForm": kyoyu.ReportForm{},
		"Contact": kyoyu.Contact{}, "TimelineRow": kyoyu.TimelineRow{}, "Impact": kyoyu.Impact{},
		"Change": report.Change{}, "Notification": store.Notification{}, "CaseList": api.CaseList{},
		"CaseDetail": api.CaseDetail{}, "DraftSaved": api.SaveResult{}, "Submitted": api.SubmitResult{},
		"InboxEntry": api.InboxEntry{}, "StartReport": api.StartRequest{}, "Diff": api.DiffResult{},
		"Person": kyoyu.Person{}, "Organisation": kyoyu.Organisation{}, "Error": api.Error{},
	} {
		s := obj(t, schemas, name)
		all, always := jsonFields(reflect.TypeOf(v))
		if got := strs(s["properties"]); !slices.Equal(got, all) {
			t.Errorf("%s: documented properties %v, Go fields %v", name, got, all)
		}
		if s["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties must be false", name)
		}
		if req, ok := s["required"]; ok && name != "Person" && name != "StartReport" {
			if got := strs(req); !slices.Equal(got, always) {
				t.Errorf("%s: required %v, always encoded %v", name, got, always)
			}
		}
	}
}

// TestOpenAPIFormEnumsMatchClassifications keeps the form's enums equal to
// the classification data new reports use, and the flow's enums equal to
// the domain's constants.
func TestOpenAPIFormEnumsMatchClassifications(t *testing.T) {
	_, doc := readDoc(t)
	schemas := obj(t, doc, "components", "schemas")
	versions, err := directory.Classifications()
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string][]string{}
	for _, version := range versions {
		for _, c := range version {
			if c.Version == report.ClassificationVersion {
				codes[c.Kind] = append(codes[c.Kind], c.Code)
			}
		}
	}
	if len(codes) == 0 {
		t.Fatalf("no classifications of version %s", report.ClassificationVersion)
	}
	want := map[string][]string{
		"TLP": codes["tlp"], "Importance": codes["importance"], "EventClass": codes["event_class"], "Cause": codes["cause"],
		"SystemStatus": codes["system_status"], "Outlook": codes["outlook"], "Press": codes["press"],
		"Route":         {string(kyoyu.RouteMinistry), string(kyoyu.RouteCEPTOAR), string(kyoyu.RouteMinistryOrigin)},
		"Stage":         {string(kyoyu.StageOperator), string(kyoyu.StageSecretariat), string(kyoyu.StageMinistry)},
		"VersionStatus": {string(kyoyu.VersionDraft), string(kyoyu.VersionSubmitted)},
		"CaseStatus":    {string(kyoyu.CaseDraft), string(kyoyu.CaseAtCEPTOAR), string(kyoyu.CaseAtMinistry), string(kyoyu.CaseAtNISC)},
	}
	for name, w := range want {
		var got []string
		for _, v := range obj(t, schemas, name)["enum"].([]any) {
			got = append(got, v.(string))
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s enum = %v, want %v", name, got, w)
		}
	}
	// The form's coded fields use those enums (or nothing yet).
	form := obj(t, schemas, "ReportForm", "properties")
	for field, enum := range map[string]string{"tlp": "TLP", "importance": "Importance", "event_class": "EventClass",
		"system_status": "SystemStatus", "outlook": "Outlook", "press": "Press"} {
		var refs []string
		for _, alt := range obj(t, form, field)["anyOf"].([]any) {
			refs = append(refs, alt.(map[string]any)["$ref"].(string))
		}
		if !slices.Equal(refs, []string{"#/components/schemas/" + enum, "#/components/schemas/Unset"}) {
			t.Errorf("ReportForm.%s = %v, want %s or unset", field, refs, enum)
		}
	}
	if ref := obj(t, form, "causes", "items")["$ref"]; ref != "#/components/schemas/Cause" {
		t.Errorf("ReportForm.causes items = %v", ref)
	}
}
