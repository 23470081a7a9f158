package stix

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"kyoyu"
	"kyoyu/policy"
)

// CaseInput is one version of a case as the exporting person may see it.
// The caller reads it through the sharing-range layer; ExportCase trusts
// it and adds nothing the person could not see.
type CaseInput struct {
	Case      *kyoyu.Case
	SeeSource bool // the person may know the real source of an anonymised case
	Version   *kyoyu.ReportVersion
	// Attachments of the version, metadata only.
	Attachments []Attachment
	// Operator is the registered operator concerned, only when the person
	// may see the source; otherwise the case's Operator (name or label) is used.
	Operator *kyoyu.Organisation
	// Author is the organisation that wrote the version; nil leaves it out.
	Author *kyoyu.Organisation
	// TLP is the range to mark everything with: the narrower of the case's
	// and the version's.
	TLP policy.TLP
	// TLPVersion chooses TLP 1.0 (1, the default) or TLP 2.0 (2) ids.
	TLPVersion int
	// Source names the deployment in the ids, so two installations never
	// give one id to different cases. Empty is fine for a single one.
	Source string
}

// Attachment is what an export says of an attachment (別紙).
type Attachment struct {
	Filename string
	SHA256   string
	Size     int64
}

// The STIX types of what we export, in the order a bundle lists them.
const (
	orderMarking = iota
	orderDefinition
	orderIdentity
	orderIncident
	orderObservable
	orderIndicator
	orderRelationship
)

type identity struct {
	common
	Name          string   `json:"name"`
	Description   string   `json:"description,omitempty"`
	IdentityClass string   `json:"identity_class,omitempty"`
	Sectors       []string `json:"sectors,omitempty"`
}

type incident struct {
	common
	Name               string              `json:"name"`
	Description        string              `json:"description,omitempty"`
	ExternalReferences []ExternalReference `json:"external_references,omitempty"`
	Extensions         map[string]any      `json:"extensions"`
}

type sco struct {
	Type              string            `json:"type"`
	SpecVersion       string            `json:"spec_version"`
	ID                string            `json:"id"`
	ObjectMarkingRefs []string          `json:"object_marking_refs,omitempty"`
	Value             string            `json:"value,omitempty"`
	Name              string            `json:"name,omitempty"`
	Size              int64             `json:"size,omitempty"`
	Hashes            map[string]string `json:"hashes,omitempty"`
}

type indicator struct {
	common
	Name           string `json:"name"`
	Description    string `json:"description,omitempty"`
	Pattern        string `json:"pattern"`
	PatternType    string `json:"pattern_type"`
	PatternVersion string `json:"pattern_version"`
	ValidFrom      string `json:"valid_from"`
}

type relationship struct {
	common
	RelationshipType string `json:"relationship_type"`
	SourceRef        string `json:"source_ref"`
	TargetRef        string `json:"target_ref"`
}

// stixSectors maps our sectors onto STIX's industry-sector-ov.
var stixSectors = map[string]string{
	"info_comm": "communications", "finance": "financial-services", "aviation": "transportation", "airport": "transportation",
	"railway": "transportation", "electricity": "utilities", "gas": "utilities", "government": "government",
	"medical": "healthcare", "water": "water", "logistics": "transportation", "chemical": "chemical",
	"credit": "financial-services", "petroleum": "energy", "port": "transportation",
}

// builder collects objects and keeps each once, in bundle order.
type builder struct {
	objs [][]json.RawMessage
	seen map[string]bool
	err  error
}

func (b *builder) add(order int, id string, v any) {
	if b.err != nil || b.seen[id] {
		return
	}
	raw, err := marshal(v)
	if err != nil {
		b.err = fmt.Errorf("stix: encode %s: %w", id, err)
		return
	}
	b.seen[id] = true
	b.objs[order] = append(b.objs[order], raw)
}

func (b *builder) bundle() (*Bundle, error) {
	if b.err != nil {
		return nil, b.err
	}
	out := &Bundle{Type: "bundle", Objects: []json.RawMessage{}}
	h := sha256.New()
	for _, group := range b.objs {
		for _, raw := range group {
			out.Objects = append(out.Objects, raw)
			h.Write(raw)
		}
	}
	// The same content is the same bundle.
	out.ID = id("bundle", "content/"+hex.EncodeToString(h.Sum(nil)))
	return out, nil
}

func newBuilder() *builder {
	return &builder{objs: make([][]json.RawMessage, orderRelationship+1), seen: map[string]bool{}}
}

// organisationIdentity is a directory organisation as an identity: the
// same id in every export, since the directory is common knowledge.
func organisationIdentity(src string, o *kyoyu.Organisation) identity {
	key := "organisation/" + o.Code
	if o.Code == "" {
		key = fmt.Sprintf("organisation/id/%d", o.ID)
	}
	var sectors []string
	for _, s := range o.Sectors {
		if v, ok := stixSectors[s]; ok && !contains(sectors, v) {
			sectors = append(sectors, v)
		}
	}
	return identity{
		common: common{Type: "identity", SpecVersion: SpecVersion, ID: id("identity", src+key), Created: extensionCreated, Modified: extensionCreated},
		Name:   o.NameJA, Description: o.NameEN, IdentityClass: "organization", Sectors: sectors,
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// ExportCase builds the bundle of one version of a case.
func ExportCase(in CaseInput) (*Bundle, error) {
	c, v := in.Case, in.Version
	if c == nil || v == nil || v.CaseID != c.ID {
		return nil, fmt.Errorf("stix: export: version does not belong to the case")
	}
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

	created := Timestamp(c.CreatedAt)
	at := v.UpdatedAt
	if v.SubmittedAt != nil {
		at = *v.SubmittedAt
	}
	if at.Before(c.CreatedAt) {
		at = c.CreatedAt
	}
	modified := Timestamp(at)
	caseKey := fmt.Sprintf("%scase/%d", src, c.ID)

	b.add(orderIdentity, PlatformIdentityID, identity{
		common: common{Type: "identity", SpecVersion: SpecVersion, ID: PlatformIdentityID, Created: extensionCreated, Modified: extensionCreated},
		Name:   "Kyoyu 重要インフラサイバーセキュリティ情報共有基盤", IdentityClass: "system",
	})
	b.add(orderDefinition, ExtensionID, extensionDefinitionObject())

	author := ""
	if in.Author != nil {
		ai := organisationIdentity(src, in.Author)
		author = ai.ID
		b.add(orderIdentity, ai.ID, ai)
	}
	// The operator concerned: itself for those who may know it, else only
	// its label (電力事業者A) under an id that says nothing of the source.
	operator := ""
	if in.Operator != nil && in.SeeSource {
		oi := organisationIdentity(src, in.Operator)
		operator = oi.ID
		b.add(orderIdentity, oi.ID, oi)
	} else if c.Operator != "" {
		key := caseKey + "/operator/" + c.Operator
		desc := ""
		if c.Anonymised && !in.SeeSource {
			key = caseKey + "/label/" + c.Operator
			desc = "匿名化された重要インフラ事業者 / anonymised critical-infrastructure operator"
		}
		oi := identity{
			common: common{Type: "identity", SpecVersion: SpecVersion, ID: id("identity", key), Created: created, Modified: created, ObjectMarkingRefs: marks},
			Name:   c.Operator, Description: desc, IdentityClass: "organization",
		}
		if s, ok := stixSectors[v.Form.Sector]; ok {
			oi.Sectors = []string{s}
		}
		operator = oi.ID
		b.add(orderIdentity, oi.ID, oi)
	}

	ext := Extension(v.Form, c.CaseNumber, v.ReportNumber, v.Stage)
	inc := incident{
		common: common{Type: "incident", SpecVersion: SpecVersion, ID: id("incident", caseKey), Created: created, Modified: modified,
			CreatedByRef: author, ObjectMarkingRefs: marks},
		Name: incidentName(c, v), Description: v.Form.Description,
		Extensions: map[string]any{ExtensionID: ext},
	}
	if c.CaseNumber != "" {
		inc.ExternalReferences = []ExternalReference{{SourceName: "kyoyu", ExternalID: c.CaseNumber, Description: "識別番号 / case number"}}
	}
	b.add(orderIncident, inc.ID, inc)
	rel := func(typ, from, to string) {
		rid := id("relationship", caseKey+"/"+typ+"/"+from+"/"+to)
		b.add(orderRelationship, rid, relationship{
			common:           common{Type: "relationship", SpecVersion: SpecVersion, ID: rid, Created: created, Modified: modified, CreatedByRef: author, ObjectMarkingRefs: marks},
			RelationshipType: typ, SourceRef: from, TargetRef: to,
		})
	}
	if operator != "" {
		rel("impacts", inc.ID, operator)
	}

	label := c.CaseNumber
	if label == "" {
		label = fmt.Sprintf("case %d", c.ID)
	}
	for _, o := range caseObservables(v.Form, in.Attachments) {
		s, ok := o.object(marks)
		if !ok {
			continue
		}
		b.add(orderObservable, s.ID, s)
		iid := id("indicator", caseKey+"/"+s.ID)
		b.add(orderIndicator, iid, indicator{
			common:      common{Type: "indicator", SpecVersion: SpecVersion, ID: iid, Created: created, Modified: modified, CreatedByRef: author, ObjectMarkingRefs: marks},
			Name:        o.name(),
			Description: fmt.Sprintf("%s 第%d報に記載された観測値 / observable in report %d of %s", label, v.ReportNumber, v.ReportNumber, label),
			Pattern:     o.Pattern(), PatternType: "stix", PatternVersion: SpecVersion, ValidFrom: created,
		})
		rel("related-to", s.ID, inc.ID)
		rel("related-to", iid, inc.ID)
	}
	return b.bundle()
}

// incidentName is the case number with the first sentence of the
// description, as the case list shows it.
func incidentName(c *kyoyu.Case, v *kyoyu.ReportVersion) string {
	title := strings.TrimSpace(v.Form.Description)
	if i := strings.IndexAny(title, "\n。"); i > 0 {
		title = title[:i]
	}
	if r := []rune(title); len(r) > 80 {
		title = string(r[:80]) + "…"
	}
	head := c.CaseNumber
	if head == "" {
		head = "情報連絡"
	}
	head = fmt.Sprintf("%s 第%d報", head, v.ReportNumber)
	if title == "" {
		return head
	}
	return head + " " + title
}

// fileObservable is an attachment as a file observable.
type fileObservable struct {
	Observable
	Filename string
	Size     int64
}

// caseObservables finds the observables of a version: in its free text
// (never in the sender block, whose e-mail address is the reporter's own)
// and in its attachments' names and hashes.
func caseObservables(f kyoyu.ReportForm, atts []Attachment) []fileObservable {
	texts := []string{f.Description, f.AffectedSystem, f.Supplementary, f.Lessons, f.TLPNote, f.PressTitle, f.OtherBodiesNotified}
	for _, row := range f.Timeline {
		texts = append(texts, row.At+" "+row.Event)
	}
	var out []fileObservable
	seen := map[Observable]bool{}
	addObs := func(o Observable) {
		if seen[o] || o.Type == "email-addr" && strings.EqualFold(o.Value, f.Reporter.Email) || internalAddress(o) {
			return
		}
		seen[o] = true
		out = append(out, fileObservable{Observable: o})
	}
	for _, t := range texts {
		for _, o := range Extract(t) {
			addObs(o)
		}
	}
	for _, a := range atts {
		for _, o := range Extract(a.Filename) {
			addObs(o)
		}
		if len(a.SHA256) == 64 {
			o := Observable{Type: "file", Value: strings.ToLower(a.SHA256), Hash: "SHA-256"}
			seen[o] = true
			out = append(out, fileObservable{Observable: o, Filename: a.Filename, Size: a.Size})
		}
	}
	return out
}

// internalAddress reports an address of no use outside the operator's own
// network (private, loopback, link-local, multicast): as an indicator it
// would only map that network for others.
func internalAddress(o Observable) bool {
	if o.Type != "ipv4-addr" && o.Type != "ipv6-addr" {
		return false
	}
	a, err := netip.ParseAddr(o.Value)
	return err != nil || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsUnspecified()
}

func (o fileObservable) name() string {
	if o.Filename != "" {
		return o.Filename + " (SHA-256 " + o.Value + ")"
	}
	if o.Type == "file" {
		return o.Hash + " " + o.Value
	}
	return o.Value
}

// object is the SCO of an observable, with its deterministic id.
func (o fileObservable) object(marks []string) (sco, bool) {
	s := sco{Type: o.Type, SpecVersion: SpecVersion, ObjectMarkingRefs: marks}
	switch o.Type {
	case "file":
		s.Hashes = map[string]string{o.Hash: o.Value}
		s.Name, s.Size = o.Filename, o.Size
		contrib := map[string]any{"hashes": s.Hashes}
		if s.Name != "" {
			contrib["name"] = s.Name
		}
		s.ID = scoID("file", contrib)
	case "ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr":
		s.Value = o.Value
		s.ID = scoID(o.Type, map[string]any{"value": o.Value})
	default:
		return s, false
	}
	return s, true
}

// Relabel gives a stored object the marking of the range it is shared
// under: its TLP markings (object-wide and granular) are replaced by the
// one of that range, other markings (statements) stay. A range narrower
// than the object's own label thus travels with it; nothing leaves
// labelled wider than it was shared.
func Relabel(raw json.RawMessage, tlp policy.TLP, tlpVersion int) (json.RawMessage, error) {
	var props map[string]json.RawMessage
	if err := json.Unmarshal(raw, &props); err != nil {
		return nil, fmt.Errorf("stix: relabel: %w", err)
	}
	var typ string
	_ = json.Unmarshal(props["type"], &typ)
	if typ == "marking-definition" {
		return raw, nil
	}
	var refs []string
	if r, ok := props["object_marking_refs"]; ok {
		_ = json.Unmarshal(r, &refs)
	}
	kept := []string{MarkingID(tlp, tlpVersion)}
	for _, r := range refs {
		if _, known := KnownMarking(r); !known && !contains(kept, r) {
			kept = append(kept, r)
		}
	}
	var err error
	if props["object_marking_refs"], err = json.Marshal(kept); err != nil {
		return nil, err
	}
	if g, ok := props["granular_markings"]; ok {
		var gm []map[string]json.RawMessage
		if json.Unmarshal(g, &gm) == nil {
			var keep []map[string]json.RawMessage
			for _, m := range gm {
				var ref string
				_ = json.Unmarshal(m["marking_ref"], &ref)
				if _, known := KnownMarking(ref); !known {
					keep = append(keep, m)
				}
			}
			if len(keep) == 0 {
				delete(props, "granular_markings")
			} else if props["granular_markings"], err = json.Marshal(keep); err != nil {
				return nil, err
			}
		}
	}
	return marshal(props)
}

// ExportStored builds a bundle of stored objects shared under one range:
// each relabelled (Relabel), TLP marking-definitions replaced by the one
// of the range.
func ExportStored(objects []json.RawMessage, tlp policy.TLP, tlpVersion int) (*Bundle, error) {
	b := newBuilder()
	marking := MarkingID(tlp, tlpVersion)
	mraw, _ := MarkingObject(marking)
	b.seen[marking] = true
	b.objs[orderMarking] = append(b.objs[orderMarking], mraw)
	for _, raw := range objects {
		var head struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, fmt.Errorf("stix: stored object: %w", err)
		}
		if _, known := KnownMarking(head.ID); known {
			continue
		}
		out, err := Relabel(raw, tlp, tlpVersion)
		if err != nil {
			return nil, err
		}
		// Versions of one object are separate entries; only exact copies merge.
		key := string(out)
		if b.seen[key] {
			continue
		}
		b.seen[key] = true
		b.objs[orderIncident] = append(b.objs[orderIncident], out)
	}
	return b.bundle()
}
