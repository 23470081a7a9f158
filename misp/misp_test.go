package misp_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/misp"
	"kyoyu/policy"
	"kyoyu/stix"
	"kyoyu/stix/stixtest"
)

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

const bare = `{"uuid":"5a0e2c1f-1111-4c2a-9e61-2b8d7f0a1c55","info":"x","distribution":"1","Attribute":[{"type":"ip-dst","value":"198.51.100.9","to_ids":"1"}]}`

func TestParseShapes(t *testing.T) {
	for name, in := range map[string]string{
		"wrapped":       `{"Event":` + bare + `}`,
		"bare":          bare,
		"list":          `[{"Event":` + bare + `}]`,
		"list of bare":  `[` + bare + `]`,
		"rest response": `{"response":[{"Event":` + bare + `}]}`,
	} {
		evs, err := misp.Parse([]byte(in), misp.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(evs) != 1 || evs[0].UUID != "5a0e2c1f-1111-4c2a-9e61-2b8d7f0a1c55" || *evs[0].Distribution != 1 ||
			len(evs[0].Attributes) != 1 || !evs[0].Attributes[0].ToIDs {
			t.Errorf("%s: %+v", name, evs)
		}
		if misp.Detect([]byte(in)) != "misp" {
			t.Errorf("%s: not detected as MISP", name)
		}
	}
	if misp.Detect([]byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[]}`)) != "stix" {
		t.Error("a STIX bundle is not detected as STIX")
	}
	for _, f := range []string{"circl-56bf399d.json", "circl-regin-54884656-excerpt.json", "objects-tlp-amber.json"} {
		evs, err := misp.Parse(testdata(t, f), misp.Limits{})
		if err != nil || len(evs) != 1 {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	ev := func(attr string) string {
		return `{"Event":{"uuid":"5a0e2c1f-1111-4c2a-9e61-2b8d7f0a1c55","info":"x","distribution":1,"Attribute":[` + attr + `]}}`
	}
	for _, c := range []struct {
		name, in, code string
		err            string
	}{
		{"malformed", `{"Event":`, "malformed", kyoyu.EINVALID},
		{"not json", `hello`, "malformed", kyoyu.EINVALID},
		{"no event", `{"foo":1}`, "missing_event", kyoyu.EINVALID},
		{"empty list", `[]`, "missing_event", kyoyu.EINVALID},
		{"a number", `42`, "missing_event", kyoyu.EINVALID},
		{"stix bundle", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[]}`, "not_misp", kyoyu.EINVALID},
		{"unknown type", ev(`{"type":"ip-everywhere","value":"x"}`), "unknown_type", kyoyu.EINVALID},
		{"unknown category", ev(`{"type":"ip-dst","category":"Gossip","value":"198.51.100.1"}`), "unknown_category", kyoyu.EINVALID},
		{"empty value", ev(`{"type":"ip-dst","value":" "}`), "empty_value", kyoyu.EINVALID},
		{"attribute distribution", ev(`{"type":"ip-dst","value":"198.51.100.1","distribution":9}`), "invalid_distribution", kyoyu.EINVALID},
		{"event distribution 5", `{"uuid":"5a0e2c1f-1111-4c2a-9e61-2b8d7f0a1c55","info":"x","distribution":5}`, "invalid_distribution", kyoyu.EINVALID},
		{"no info", `{"uuid":"5a0e2c1f-1111-4c2a-9e61-2b8d7f0a1c55","Attribute":[]}`, "missing_info", kyoyu.EINVALID},
		{"bad uuid", `{"uuid":"nope","info":"x"}`, "invalid_uuid", kyoyu.EINVALID},
		{"bad to_ids", ev(`{"type":"ip-dst","value":"198.51.100.1","to_ids":"maybe"}`), "malformed", kyoyu.EINVALID},
		{"duplicate", `[` + bare + `,` + bare + `]`, "duplicate_event", kyoyu.EINVALID},
		{"oversized", `{"Event":` + bare + strings.Repeat(" ", 200) + `}`, "too_large", kyoyu.ETOOLARGE},
	} {
		_, err := misp.Parse([]byte(c.in), misp.Limits{MaxBytes: 300, MaxEvents: 10, MaxAttributes: 10})
		var ke *kyoyu.Error
		if !errors.As(err, &ke) || ke.Code != c.err {
			t.Errorf("%s: %v, want %s", c.name, err, c.err)
			continue
		}
		ps := stix.Problems(err)
		if len(ps) == 0 || !slices.ContainsFunc(ps, func(p stix.Problem) bool { return p.Code == c.code }) {
			t.Errorf("%s: problems %v, want %s", c.name, ps, c.code)
		}
	}
}

func TestRange(t *testing.T) {
	for _, c := range []struct {
		name     string
		event    string
		importer policy.TLP
		want     policy.TLP
		from     string
		refused  bool
	}{
		{"org only", `"distribution":0`, "", policy.Red, "distribution", false},
		{"community", `"distribution":1`, "", policy.Amber, "distribution", false},
		{"connected", `"distribution":2`, "", policy.Green, "distribution", false},
		{"all", `"distribution":3`, "", policy.White, "distribution", false},
		{"sharing group", `"distribution":4,"sharing_group_id":"7"`, "", policy.Red, "distribution", false},
		{"all but amber tag", `"distribution":3,"Tag":[{"name":"tlp:amber"}]`, "", policy.Amber, "tlp_tag", false},
		{"org only with white tag", `"distribution":0,"Tag":[{"name":"tlp:white"}]`, "", policy.Red, "distribution", false},
		{"clear tag, no distribution", `"Tag":[{"name":"tlp:clear"}]`, "", policy.White, "tlp_tag", false},
		{"amber+strict", `"distribution":3,"Tag":[{"name":"TLP:AMBER+STRICT"}]`, "", policy.Red, "tlp_tag", false},
		{"unknown tlp", `"distribution":3,"Tag":[{"name":"tlp:ex:chr"}]`, "", policy.Red, "tlp_tag", false},
		{"other tags only", `"Tag":[{"name":"type:OSINT"}]`, "", "", "", true},
		{"nothing, importer", ``, policy.Green, policy.Green, "importer", false},
		{"importer narrows", `"distribution":3`, policy.Amber, policy.Amber, "importer", false},
		{"importer never widens", `"distribution":0`, policy.White, policy.Red, "distribution", false},
		{"attribute narrows", `"distribution":3,"Attribute":[{"type":"ip-dst","value":"198.51.100.1","distribution":0}]`, "", policy.Red, "attribute", false},
		{"attribute tag narrows", `"distribution":3,"Attribute":[{"type":"ip-dst","value":"198.51.100.1","Tag":[{"name":"tlp:green"}]}]`, "", policy.Green, "attribute", false},
		{"attribute inherits", `"distribution":2,"Attribute":[{"type":"ip-dst","value":"198.51.100.1","distribution":5}]`, "", policy.Green, "distribution", false},
		{"attribute never widens", `"distribution":1,"Attribute":[{"type":"ip-dst","value":"198.51.100.1","distribution":3}]`, "", policy.Amber, "distribution", false},
		{"deleted attribute ignored", `"distribution":3,"Attribute":[{"type":"ip-dst","value":"198.51.100.1","distribution":0,"deleted":true}]`, "", policy.White, "distribution", false},
		{"object narrows", `"distribution":3,"Object":[{"name":"file","distribution":1,"Attribute":[]}]`, "", policy.Amber, "attribute", false},
		{"object attribute narrows", `"distribution":3,"Object":[{"name":"file","Attribute":[{"type":"md5","value":"d41d8cd98f00b204e9800998ecf8427e","Tag":[{"name":"tlp:red"}]}]}]`, "", policy.Red, "attribute", false},
		{"attributes alone set nothing", `"Attribute":[{"type":"ip-dst","value":"198.51.100.1","distribution":3}]`, "", "", "", true},
	} {
		in := `{"uuid":"5a0e2c1f-1111-4c2a-9e61-2b8d7f0a1c55","info":"x"`
		if c.event != "" {
			in += "," + c.event
		}
		evs, err := misp.Parse([]byte(in+"}"), misp.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		p, err := misp.Range(evs[0], c.importer)
		if c.refused {
			if kyoyu.ErrorCode(err) != kyoyu.EINVALID {
				t.Errorf("%s: %v, want refused", c.name, err)
			}
			continue
		}
		if err != nil || p.TLP != c.want || p.RangeFrom != c.from {
			t.Errorf("%s: %+v %v, want %s from %s", c.name, p, err, c.want, c.from)
		}
	}
}

// TestToSTIX converts the test events and checks the bundles against the
// OASIS schemas and the STIX import's own parser and marking plan.
func TestToSTIX(t *testing.T) {
	v := stixtest.New(t)
	for _, c := range []struct {
		file              string
		tlp               policy.TLP
		imported, skipped int
		types             []string
	}{
		{"circl-56bf399d.json", policy.White, 1, 0, []string{"report", "identity", "note"}},
		{"circl-regin-54884656-excerpt.json", policy.White, 8, 0, []string{"report", "file", "observed-data", "windows-registry-key", "indicator", "note"}},
		{"objects-tlp-amber.json", policy.Amber, 11, 1, []string{"grouping", "ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file", "indicator", "observed-data", "note"}},
	} {
		evs, err := misp.Parse(testdata(t, c.file), misp.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		plan, err := misp.Range(evs[0], "")
		if err != nil || plan.TLP != c.tlp {
			t.Fatalf("%s: range %+v %v, want %s", c.file, plan, err, c.tlp)
		}
		conv, err := misp.ToSTIX(evs[0], plan)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Bundle(conv.Bundle); err != nil {
			t.Errorf("%s: not valid STIX 2.1: %v", c.file, err)
		}
		b, err := stix.Parse(conv.Bundle, stix.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		sp, err := stix.PlanImport(b, stix.ImportOptions{})
		if err != nil || sp.TLP != c.tlp {
			t.Errorf("%s: STIX plan %+v %v", c.file, sp, err)
		}
		seen := map[string]bool{}
		for _, o := range b.Objects {
			seen[o.Type] = true
		}
		for _, typ := range c.types {
			if !seen[typ] {
				t.Errorf("%s: no %s in %v", c.file, typ, seen)
			}
		}
		imp, skip := 0, 0
		for _, a := range conv.Attributes {
			if a.Outcome == misp.Imported {
				imp++
			} else {
				skip++
				if a.Note == "" {
					t.Errorf("%s: %s skipped without a reason", c.file, a.Where)
				}
			}
		}
		if imp != c.imported || skip != c.skipped {
			t.Errorf("%s: imported %d skipped %d, want %d and %d: %+v", c.file, imp, skip, c.imported, c.skipped, conv.Attributes)
		}
		// The same event gives the same bundle.
		again, _ := misp.ToSTIX(evs[0], plan)
		if string(again.Bundle) != string(conv.Bundle) {
			t.Errorf("%s: conversion is not deterministic", c.file)
		}
	}
}

// TestRoundTrip: an event in, its STIX objects back out as MISP, keeps
// every attribute that was not deleted and a range never wider.
func TestRoundTrip(t *testing.T) {
	for _, f := range []string{"circl-56bf399d.json", "circl-regin-54884656-excerpt.json", "objects-tlp-amber.json"} {
		evs, _ := misp.Parse(testdata(t, f), misp.Limits{})
		in := evs[0]
		plan, _ := misp.Range(in, "")
		conv, _ := misp.ToSTIX(in, plan)
		b, err := stix.Parse(conv.Bundle, stix.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		var raws = make([][]byte, 0)
		for _, o := range b.Objects {
			raws = append(raws, o.Raw)
		}
		out, err := misp.FromSTIX(toRaw(raws), plan.TLP)
		if err != nil {
			t.Fatal(err)
		}
		if out.UUID != in.UUID || out.Info != in.Info || out.ThreatLevelID != in.ThreatLevelID || out.Orgc.Name != in.Orgc.Name {
			t.Errorf("%s: event %+v", f, out)
		}
		raw, _ := out.JSON()
		back, err := misp.Parse(raw, misp.Limits{})
		if err != nil {
			t.Fatalf("%s: the export does not parse: %v", f, err)
		}
		bp, err := misp.Range(back[0], "")
		if err != nil || policy.Widens(plan.TLP, bp.TLP) {
			t.Errorf("%s: range %s came back as %+v %v", f, plan.TLP, bp, err)
		}
		key := func(a misp.Attribute) string {
			return a.UUID + " " + a.Type + " " + a.Value + " " + a.Category + " " + map[bool]string{true: "ids"}[bool(a.ToIDs)]
		}
		var want, got []string
		for _, a := range in.Attributes {
			if !a.Deleted {
				want = append(want, key(a))
			}
		}
		for _, o := range in.Objects {
			for _, a := range o.Attributes {
				want = append(want, o.Name+"/"+a.ObjectRelation+" "+key(a))
			}
		}
		for _, a := range back[0].Attributes {
			got = append(got, key(a))
		}
		for _, o := range back[0].Objects {
			for _, a := range o.Attributes {
				got = append(got, o.Name+"/"+a.ObjectRelation+" "+key(a))
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			t.Errorf("%s: attributes\n got %q\nwant %q", f, got, want)
		}
	}
}

func toRaw(bs [][]byte) []json.RawMessage {
	out := make([]json.RawMessage, len(bs))
	for i, b := range bs {
		out[i] = b
	}
	return out
}
