package misp_test

import (
	"encoding/json"
	"testing"

	"kyoyu/misp"
	"kyoyu/policy"
	"kyoyu/stix"
)

// FuzzParse: whatever the input, Parse does not panic; what it accepts
// has a range that is never wider than the event's own distribution or
// tags allow, and converts to a bundle the STIX import accepts under that
// same range.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		bare,
		`{"Event":` + bare + `}`,
		`{"response":[{"Event":` + bare + `}]}`,
		`[{"uuid":"5a0e2c1f-1111-4c2a-9e61-2b8d7f0a1c55","info":"y","Tag":[{"name":"tlp:amber"}],"Object":[{"name":"file","Attribute":[{"type":"filename|sha256","value":"a|b"}]}]}]`,
		`{"uuid":"5a0e2c1f-1111-4c2a-9e61-2b8d7f0a1c55","info":"z","distribution":"3","Attribute":[{"type":"regkey","value":"HKLM\\x","to_ids":1,"distribution":"0"}]}`,
		`{"foo":1}`, `[]`, `{"Event":`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := misp.Parse(data, misp.Limits{MaxBytes: 1 << 16, MaxEvents: 20, MaxAttributes: 200})
		if err != nil {
			return
		}
		for _, ev := range evs {
			plan, err := misp.Range(ev, "")
			if err != nil {
				continue
			}
			if ev.Distribution != nil && *ev.Distribution == 0 && plan.TLP != policy.Red {
				t.Fatalf("distribution 0 imported as %s", plan.TLP)
			}
			for _, tg := range ev.Tags {
				if tg.Name == "tlp:red" && plan.TLP != policy.Red {
					t.Fatalf("tlp:red imported as %s", plan.TLP)
				}
			}
			conv, err := misp.ToSTIX(ev, plan)
			if err != nil {
				t.Fatal(err)
			}
			b, err := stix.Parse(conv.Bundle, stix.Limits{})
			if err != nil {
				t.Fatalf("conversion refused by the STIX import: %v\n%s", err, conv.Bundle)
			}
			sp, err := stix.PlanImport(b, stix.ImportOptions{})
			if err != nil || sp.TLP != plan.TLP {
				t.Fatalf("STIX plan %v %v, want %s", sp, err, plan.TLP)
			}
			var raws []json.RawMessage
			for _, o := range b.Objects {
				raws = append(raws, o.Raw)
			}
			out, err := misp.FromSTIX(raws, plan.TLP)
			if err != nil {
				t.Fatal(err)
			}
			if d, _ := misp.Distribution(plan.TLP); out.Distribution == nil || *out.Distribution != d {
				t.Fatalf("exported distribution %v for %s", out.Distribution, plan.TLP)
			}
		}
	})
}
