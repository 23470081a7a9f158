package misp_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"kyoyu/misp"
	"kyoyu/stix"
)

// bigEvent is an event of n attributes of the common observable types,
// every other one for detection.
func bigEvent(n int) []byte {
	ev := misp.Event{UUID: "5a0e2c1f-1111-4c2a-9e61-2b8d7f0a1c55", Info: "large feed", Distribution: misp.IntPtr(2), Timestamp: 1790000000,
		Orgc: &misp.Org{Name: "Example CSIRT"}}
	types := []string{"ip-dst", "domain", "url", "sha256", "comment"}
	for i := range n {
		a := misp.Attribute{UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Type: types[i%len(types)], ToIDs: misp.Bool(i%2 == 0)}
		switch a.Type {
		case "ip-dst":
			a.Value = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		case "domain":
			a.Value = fmt.Sprintf("host%d.example", i)
		case "url":
			a.Value = fmt.Sprintf("https://host%d.example/p", i)
		case "sha256":
			a.Value = fmt.Sprintf("%064x", i)
		default:
			a.Value = fmt.Sprintf("note %d", i)
		}
		ev.Attributes = append(ev.Attributes, a)
	}
	raw, _ := json.Marshal(misp.Wrapped{Event: &ev})
	return raw
}

// BenchmarkImportConversion: what an import does before the store, for
// one event of 10 000 attributes: parse, range, STIX conversion, and the
// STIX import's own parse of the result.
func BenchmarkImportConversion(b *testing.B) {
	data := bigEvent(10000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		evs, err := misp.Parse(data, misp.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		plan, err := misp.Range(evs[0], "")
		if err != nil {
			b.Fatal(err)
		}
		conv, err := misp.ToSTIX(evs[0], plan)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := stix.Parse(conv.Bundle, stix.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
