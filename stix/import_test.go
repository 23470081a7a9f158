package stix_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/stix"
	"kyoyu/stix/stixtest"
)

func example(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(stixtest.Dir(), "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// bundle wraps objects (JSON texts) in a bundle.
func bundle(objs ...string) []byte {
	return []byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[` + strings.Join(objs, ",") + `]}`)
}

func indicatorWith(id, modified string, markings ...string) string {
	refs := ""
	if len(markings) > 0 {
		b, _ := json.Marshal(markings)
		refs = `,"object_marking_refs":` + string(b)
	}
	return `{"type":"indicator","spec_version":"2.1","id":"indicator--` + id + `","created":"2026-01-01T00:00:00.000Z","modified":"` + modified +
		`","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"` + refs + `}`
}

const (
	ind1 = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
	ind2 = "2f6a0c3e-3b6a-4f1e-9d57-1c1b1a2d3e4f"
)

func TestParseRefusesBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		data []byte
		lim  stix.Limits
		code string
		kind string
	}{
		"malformed":       {[]byte("{\"type\": \"bundle\",\n \"objects\": [}"), stix.DefaultLimits, "malformed_json", kyoyu.EINVALID},
		"not json object": {[]byte(`[1,2]`), stix.DefaultLimits, "malformed_json", kyoyu.EINVALID},
		"not a bundle":    {nil, stix.DefaultLimits, "not_a_bundle", kyoyu.EINVALID},
		"stix 2.0 bundle": {[]byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","spec_version":"2.0","objects":[]}`), stix.DefaultLimits, "wrong_spec_version", kyoyu.EINVALID},
		"empty":           {bundle(), stix.DefaultLimits, "no_objects", kyoyu.EINVALID},
		"wrong spec_version": {bundle(strings.Replace(indicatorWith(ind1, "2026-01-01T00:00:00.000Z"), `"2.1"`, `"2.0"`, 1)),
			stix.DefaultLimits, "wrong_spec_version", kyoyu.EINVALID},
		"no spec_version": {bundle(strings.Replace(indicatorWith(ind1, "2026-01-01T00:00:00.000Z"), `"spec_version":"2.1",`, "", 1)),
			stix.DefaultLimits, "missing_spec_version", kyoyu.EINVALID},
		"no type":       {bundle(`{"id":"indicator--` + ind1 + `"}`), stix.DefaultLimits, "missing_type", kyoyu.EINVALID},
		"no id":         {bundle(`{"type":"indicator","spec_version":"2.1"}`), stix.DefaultLimits, "missing_id", kyoyu.EINVALID},
		"id of another": {bundle(`{"type":"indicator","id":"malware--` + ind1 + `"}`), stix.DefaultLimits, "invalid_id", kyoyu.EINVALID},
		"bad time":      {bundle(indicatorWith(ind1, "yesterday")), stix.DefaultLimits, "invalid_timestamp", kyoyu.EINVALID},
		"duplicate": {bundle(indicatorWith(ind1, "2026-01-01T00:00:00.000Z"), indicatorWith(ind1, "2026-01-01T00:00:00Z")),
			stix.DefaultLimits, "duplicate_id", kyoyu.EINVALID},
		"oversized":    {example(t, "threat-reports/apt1.json"), stix.Limits{MaxBytes: 1000}, "too_large", kyoyu.ETOOLARGE},
		"too many":     {example(t, "threat-reports/apt1.json"), stix.Limits{MaxObjects: 10}, "too_many_objects", kyoyu.ETOOLARGE},
		"not utf-8":    {[]byte("{\"type\":\"bundle\xff\"}"), stix.DefaultLimits, "not_utf8", kyoyu.EINVALID},
		"bad markings": {bundle(strings.Replace(indicatorWith(ind1, "2026-01-01T00:00:00.000Z"), `}`, `,"object_marking_refs":"red"}`, 1)), stix.DefaultLimits, "invalid_markings", kyoyu.EINVALID},
	} {
		t.Run(name, func(t *testing.T) {
			data := tc.data
			if name == "not a bundle" {
				data = example(t, "interop-objectmarking-test.json")
			}
			_, err := stix.Parse(data, tc.lim)
			if kyoyu.ErrorCode(err) != tc.kind {
				t.Fatalf("error %v, want %s", err, tc.kind)
			}
			ps := stix.Problems(err)
			if len(ps) == 0 || ps[0].Code != tc.code {
				t.Fatalf("problems %+v, want %s", ps, tc.code)
			}
			if !strings.Contains(kyoyu.ErrorMessage(err), "nothing imported") {
				t.Errorf("message %q", kyoyu.ErrorMessage(err))
			}
		})
	}
	// A malformed bundle says where.
	_, err := stix.Parse([]byte("{\"type\": \"bundle\",\n \"objects\": [}"), stix.DefaultLimits)
	if !strings.Contains(kyoyu.ErrorMessage(err), "line 2") {
		t.Errorf("no position in %q", kyoyu.ErrorMessage(err))
	}
	// Every problem is named, not just the first.
	_, err = stix.Parse(bundle(`{"type":"x"}`, `{"id":"indicator--`+ind1+`"}`, indicatorWith(ind2, "never")), stix.DefaultLimits)
	if ps := stix.Problems(err); len(ps) != 3 {
		t.Errorf("problems %+v", ps)
	}
}

func TestParseExamples(t *testing.T) {
	for _, name := range []string{"threat-reports/apt1.json", "indicator-for-c2-ip-address.json", "indicator-to-campaign-relationship.json",
		"indicators-for-C2-with-COA.json", "infrastructure.json", "malicious-email-indicator-with-attachment.json"} {
		b, err := stix.Parse(example(t, name), stix.DefaultLimits)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if name == "threat-reports/apt1.json" && len(b.Objects) != 76 {
			t.Errorf("apt1: %d objects", len(b.Objects))
		}
	}
}

func plan(t *testing.T, data []byte, given policy.TLP) (*stix.Plan, error) {
	t.Helper()
	b, err := stix.Parse(data, stix.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return stix.PlanImport(b, stix.ImportOptions{Range: given})
}

func TestPlanMapsMarkingsConservatively(t *testing.T) {
	md := func(raw []byte) string { return string(raw) }
	tlp1Red, _ := stix.MarkingObject(stix.TLP1Red)
	for name, tc := range map[string]struct {
		objs  []string
		given policy.TLP
		want  policy.TLP
		from  string
	}{
		"tlp1 white":        {[]string{indicatorWith(ind1, "2026-01-01T00:00:00Z", stix.TLP1White)}, "", policy.White, "markings"},
		"tlp2 clear":        {[]string{indicatorWith(ind1, "2026-01-01T00:00:00Z", stix.TLP2Clear)}, "", policy.White, "markings"},
		"tlp2 green":        {[]string{indicatorWith(ind1, "2026-01-01T00:00:00Z", stix.TLP2Green)}, "", policy.Green, "markings"},
		"tlp1 amber":        {[]string{indicatorWith(ind1, "2026-01-01T00:00:00Z", stix.TLP1Amber)}, "", policy.Amber, "markings"},
		"amber+strict":      {[]string{indicatorWith(ind1, "2026-01-01T00:00:00Z", stix.TLP2AmberStrict)}, "", policy.Red, "markings"},
		"opencti strict":    {[]string{indicatorWith(ind1, "2026-01-01T00:00:00Z", stix.OpenCTIAmberStrict)}, "", policy.Red, "markings"},
		"several":           {[]string{indicatorWith(ind1, "2026-01-01T00:00:00Z", stix.TLP1Green), indicatorWith(ind2, "2026-01-01T00:00:00Z", stix.TLP2Amber)}, "", policy.Amber, "markings"},
		"defined, unused":   {[]string{md(tlp1Red), indicatorWith(ind1, "2026-01-01T00:00:00Z", stix.TLP1White)}, "", policy.Red, "markings"},
		"given narrower":    {[]string{indicatorWith(ind1, "2026-01-01T00:00:00Z", stix.TLP1Green)}, policy.Amber, policy.Amber, "importer"},
		"given wider":       {[]string{indicatorWith(ind1, "2026-01-01T00:00:00Z", stix.TLP1Amber)}, policy.White, policy.Amber, "markings"},
		"none, given":       {[]string{indicatorWith(ind1, "2026-01-01T00:00:00Z")}, policy.Green, policy.Green, "importer"},
		"granular markings": {[]string{strings.Replace(indicatorWith(ind1, "2026-01-01T00:00:00Z", stix.TLP1White), `}`, `,"granular_markings":[{"marking_ref":"`+stix.TLP1Red+`","selectors":["pattern"]}]}`, 1)}, "", policy.Red, "markings"},
	} {
		p, err := plan(t, bundle(tc.objs...), tc.given)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if p.TLP != tc.want || p.RangeFrom != tc.from {
			t.Errorf("%s: range %s from %s, want %s from %s", name, p.TLP, p.RangeFrom, tc.want, tc.from)
		}
	}
}

func TestPlanRefusesUnmappableMarkings(t *testing.T) {
	statement := `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--a1b2c3d4-0000-4000-8000-000000000001","created":"2026-01-01T00:00:00.000Z","definition_type":"statement","definition":{"statement":"Copyright Example"}}`
	wrongStrict := `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--939a9414-1955-4a77-93a3-5a4ec65c9b6e","created":"2022-03-11T19:45:00.000Z","name":"TLP:AMBER+STRICT","extensions":{"extension-definition--60477d8d-78ac-1058-8160-d776f9386f83":{"extension_type":"property-extension","tlp_2_0":"amber+strict"}}}`
	custom := `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--a1b2c3d4-0000-4000-8000-000000000002","created":"2026-01-01T00:00:00.000Z","definition_type":"x-acme","definition":{"level":"internal"}}`
	liar := `{"type":"marking-definition","spec_version":"2.1","id":"` + stix.TLP1White + `","created":"2017-01-20T00:00:00.000Z","name":"TLP:RED","definition_type":"tlp","definition":{"tlp":"red"}}`
	for name, tc := range map[string]struct {
		objs  []string
		given policy.TLP
		code  string
	}{
		"undefined":       {[]string{indicatorWith(ind1, "2026-01-01T00:00:00Z", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ec")}, policy.Red, "unknown_marking"},
		"wrong tlp2 id":   {[]string{wrongStrict, indicatorWith(ind1, "2026-01-01T00:00:00Z", "marking-definition--939a9414-1955-4a77-93a3-5a4ec65c9b6e")}, policy.Red, "unmappable_marking"},
		"custom type":     {[]string{custom, indicatorWith(ind1, "2026-01-01T00:00:00Z", "marking-definition--a1b2c3d4-0000-4000-8000-000000000002")}, policy.Red, "unmappable_marking"},
		"inconsistent":    {[]string{liar, indicatorWith(ind1, "2026-01-01T00:00:00Z", stix.TLP1White)}, "", "inconsistent_marking"},
		"none":            {[]string{indicatorWith(ind1, "2026-01-01T00:00:00Z")}, "", ""},
		"statement only":  {[]string{statement, indicatorWith(ind1, "2026-01-01T00:00:00Z", "marking-definition--a1b2c3d4-0000-4000-8000-000000000001")}, "", ""},
		"bad given range": {[]string{indicatorWith(ind1, "2026-01-01T00:00:00Z", stix.TLP1Red)}, "black", ""},
	} {
		_, err := plan(t, bundle(tc.objs...), tc.given)
		if kyoyu.ErrorCode(err) != kyoyu.EINVALID {
			t.Errorf("%s: %v, want a refusal", name, err)
			continue
		}
		if tc.code != "" {
			if ps := stix.Problems(err); len(ps) == 0 || ps[0].Code != tc.code {
				t.Errorf("%s: problems %+v, want %s", name, ps, tc.code)
			}
		}
	}
	// A statement beside a TLP marking is kept and noted.
	p, err := plan(t, bundle(statement, indicatorWith(ind1, "2026-01-01T00:00:00Z", stix.TLP1Green, "marking-definition--a1b2c3d4-0000-4000-8000-000000000001")), "")
	if err != nil || p.TLP != policy.Green || len(p.Notes) == 0 {
		t.Errorf("statement beside TLP: %+v %v", p, err)
	}
}

// apt1.json carries no marking: refused without a range, imported whole
// with one, and the account says what Kyoyu does not understand.
func TestPlanAPT1(t *testing.T) {
	data := example(t, "threat-reports/apt1.json")
	if _, err := plan(t, data, ""); kyoyu.ErrorCode(err) != kyoyu.EINVALID {
		t.Fatalf("apt1 without a range: %v", err)
	}
	p, err := plan(t, data, policy.Green)
	if err != nil {
		t.Fatal(err)
	}
	a := stix.NewAccount(p, nil)
	if a.Total != 76 || a.Stored != 76 || a.Skipped != 0 || a.TLP != "green" {
		t.Errorf("account %+v", a)
	}
	for _, typ := range []string{"threat-actor", "intrusion-set", "tool", "attack-pattern", "malware"} {
		if a.Opaque[typ] == 0 {
			t.Errorf("%s not listed as opaque: %v", typ, a.Opaque)
		}
	}
	if a.Understood["indicator"] != 12 || a.Understood["relationship"] != 30 || a.Understood["identity"] != 4 || a.Understood["report"] != 1 {
		t.Errorf("understood %v", a.Understood)
	}
}

// Our own export imports: the range comes back from its marking, and the
// form from its extension.
func TestExportImports(t *testing.T) {
	for _, tlp := range policy.TLPs {
		for _, version := range []int{1, 2} {
			in := sample(string(tlp), true)
			in.TLPVersion = version
			b, err := stix.ExportCase(in)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := b.JSON()
			p, err := plan(t, raw, "")
			if err != nil {
				t.Fatalf("%s/%d: %v", tlp, version, err)
			}
			if p.TLP != tlp {
				t.Errorf("exported %s (TLP %d.0), imported as %s", tlp, version, p.TLP)
			}
			a := stix.NewAccount(p, nil)
			if len(a.Opaque) != 0 || a.Understood["incident"] != 1 {
				t.Errorf("account of our own export: understood %v opaque %v", a.Understood, a.Opaque)
			}
		}
	}
}
