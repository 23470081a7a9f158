package stix_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/stix"
	"kyoyu/stix/stixtest"
)

// advisorySample is the first version of a published advisory about a VPN
// vulnerability, with indicators written the ways advisories write them.
func advisorySample(tlp string) stix.AdvisoryInput {
	published := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	a := &kyoyu.Advisory{ID: 12, ItemID: 99, Number: "T2026-0012", Status: "published", ReportNumber: 1, IssuerOrgID: 1, TLP: tlp,
		PublishedAt: &published, CreatedAt: published.Add(-time.Hour), UpdatedAt: published,
		Form: kyoyu.AdvisoryForm{Reason: kyoyu.ReasonVulnerability, Importance: "warning", TLP: tlp, TLPNote: "所管事業者まで",
			Title:   "VPN装置の脆弱性に関する注意喚起",
			Summary: "VPN装置の脆弱性を突いた侵入が確認されている。攻撃元 203.0.113[.]7 および c2.example[.]org への通信に注意。",
			Targets: "VPN装置（バージョン 9.1 以前）", Actions: "修正版を適用し、hxxp://update.example[.]com/fix から入手すること。内部 10.0.0.5 は対象外。",
			Other: "問合せは nisc-contact@example.go.jp まで。", SourceCases: []int64{7}, Excluded: []int64{41}, ExtraRecipients: []int64{55},
			Contact:    kyoyu.Contact{Organisation: "内閣サイバーセキュリティセンター", Name: "NISC 担当", Phone: "03-0000-0000", Email: "nisc-contact@example.go.jp"},
			Recipients: []kyoyu.RecipientPair{{MinistryID: 5, Sector: "electricity"}}}}
	return stix.AdvisoryInput{Advisory: a, VersionPublishedAt: published, TLP: policy.TLP(tlp),
		Issuer:     &kyoyu.Organisation{ID: 1, Code: "nisc", NameJA: "内閣サイバーセキュリティセンター", NameEN: "NISC"},
		Recipients: []stix.AdvisoryRecipient{{Ministry: "経済産業省", MinistryCode: "meti", Sector: "electricity"}}}
}

func TestAdvisoryExportValidatesForEveryRange(t *testing.T) {
	v := stixtest.New(t)
	for _, tlp := range policy.TLPs {
		for _, version := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/tlp%d", tlp, version), func(t *testing.T) {
				in := advisorySample(string(tlp))
				in.TLPVersion = version
				b, err := stix.ExportAdvisory(in)
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := b.JSON()
				if err := v.Bundle(raw); err != nil {
					t.Fatalf("export does not validate: %v\n%s", err, raw)
				}
				want := stix.MarkingID(tlp, version)
				for _, o := range objects(t, b) {
					if o["type"] == "marking-definition" {
						if o["id"] != want {
							t.Errorf("marking-definition %s, want only %s", o["id"], want)
						}
						continue
					}
					if o["type"] == "identity" || o["type"] == "extension-definition" {
						continue // the directory and the platform: common knowledge
					}
					refs, _ := o["object_marking_refs"].([]any)
					if len(refs) != 1 || refs[0] != want {
						t.Errorf("%s marked %v, want %s", o["id"], refs, want)
					}
				}
				again, _ := stix.ExportAdvisory(in)
				raw2, _ := again.JSON()
				if !bytes.Equal(raw, raw2) {
					t.Error("two exports of one version differ")
				}
			})
		}
	}
}

func TestAdvisoryExportContent(t *testing.T) {
	in := advisorySample("amber")
	b, err := stix.ExportAdvisory(in)
	if err != nil {
		t.Fatal(err)
	}
	objs := objects(t, b)
	reps := byType(objs, "report")
	if len(reps) != 1 {
		t.Fatalf("%d reports", len(reps))
	}
	rep := reps[0]
	if rep["name"] != "T2026-0012 第1報 VPN装置の脆弱性に関する注意喚起" || rep["published"] != "2026-11-21T02:00:00.000Z" ||
		fmt.Sprint(rep["report_types"]) != "[vulnerability]" {
		t.Errorf("report head: %v %v %v", rep["name"], rep["published"], rep["report_types"])
	}
	desc, _ := rep["description"].(string)
	for _, s := range []string{"VPN装置の脆弱性を突いた侵入", "VPN装置（バージョン 9.1 以前）", "修正版を適用し", "問合せは", "NISC 担当"} {
		if !strings.Contains(desc, s) {
			t.Errorf("description lacks %q:\n%s", s, desc)
		}
	}
	ext, ok := stix.DecodeAdvisory(b.Objects[rawIndex(t, b, rep["id"].(string))])
	if !ok {
		t.Fatal("the report does not carry the advisory extension")
	}
	f := in.Advisory.Form
	if ext.AdvisoryNumber != "T2026-0012" || ext.ReportNumber != 1 || ext.Reason != "vulnerability" || ext.Importance != "warning" ||
		ext.Summary != f.Summary || ext.Targets != f.Targets || ext.Actions != f.Actions || ext.Other != f.Other ||
		ext.Title != f.Title || ext.TLP != "amber" || ext.TLPNote != f.TLPNote || ext.Contact == nil || *ext.Contact != f.Contact ||
		len(ext.Recipients) != 1 || ext.Recipients[0].Ministry != "経済産業省" {
		t.Errorf("extension %+v", ext)
	}
	coas := byType(objs, "course-of-action")
	if len(coas) != 1 || coas[0]["description"] != f.Actions {
		t.Fatalf("course-of-action %v", coas)
	}
	refs := fmt.Sprint(rep["object_refs"])
	if !strings.Contains(refs, coas[0]["id"].(string)) {
		t.Errorf("the report does not refer to its course-of-action: %s", refs)
	}
	// Observables: refanged, the contact's address and internal ones left out.
	var values []string
	for _, typ := range []string{"ipv4-addr", "domain-name", "url", "email-addr"} {
		for _, o := range byType(objs, typ) {
			values = append(values, o["value"].(string))
			if !strings.Contains(refs, o["id"].(string)) {
				t.Errorf("the report does not refer to %s", o["id"])
			}
		}
	}
	got := strings.Join(values, " ")
	for _, want := range []string{"203.0.113.7", "c2.example.org", "http://update.example.com/fix"} {
		if !strings.Contains(got, want) {
			t.Errorf("observables %q lack %s", got, want)
		}
	}
	if strings.Contains(got, "10.0.0.5") || strings.Contains(got, "nisc-contact@") {
		t.Errorf("observables %q hold an internal address or the contact's", got)
	}
	if len(byType(objs, "indicator")) != len(values) {
		t.Errorf("%d indicators for %d observables", len(byType(objs, "indicator")), len(values))
	}
	// The issuer creates everything; no source of the cases is anywhere.
	idents := byType(objs, "identity")
	issuer := ""
	for _, o := range idents {
		if o["name"] == "内閣サイバーセキュリティセンター" {
			issuer = o["id"].(string)
		}
	}
	if issuer == "" || len(idents) != 2 {
		t.Fatalf("identities %v", idents)
	}
	for _, o := range objs {
		if by, ok := o["created_by_ref"]; ok && by != issuer && o["type"] != "extension-definition" {
			t.Errorf("%s created by %v, not the issuer", o["id"], by)
		}
	}
	raw, _ := b.JSON()
	for _, s := range []string{"source_cases", "excluded", "extra_recipients", `"41"`, "東和電力"} {
		if strings.Contains(string(raw), s) {
			t.Errorf("the bundle holds %q", s)
		}
	}
}

// A follow-up (第2報) is the same objects, newer.
func TestAdvisoryFollowUpKeepsIDs(t *testing.T) {
	in := advisorySample("green")
	b1, err := stix.ExportAdvisory(in)
	if err != nil {
		t.Fatal(err)
	}
	in2 := advisorySample("green")
	in2.Advisory.ReportNumber = 2
	in2.Advisory.Form.Actions += " 第2報：回避策を追加。"
	in2.VersionPublishedAt = in.VersionPublishedAt.Add(26 * time.Hour)
	b2, err := stix.ExportAdvisory(in2)
	if err != nil {
		t.Fatal(err)
	}
	o1, o2 := objects(t, b1), objects(t, b2)
	for _, typ := range []string{"report", "course-of-action"} {
		x, y := byType(o1, typ)[0], byType(o2, typ)[0]
		if x["id"] != y["id"] || x["created"] != y["created"] {
			t.Errorf("%s: id/created %v %v → %v %v", typ, x["id"], x["created"], y["id"], y["created"])
		}
		if !(y["modified"].(string) > x["modified"].(string)) {
			t.Errorf("%s: modified %v → %v, not newer", typ, x["modified"], y["modified"])
		}
	}
	if b1.ID == b2.ID {
		t.Error("two versions in one bundle id")
	}
	if ext, _ := stix.DecodeAdvisory(b2.Objects[rawIndex(t, b2, byType(o2, "report")[0]["id"].(string))]); ext.ReportNumber != 2 {
		t.Errorf("report number %d", ext.ReportNumber)
	}
}

func TestAdvisoryExportRefusesUnpublished(t *testing.T) {
	in := advisorySample("green")
	in.Advisory.Status, in.Advisory.Number, in.Advisory.PublishedAt = "draft", "", nil
	if _, err := stix.ExportAdvisory(in); err == nil {
		t.Error("a draft exported")
	}
}

func rawIndex(t *testing.T, b *stix.Bundle, id string) int {
	t.Helper()
	for i, raw := range b.Objects {
		if bytes.Contains(raw, []byte(`"id":"`+id+`"`)) {
			return i
		}
	}
	t.Fatalf("no object %s", id)
	return -1
}

// Without its issuer (a person the rule does not let know who issued it)
// and with nothing to refer to, the report still validates, referring to
// the platform, and names no organisation.
func TestAdvisoryExportWithoutIssuer(t *testing.T) {
	in := advisorySample("red")
	in.Issuer, in.Recipients = nil, nil
	in.Advisory.Form = kyoyu.AdvisoryForm{Reason: kyoyu.ReasonOther, TLP: "red", Summary: "概要のみ。"}
	b, err := stix.ExportAdvisory(in)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := b.JSON()
	if err := stixtest.New(t).Bundle(raw); err != nil {
		t.Fatalf("does not validate: %v\n%s", err, raw)
	}
	objs := objects(t, b)
	if n := len(byType(objs, "identity")); n != 1 || strings.Count(string(raw), "created_by_ref") != 1 /* the extension-definition's, by the platform */ {
		t.Errorf("%d identities, or objects created by one:\n%s", n, raw)
	}
	if refs := fmt.Sprint(byType(objs, "report")[0]["object_refs"]); refs != "["+stix.PlatformIdentityID+"]" {
		t.Errorf("object_refs %s", refs)
	}
}
