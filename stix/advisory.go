package stix

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/policy"
)

// AdvisoryInput is one published version (第N報) of an advisory as the
// exporting person may see it. The caller reads it through the
// sharing-range layer (advisory.Service.ExportSTIX); ExportAdvisory trusts
// it and adds nothing the person could not see. Source cases are never
// part of it: an advisory names none of its sources.
type AdvisoryInput struct {
	Advisory *kyoyu.Advisory
	// Issuer is the organisation that issued it (NISC); nil leaves it out
	// (the caller does when the person may not know who issued it).
	Issuer *kyoyu.Organisation
	// Recipients are the form's recipient pairs (情報提供先) with the
	// ministries' names, as the figure-7 sheet prints them.
	Recipients []AdvisoryRecipient
	// VersionPublishedAt is when this version was published; the first
	// version's is the advisory's own publication.
	VersionPublishedAt time.Time
	// TLP is the range to mark everything with: the narrower of the
	// advisory's current range and the version's form.
	TLP policy.TLP
	// TLPVersion chooses TLP 1.0 (1, the default) or TLP 2.0 (2) ids.
	TLPVersion int
	// Source names the deployment in the ids (see CaseInput.Source).
	Source string
}

// AdvisoryRecipient is a recipient ministry and the sector it receives for.
type AdvisoryRecipient struct {
	Ministry     string `json:"ministry"`
	MinistryCode string `json:"ministry_code,omitempty"`
	Sector       string `json:"sector"`
}

// AdvisoryExtensionID is the id of our extension-definition for reports
// that are advisories.
var AdvisoryExtensionID = "extension-definition--" + uuid5(namespace, "kyoyu/extension/advisory/1")

const advisoryExtensionSchema = "Kyoyu advisory (情報提供様式, figure 7 of the NISC handbook), carried on a report. " +
	"Fields under the names of Kyoyu's API (AdvisoryForm in /api/v1/openapi.json): reason (vulnerability, attack, other), " +
	"importance (warning, advisory, info), tlp, tlp_note, title, summary (① 概要), targets (② 対象), " +
	"actions (③ 対処方針, also the course-of-action the report refers to), other (④ その他), contact (NISC's contact), " +
	"recipients (情報提供先: ministry and sector); advisory_number (識別番号) and report_number (第N報). " +
	"Times are RFC 3339 UTC."

// AdvisoryExtension is the figure-7 sheet as a property extension of a
// report. Empty values are left out.
type AdvisoryExtension struct {
	ExtensionType      string              `json:"extension_type"`
	AdvisoryNumber     string              `json:"advisory_number,omitempty"`
	ReportNumber       int                 `json:"report_number,omitempty"`
	PublishedAt        string              `json:"published_at,omitempty"`
	VersionPublishedAt string              `json:"version_published_at,omitempty"`
	Reason             string              `json:"reason,omitempty"`
	Importance         string              `json:"importance,omitempty"`
	TLP                string              `json:"tlp,omitempty"`
	TLPNote            string              `json:"tlp_note,omitempty"`
	Title              string              `json:"title,omitempty"`
	Summary            string              `json:"summary,omitempty"`
	Targets            string              `json:"targets,omitempty"`
	Actions            string              `json:"actions,omitempty"`
	Other              string              `json:"other,omitempty"`
	Contact            *kyoyu.Contact      `json:"contact,omitempty"`
	Recipients         []AdvisoryRecipient `json:"recipients,omitempty"`
}

type report struct {
	common
	Name               string              `json:"name"`
	Description        string              `json:"description,omitempty"`
	ReportTypes        []string            `json:"report_types"`
	Published          string              `json:"published"`
	ObjectRefs         []string            `json:"object_refs"`
	ExternalReferences []ExternalReference `json:"external_references,omitempty"`
	Extensions         map[string]any      `json:"extensions"`
}

type courseOfAction struct {
	common
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

func advisoryExtensionDefinition() extensionDefinition {
	return extensionDefinition{
		common: common{Type: "extension-definition", SpecVersion: SpecVersion, ID: AdvisoryExtensionID,
			Created: extensionCreated, Modified: extensionCreated, CreatedByRef: PlatformIdentityID},
		Name:           "Kyoyu advisory",
		Description:    "重要インフラ事業者等への情報提供（情報提供様式）の内容 / the content of an advisory to critical-infrastructure operators",
		Schema:         advisoryExtensionSchema,
		Version:        "1.0",
		ExtensionTypes: []string{"property-extension"},
	}
}

// reportTypes maps the reason for an advisory onto report-type-ov.
var reportTypes = map[kyoyu.AdvisoryReason]string{
	kyoyu.ReasonVulnerability: "vulnerability", kyoyu.ReasonAttack: "threat-report", kyoyu.ReasonOther: "threat-report",
}

// ExportAdvisory builds the bundle of a published version (第N報) of an
// advisory: a report carrying the sheet (its text in the description, every
// field in our property extension), a course-of-action for its recommended
// actions (③ 対処方針), the issuer as the creator of everything, observables
// found in its text as SCOs with indicators, and one TLP marking. Ids
// depend on the advisory, not the version: a follow-up is the same report
// with a newer modified, as STIX versions objects.
func ExportAdvisory(in AdvisoryInput) (*Bundle, error) {
	a := in.Advisory
	if a == nil || in.Issuer != nil && in.Issuer.ID != a.IssuerOrgID {
		return nil, fmt.Errorf("stix: export advisory: no advisory, or not its issuer")
	}
	if a.Status != "published" || a.PublishedAt == nil || a.Number == "" {
		return nil, fmt.Errorf("stix: export advisory %d: not published", a.ID)
	}
	f := a.Form
	b := newBuilder()
	src := ""
	if in.Source != "" {
		src = in.Source + "/"
	}
	marking := MarkingID(in.TLP, in.TLPVersion)
	marks := []string{marking}
	mraw, _ := MarkingObject(marking)
	b.seen[marking] = true
	b.objs[orderMarking] = append(b.objs[orderMarking], mraw)

	first := *a.PublishedAt
	at := in.VersionPublishedAt
	if at.Before(first) {
		at = first
	}
	created, modified := Timestamp(first), Timestamp(at)
	key := fmt.Sprintf("%sadvisory/%d", src, a.ID)

	b.add(orderIdentity, PlatformIdentityID, identity{
		common: common{Type: "identity", SpecVersion: SpecVersion, ID: PlatformIdentityID, Created: extensionCreated, Modified: extensionCreated},
		Name:   "Kyoyu 重要インフラサイバーセキュリティ情報共有基盤", IdentityClass: "system",
	})
	b.add(orderDefinition, AdvisoryExtensionID, advisoryExtensionDefinition())
	issuer := ""
	if in.Issuer != nil {
		oi := organisationIdentity(src, in.Issuer)
		issuer = oi.ID
		b.add(orderIdentity, oi.ID, oi)
	}
	obj := func(typ, sub string) common {
		return common{Type: typ, SpecVersion: SpecVersion, ID: id(typ, key+sub), Created: created, Modified: modified,
			CreatedByRef: issuer, ObjectMarkingRefs: marks}
	}

	var refs []string
	if strings.TrimSpace(f.Actions) != "" {
		coa := courseOfAction{common: obj("course-of-action", "/actions"),
			Name: advisoryLabel(a) + " 対処方針 / recommended actions", Description: f.Actions}
		b.add(orderIncident, coa.ID, coa)
		refs = append(refs, coa.ID)
	}
	for _, o := range advisoryObservables(f) {
		s, ok := o.object(marks)
		if !ok {
			continue
		}
		b.add(orderObservable, s.ID, s)
		ind := indicator{common: obj("indicator", "/"+s.ID), Name: o.name(),
			Description: fmt.Sprintf("%sに記載された観測値 / observable in advisory %s", advisoryLabel(a), advisoryLabel(a)),
			Pattern:     o.Pattern(), PatternType: "stix", PatternVersion: SpecVersion, ValidFrom: created}
		b.add(orderIndicator, ind.ID, ind)
		refs = append(refs, s.ID, ind.ID)
	}
	if len(refs) == 0 {
		// A report must refer to something; with no actions and no
		// observables, it refers to its issuer (or the platform).
		refs = append(refs, cmp.Or(issuer, PlatformIdentityID))
	}
	ext := AdvisoryExtension{ExtensionType: "property-extension", AdvisoryNumber: a.Number, ReportNumber: a.ReportNumber,
		PublishedAt: created, VersionPublishedAt: modified, Reason: string(f.Reason), Importance: f.Importance,
		TLP: f.TLP, TLPNote: f.TLPNote, Title: f.Title, Summary: f.Summary, Targets: f.Targets, Actions: f.Actions, Other: f.Other,
		Recipients: in.Recipients}
	if f.Contact != (kyoyu.Contact{}) {
		c := f.Contact
		ext.Contact = &c
	}
	rt := reportTypes[f.Reason]
	if rt == "" {
		rt = "threat-report"
	}
	rep := report{common: obj("report", ""), Name: advisoryName(a), Description: advisoryDescription(f),
		ReportTypes: []string{rt}, Published: modified, ObjectRefs: refs,
		ExternalReferences: []ExternalReference{{SourceName: "kyoyu", ExternalID: a.Number, Description: "識別番号 / advisory number"}},
		Extensions:         map[string]any{AdvisoryExtensionID: ext}}
	b.add(orderIncident, rep.ID, rep)
	return b.bundle()
}

// advisoryLabel is the advisory number with its 第N報.
func advisoryLabel(a *kyoyu.Advisory) string {
	return fmt.Sprintf("%s 第%d報", a.Number, a.ReportNumber)
}

// advisoryName is the number, 第N報 and title, as the advisory list shows it.
func advisoryName(a *kyoyu.Advisory) string {
	if t := strings.TrimSpace(a.Form.Title); t != "" {
		return advisoryLabel(a) + " " + t
	}
	return advisoryLabel(a)
}

// advisoryDescription is the sheet's text in its order, for consumers that
// read only a report's description.
func advisoryDescription(f kyoyu.AdvisoryForm) string {
	var parts []string
	for _, s := range []struct{ head, text string }{
		{"① 概要 / summary", f.Summary}, {"② 対象 / targets", f.Targets},
		{"③ 対処方針 / recommended actions", f.Actions}, {"④ その他 / other", f.Other},
	} {
		if t := strings.TrimSpace(s.text); t != "" {
			parts = append(parts, "【"+s.head+"】\n"+t)
		}
	}
	c := f.Contact
	var contact []string
	for _, x := range []string{c.Organisation, c.Department, c.Name, c.Phone, c.Email} {
		if x != "" {
			contact = append(contact, x)
		}
	}
	if len(contact) > 0 {
		parts = append(parts, "【連絡先 / contact】\n"+strings.Join(contact, " "))
	}
	return strings.Join(parts, "\n\n")
}

// advisoryObservables finds the observables in an advisory's text; never
// in its contact block (NISC's own address) and never internal addresses.
func advisoryObservables(f kyoyu.AdvisoryForm) []fileObservable {
	var out []fileObservable
	seen := map[Observable]bool{}
	for _, t := range []string{f.Title, f.Summary, f.Targets, f.Actions, f.Other, f.TLPNote} {
		for _, o := range Extract(t) {
			if seen[o] || o.Type == "email-addr" && strings.EqualFold(o.Value, f.Contact.Email) || internalAddress(o) {
				continue
			}
			seen[o] = true
			out = append(out, fileObservable{Observable: o})
		}
	}
	return out
}

// DecodeAdvisory reads our extension out of a report object; ok is false
// when the report does not carry it.
func DecodeAdvisory(raw json.RawMessage) (ext AdvisoryExtension, ok bool) {
	var rep struct {
		Type       string                     `json:"type"`
		Extensions map[string]json.RawMessage `json:"extensions"`
	}
	if json.Unmarshal(raw, &rep) != nil || rep.Type != "report" {
		return ext, false
	}
	x, found := rep.Extensions[AdvisoryExtensionID]
	if !found || json.Unmarshal(x, &ext) != nil {
		return AdvisoryExtension{}, false
	}
	return ext, true
}

// AdvisorySectors are the recipient sectors of the advisories a parsed
// bundle carries (our extension on its reports), so an import of an
// advisory's export stays within the sectors it was issued for.
func AdvisorySectors(b *ParsedBundle) []string {
	var out []string
	for _, o := range b.Objects {
		if o.Type != "report" {
			continue
		}
		ext, ok := DecodeAdvisory(o.Raw)
		if !ok {
			continue
		}
		for _, r := range ext.Recipients {
			if r.Sector != "" && !contains(out, r.Sector) {
				out = append(out, r.Sector)
			}
		}
	}
	return out
}
