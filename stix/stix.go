// Package stix turns Kyoyu's cases into STIX 2.1 bundles and reads STIX
// 2.1 bundles from elsewhere, as pure functions on the domain's types: it
// reads no database and decides no visibility. Whoever calls it has already
// read the case as the person it exports for (report.Service does, through
// the sharing-range layer), and stores what an import plans (store/stix.go).
//
// Export: a case becomes an incident carrying the form through a property
// extension of our own (extension-definition--<ExtensionID>), organisations
// become identities (an anonymised operator stays its label), observables
// found in the text become SCOs and indicators, and the range becomes a TLP
// marking (1.0 ids by default, 2.0 on request). Ids are UUIDv5, so exporting
// the same version twice gives the same bundle.
// A published advisory becomes a report carrying the figure-7 sheet through
// an extension of its own, with a course-of-action for its recommended
// actions; its ids depend on the advisory, so a 第2報 is a newer version of
// the same objects (ExportAdvisory).
//
// Import: Parse checks a bundle and refuses it whole with every problem
// named; PlanImport maps its markings to one sharing range (never wider than
// any of them) and says, per object, what Kyoyu understands and what it
// keeps opaque.
package stix

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// SpecVersion is the only STIX version exported and imported.
const SpecVersion = "2.1"

// MediaType is the STIX content type (TAXII 2.1 §1.6.8).
const MediaType = "application/stix+json;version=2.1"

// namespace seeds the UUIDv5 ids of everything Kyoyu exports. It never
// changes: changing it would give every exported object a new identity.
var namespace = mustUUID("546a3133-8e8b-45ad-be56-4afac3c336a8")

// scoNamespace is the namespace STIX 2.1 §2.9 fixes for the deterministic
// ids of cyber observables, so an address exported here has the id any
// other producer gives it.
var scoNamespace = mustUUID("00abedb4-aa42-57c7-88ca-2e39ea8a0b49")

// ExtensionID is the id of our extension-definition for incidents.
var ExtensionID = "extension-definition--" + uuid5(namespace, "kyoyu/extension/incident/1")

// PlatformIdentityID is the identity that defines the extension.
var PlatformIdentityID = "identity--" + uuid5(namespace, "kyoyu/platform")

func mustUUID(s string) [16]byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		panic("stix: bad namespace " + s)
	}
	var u [16]byte
	copy(u[:], b)
	return u
}

// uuid5 is RFC 9562 UUIDv5: SHA-1 of namespace and name.
func uuid5(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	sum := h.Sum(nil)
	var u [16]byte
	copy(u[:], sum[:16])
	u[6] = (u[6] & 0x0f) | 0x50
	u[8] = (u[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// id makes a deterministic identifier of a type from a name within Kyoyu.
func id(typ, name string) string { return typ + "--" + uuid5(namespace, typ+"/"+name) }

// idPattern is the identifier of STIX 2.1 §2.7 (the OASIS schema's pattern).
var idPattern = regexp.MustCompile(`^([a-z][a-z0-9-]+[a-z0-9])--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$`)

// typePattern is a valid object type name (STIX 2.1 §2.13, with the
// schemas' length bounds).
var typePattern = regexp.MustCompile(`^([a-z][a-z0-9]*)+(-[a-z0-9]+)*-?$`)

// ValidType reports whether s is a STIX type name (§2.13).
func ValidType(s string) bool { return len(s) >= 3 && len(s) <= 250 && typePattern.MatchString(s) }

// ValidID reports whether s is a STIX identifier (§2.7).
func ValidID(s string) bool { return idPattern.MatchString(s) }

// Timestamp formats t as STIX timestamps are exported: UTC, milliseconds.
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// parseTimestamp reads a STIX timestamp (RFC 3339, UTC "Z", any precision).
func parseTimestamp(s string) (time.Time, bool) {
	if !strings.HasSuffix(s, "Z") {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// VersionKey is how a timestamp is kept as a version key: fixed width, so
// keys order as times do whatever precision the producer wrote.
func VersionKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// Bundle is a STIX bundle as exported: objects in a stable order.
type Bundle struct {
	Type    string            `json:"type"`
	ID      string            `json:"id"`
	Objects []json.RawMessage `json:"objects"`
}

// JSON encodes a bundle for download, indented, without HTML escaping.
func (b *Bundle) JSON() ([]byte, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		return nil, err
	}
	return []byte(sb.String()), nil
}

// marshal encodes one object compactly, without HTML escaping, so ids
// computed from the encoding are those of the canonical form.
func marshal(v any) (json.RawMessage, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return json.RawMessage(strings.TrimSuffix(sb.String(), "\n")), nil
}

// common is what every object we export shares; SCOs use the first four.
type common struct {
	Type              string   `json:"type"`
	SpecVersion       string   `json:"spec_version"`
	ID                string   `json:"id"`
	Created           string   `json:"created,omitempty"`
	Modified          string   `json:"modified,omitempty"`
	CreatedByRef      string   `json:"created_by_ref,omitempty"`
	ObjectMarkingRefs []string `json:"object_marking_refs,omitempty"`
}

// ExternalReference points outside STIX (§2.5).
type ExternalReference struct {
	SourceName  string `json:"source_name"`
	Description string `json:"description,omitempty"`
	ExternalID  string `json:"external_id,omitempty"`
	URL         string `json:"url,omitempty"`
}
