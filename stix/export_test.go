package stix_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/stix"
	"kyoyu/stix/stixtest"
)

func ptime(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func intp(n int) *int { return &n }

// sample is a released version of a case about an intrusion, with
// indicators written the ways reports write them.
func sample(tlp string, anonymised bool) stix.CaseInput {
	created := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)
	submitted := created.Add(3 * time.Hour)
	yes := true
	c := &kyoyu.Case{ID: 7, CaseNumber: "JP-2026-00007", Route: kyoyu.RouteMinistry, TLP: tlp, Operator: "東和電力株式会社",
		OperatorOrgID: 41, CreatedAt: created, UpdatedAt: submitted}
	if anonymised {
		c.Route, c.Anonymised, c.Operator, c.OperatorOrgID = kyoyu.RouteCEPTOAR, true, "電力事業者A", 0
	}
	f := kyoyu.ReportForm{
		ClassificationVersion: "2017-handbook", ReportedAt: &submitted, TLP: tlp, Importance: "warning", EventClass: "intrusion",
		Causes: []string{"suspicious_email"}, Sector: "electricity", OperatorName: c.Operator,
		DiscoveredAt: ptime("2026-11-20T09:30:00+09:00"), OccurredAt: ptime("2026-11-20T08:00:00+09:00"),
		AffectedSystem: "制御系ネットワークの監視サーバ（10.0.0.5）",
		Description: "監視サーバから hxxp://evil-update[.]example[.]com/payload.bin への通信と、198.51.100[.]23 への接続を確認した。" +
			"送信元は attacker[at]malicious．example．net、添付ファイルのハッシュは d41d8cd98f00b204e9800998ecf8427e。" +
			"IPv6 2001:db8::dead:beef からの走査もあった。担当 reporter@operator.demo.kyoyu.jp。",
		SystemStatus: "partial", ServiceLevelDeviation: &yes, Impact: kyoyu.Impact{UsersAffected: intp(1200), DurationMinutes: intp(45)},
		Timeline: []kyoyu.TimelineRow{{At: "11/20 08:00", Event: "不審な通信を検知（c2.example[.]org）"}, {At: "11/20 09:30", Event: "侵入を確認し遮断"}},
		Outlook:  "investigating", Lessons: "VPN装置の更新手順を見直す。",
		Reporter: kyoyu.Contact{Organisation: "経済産業省", Name: "経産 連絡官", Email: "reporter@operator.demo.kyoyu.jp"},
	}
	v := &kyoyu.ReportVersion{ID: 70, CaseID: 7, ReportNumber: 1, Revision: 2, Stage: kyoyu.StageMinistry, Status: kyoyu.VersionSubmitted,
		OrgID: 5, Released: true, Form: f, CreatedAt: created, UpdatedAt: submitted, SubmittedAt: &submitted}
	in := stix.CaseInput{Case: c, SeeSource: !anonymised, Version: v, TLP: policy.TLP(tlp),
		Author:      &kyoyu.Organisation{ID: 5, Code: "meti", NameJA: "経済産業省", NameEN: "Ministry of Economy, Trade and Industry"},
		Attachments: []stix.Attachment{{Filename: "検体.zip", SHA256: strings.Repeat("ab", 32), Size: 2048}}}
	if !anonymised {
		in.Operator = &kyoyu.Organisation{ID: 41, Code: "demo_electricity_1", NameJA: "東和電力株式会社", Sectors: []string{"electricity"}}
	}
	return in
}

type object map[string]any

func objects(t *testing.T, b *stix.Bundle) []object {
	t.Helper()
	var out []object
	for _, raw := range b.Objects {
		var o object
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

func byType(objs []object, typ string) []object {
	var out []object
	for _, o := range objs {
		if o["type"] == typ {
			out = append(out, o)
		}
	}
	return out
}

func TestExportValidatesForEveryRange(t *testing.T) {
	v := stixtest.New(t)
	for _, tlp := range policy.TLPs {
		for _, version := range []int{1, 2} {
			for _, anon := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/tlp%d/anonymised=%v", tlp, version, anon), func(t *testing.T) {
					in := sample(string(tlp), anon)
					in.TLPVersion = version
					b, err := stix.ExportCase(in)
					if err != nil {
						t.Fatal(err)
					}
					raw, err := b.JSON()
					if err != nil {
						t.Fatal(err)
					}
					if err := v.Bundle(raw); err != nil {
						t.Fatalf("export does not validate: %v\n%s", err, raw)
					}
					want := stix.MarkingID(tlp, version)
					for _, o := range objects(t, b) {
						refs, _ := o["object_marking_refs"].([]any)
						if o["type"] == "incident" || o["type"] == "indicator" || o["type"] == "relationship" || o["type"] == "url" {
							if len(refs) != 1 || refs[0] != want {
								t.Errorf("%s marked %v, want %s", o["id"], refs, want)
							}
						}
					}
					// Repeated exports are the same bundle.
					again, _ := stix.ExportCase(in)
					raw2, _ := again.JSON()
					if !bytes.Equal(raw, raw2) {
						t.Error("two exports of one version differ")
					}
				})
			}
		}
	}
}

func TestExportAmberIsNeverClearOrGreen(t *testing.T) {
	for v, want := range map[int]string{1: stix.TLP1Amber, 2: stix.TLP2Amber} {
		if got := stix.MarkingID(policy.Amber, v); got != want {
			t.Errorf("AMBER in TLP %d.0 is %s, want %s", v, got, want)
		}
	}
	if stix.MarkingID(policy.White, 2) != stix.TLP2Clear || stix.MarkingID(policy.Red, 2) != stix.TLP2Red ||
		stix.MarkingID(policy.Green, 2) != stix.TLP2Green || stix.MarkingID("", 1) != stix.TLP1Red {
		t.Error("TLP 2.0 mapping")
	}
}

func TestExportContent(t *testing.T) {
	in := sample("amber", false)
	b, err := stix.ExportCase(in)
	if err != nil {
		t.Fatal(err)
	}
	objs := objects(t, b)
	incs := byType(objs, "incident")
	if len(incs) != 1 {
		t.Fatalf("%d incidents", len(incs))
	}
	ext, desc, ok := stix.DecodeIncident(b.Objects[indexOf(objs, incs[0]["id"].(string))])
	if !ok {
		t.Fatal("incident has no Kyoyu extension")
	}
	if ext.InvestigationStatus != "open" || ext.Determination != "successful-attempt" || ext.Criticality == nil || *ext.Criticality != 70 ||
		ext.ImpactedEntityCounts["individual"] != 1200 || len(ext.Events) != 2 || ext.CaseNumber != "JP-2026-00007" || ext.TLP != "amber" {
		t.Errorf("extension %+v", ext)
	}
	if got := ext.Form(desc); got.Description != in.Version.Form.Description || got.EventClass != "intrusion" ||
		got.Impact.DurationMinutes == nil || *got.Impact.DurationMinutes != 45 || len(got.Timeline) != 2 {
		t.Errorf("form read back: %+v", got)
	}
	if incs[0]["modified"] != "2026-11-20T04:00:00.000Z" || incs[0]["created"] != "2026-11-20T01:00:00.000Z" {
		t.Errorf("incident times %v %v", incs[0]["created"], incs[0]["modified"])
	}
	values := map[string]bool{}
	for _, o := range objs {
		if v, ok := o["value"].(string); ok {
			values[o["type"].(string)+" "+v] = true
		}
		if h, ok := o["hashes"].(map[string]any); ok {
			for alg, v := range h {
				values["file "+alg+" "+v.(string)] = true
			}
		}
	}
	for _, want := range []string{
		"url http://evil-update.example.com/payload.bin", "ipv4-addr 198.51.100.23",
		"email-addr attacker@malicious.example.net", "file MD5 d41d8cd98f00b204e9800998ecf8427e", "ipv6-addr 2001:db8::dead:beef",
		"domain-name c2.example.org", "file SHA-256 " + strings.Repeat("ab", 32),
	} {
		if !values[want] {
			t.Errorf("no observable %q in %v", want, values)
		}
	}
	if values["email-addr reporter@operator.demo.kyoyu.jp"] {
		t.Error("the reporter's own address became an observable")
	}
	if values["ipv4-addr 10.0.0.5"] {
		t.Error("an internal address became an observable")
	}
	if n, m := len(byType(objs, "indicator")), len(values); n != m {
		t.Errorf("%d indicators for %d observables", n, m)
	}
	for _, ind := range byType(objs, "indicator") {
		if ind["pattern"] == "[ipv4-addr:value = '198.51.100.23']" {
			return
		}
	}
	t.Error("no indicator for 198.51.100.23")
}

func indexOf(objs []object, id string) int {
	for i, o := range objs {
		if o["id"] == id {
			return i
		}
	}
	return -1
}

// An anonymised operator stays its label, under an id unrelated to the
// real organisation's; the entitled see the organisation itself.
func TestExportKeepsAnonymity(t *testing.T) {
	anon, _ := stix.ExportCase(sample("green", true))
	raw, _ := anon.JSON()
	if bytes.Contains(raw, []byte("東和")) {
		t.Fatalf("anonymised export names the operator:\n%s", raw)
	}
	named, _ := stix.ExportCase(sample("green", false))
	var labelID, realID string
	for _, o := range byType(objects(t, anon), "identity") {
		if o["name"] == "電力事業者A" {
			labelID = o["id"].(string)
		}
	}
	for _, o := range byType(objects(t, named), "identity") {
		if o["name"] == "東和電力株式会社" {
			realID = o["id"].(string)
		}
	}
	if labelID == "" || realID == "" || labelID == realID {
		t.Errorf("label identity %q, real identity %q", labelID, realID)
	}
}

func TestRelabelNeverWidens(t *testing.T) {
	raw := json.RawMessage(`{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","object_marking_refs":["` +
		stix.TLP1White + `","marking-definition--a1b2c3d4-0000-4000-8000-000000000000"],"granular_markings":[{"marking_ref":"` + stix.TLP2Green + `","selectors":["name"]}]}`)
	out, err := stix.Relabel(raw, policy.Amber, 2)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Refs     []string `json:"object_marking_refs"`
		Granular []any    `json:"granular_markings"`
	}
	if err := json.Unmarshal(out, &o); err != nil {
		t.Fatal(err)
	}
	if len(o.Refs) != 2 || o.Refs[0] != stix.TLP2Amber || o.Refs[1] != "marking-definition--a1b2c3d4-0000-4000-8000-000000000000" || o.Granular != nil {
		t.Errorf("relabelled %s", out)
	}
}
