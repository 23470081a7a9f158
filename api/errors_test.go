package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"kyoyu"
)

// TestErrorCodesDocumented keeps the Error schema's code enum equal to the
// codes writeError can put in a body.
func TestErrorCodesDocumented(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		t.Fatal(err)
	}
	documented := doc.Components.Schemas["Error"].Properties["code"].Enum
	if len(documented) == 0 {
		t.Fatal("Error.code has no enum")
	}
	codes := []string{kyoyu.EINTERNAL}
	for code := range errorStatus {
		codes = append(codes, code)
	}
	emitted := map[string]bool{}
	for _, code := range codes {
		rec := httptest.NewRecorder()
		writeError(rec, httptest.NewRequest(http.MethodGet, "/api/v1/x", nil), &kyoyu.Error{Code: code, Message: "m"})
		var body Error
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: %v", code, err)
		}
		if !slices.Contains(documented, body.Code) {
			t.Errorf("writeError answers %s with code %q, which Error.code does not list", code, body.Code)
		}
		emitted[body.Code] = true
	}
	for _, code := range documented {
		if !emitted[code] {
			t.Errorf("Error.code lists %q, which no error produces", code)
		}
	}
}
