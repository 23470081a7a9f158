// Package policy is the sharing-range rule (情報共有範囲, TLP) of the
// framework, and the only place that decides who may see what. Its core,
// Decide, is a pure function from a viewer and an item to what the viewer
// may see of the item; Where turns the same rule into an SQL condition so
// that lists, counts and searches filter in the query. A test holds the two
// equal, and the adversarial test in e2e/ holds every surface to an oracle
// written separately from the handbook's tables.
//
// The rule, from table 4 (reports) and figure 7 (advisories) of the
// handbook (seed 003), as restated in DOMAIN.md:
//
//   - The originating organisation always sees its own item.
//   - An organisation the provider excluded never sees it (after the above).
//   - WHITE: anyone, signed in or not, once the item is shared.
//   - Organisations the item has reached on its route (the ministry, the
//     CEPTOAR secretariat, NISC on receipt) see it: the RED "sender and receiver".
//   - Nothing else sees an item before it is shared (a report on receipt by
//     NISC, an advisory on publication).
//   - Named additional recipients (※1) and analysis partners engaged by NISC
//     and opted in for the item (※2) see it.
//   - Reports, by range: RED — nobody more. AMBER — NISC, and the ministries,
//     CEPTOAR secretariats and CEPTOAR-member operators of the item's
//     sectors. GREEN — NISC, every kind of ministry, security agencies,
//     event organisations, cyber-space vendors, CEPTOAR secretariats and
//     CEPTOAR-member operators.
//   - Advisories, by range: RED — the recipient ministries. AMBER — the
//     recipient ministries, and the CEPTOAR secretariats and member
//     operators of the recipient sectors. GREEN — the competent ministries,
//     every CEPTOAR secretariat and member operator.
//   - RED and AMBER reach only people who handle incident information in
//     their organisation (関係者限り, need to know) — except in the
//     originating organisation, whose own item it is.
//   - The real source of an anonymised report (route via a CEPTOAR) is seen
//     only by the originating organisation and the secretariat that
//     anonymised it; everyone else who sees the report sees its label.
package policy

import (
	"slices"

	"kyoyu"
)

// TLP is a sharing range. Ranges order from narrow to wide.
type TLP string

const (
	Red   TLP = "red"   // 宛先限り
	Amber TLP = "amber" // 特定分野・関係者限り
	Green TLP = "green" // 重要インフラ関係主体限り
	White TLP = "white" // 公開
)

// TLPs lists the ranges from narrowest to widest.
var TLPs = []TLP{Red, Amber, Green, White}

// Valid reports whether t is a known range.
func (t TLP) Valid() bool { return slices.Contains(TLPs, t) }

// rank orders ranges: a smaller rank is narrower.
func (t TLP) rank() int { return slices.Index(TLPs, t) }

// Narrower returns the narrower of two ranges (an unknown range counts as
// the narrowest, so a mistake never widens).
func Narrower(a, b TLP) TLP {
	if !a.Valid() || !b.Valid() {
		return Red
	}
	if a.rank() <= b.rank() {
		return a
	}
	return b
}

// Widens reports whether changing from to to would widen the range.
func Widens(from, to TLP) bool {
	return !to.Valid() || !from.Valid() || to.rank() > from.rank()
}

// needToKnow reports whether a range reaches only staff who handle
// incident information.
func (t TLP) needToKnow() bool { return t == Red || t == Amber || !t.Valid() }

// Kind says which of the two forms an item is.
type Kind string

const (
	Report   Kind = "report"   // 情報連絡
	Advisory Kind = "advisory" // 情報提供
)

// Viewer is who is looking: a signed-in person as the rule sees them, or
// an anonymous visitor.
type Viewer struct {
	Anonymous  bool
	PersonID   int64
	OrgID      int64
	Kinds      []kyoyu.OrgKind
	Sectors    []string // the organisation's sectors
	CEPTOARs   []string // CEPTOARs the organisation is a member of
	NeedToKnow bool     // handles incident information (関係者)
}

// ViewerOf builds the viewer for a person of an organisation.
func ViewerOf(p *kyoyu.Person, o *kyoyu.Organisation) Viewer {
	if p == nil || o == nil {
		return Viewer{Anonymous: true}
	}
	return Viewer{PersonID: p.ID, OrgID: o.ID, Kinds: o.Kinds, Sectors: o.Sectors, CEPTOARs: o.CEPTOARs, NeedToKnow: p.HandlesIncidents}
}

// Anonymous is the viewer who has not signed in.
var Anonymous = Viewer{Anonymous: true}

func (v Viewer) has(k kyoyu.OrgKind) bool { return slices.Contains(v.Kinds, k) }

// member reports whether the viewer is an operator that belongs to a CEPTOAR
// (セプターを構成する重要インフラ事業者等).
func (v Viewer) member() bool { return v.has(kyoyu.KindOperator) && len(v.CEPTOARs) > 0 }

func (v Viewer) inSectors(sectors []string) bool {
	for _, s := range v.Sectors {
		if slices.Contains(sectors, s) {
			return true
		}
	}
	return false
}

// Item is a shareable thing as the rule sees it: a case's latest version,
// or an advisory.
type Item struct {
	Kind       Kind
	TLP        TLP
	Originator int64 // the organisation that provided it
	// Shared is true once a report reached NISC or an advisory was published.
	Shared bool
	// Holders are the organisations the item reached on its route.
	Holders []int64
	// Sectors are the directly concerned sectors (reports) or the recipient
	// sectors (advisories).
	Sectors []string
	// RecipientMinistries are an advisory's recipient ministries.
	RecipientMinistries []int64
	Recipients          []int64 // additional named recipients (※1)
	Partners            []int64 // analysis partners opted in (※2)
	Excluded            []int64 // organisations the provider excluded
	// Anonymised reports hide their source from all but SourceOrgs.
	Anonymised bool
	SourceOrgs []int64
}

// Decision is what a viewer may see of an item.
type Decision struct {
	See       bool // the item at all
	SeeSource bool // the real identity of an anonymised source
}

// Decide applies the rule. It is the reference the SQL of Where must match.
func Decide(v Viewer, it Item) Decision {
	see := decide(v, it)
	d := Decision{See: see}
	if see {
		d.SeeSource = !it.Anonymised || (!v.Anonymous && (v.OrgID == it.Originator || slices.Contains(it.SourceOrgs, v.OrgID)))
	}
	return d
}

func decide(v Viewer, it Item) bool {
	if !v.Anonymous && v.OrgID != 0 && v.OrgID == it.Originator {
		return true
	}
	if !v.Anonymous && slices.Contains(it.Excluded, v.OrgID) {
		return false
	}
	if it.TLP == White && it.Shared {
		return true
	}
	if v.Anonymous || v.OrgID == 0 {
		return false
	}
	if it.TLP.needToKnow() && !v.NeedToKnow {
		return false
	}
	if slices.Contains(it.Holders, v.OrgID) {
		return true
	}
	if !it.Shared {
		return false
	}
	if slices.Contains(it.Recipients, v.OrgID) || slices.Contains(it.Partners, v.OrgID) {
		return true
	}
	switch it.Kind {
	case Report:
		return reportRange(v, it)
	case Advisory:
		return advisoryRange(v, it)
	}
	return false
}

func reportRange(v Viewer, it Item) bool {
	switch it.TLP {
	case Amber:
		return v.has(kyoyu.KindNISC) ||
			((v.has(kyoyu.KindMinistry) || v.has(kyoyu.KindCEPTOAR) || v.member()) && v.inSectors(it.Sectors))
	case Green, White:
		return greenReportKinds(v)
	}
	return false
}

// greenReportKinds: 重要インフラ関係主体 of table 4.
func greenReportKinds(v Viewer) bool {
	for _, k := range []kyoyu.OrgKind{kyoyu.KindNISC, kyoyu.KindMinistry, kyoyu.KindSecurityMinistry,
		kyoyu.KindResponseMinistry, kyoyu.KindDisasterMinistry, kyoyu.KindSecurityAgency,
		kyoyu.KindEventOrg, kyoyu.KindCyberVendor, kyoyu.KindCEPTOAR} {
		if v.has(k) {
			return true
		}
	}
	return v.member()
}

func advisoryRange(v Viewer, it Item) bool {
	recipient := slices.Contains(it.RecipientMinistries, v.OrgID)
	switch it.TLP {
	case Red:
		return recipient
	case Amber:
		return recipient || ((v.has(kyoyu.KindCEPTOAR) || v.member()) && v.inSectors(it.Sectors))
	case Green, White:
		return recipient || v.has(kyoyu.KindMinistry) || v.has(kyoyu.KindCEPTOAR) || v.member()
	}
	return false
}

// Version is what the rule needs of one version of a report: who wrote
// it, where it was sent, and whether it reached NISC.
type Version struct {
	OrgID      int64 // the organisation that wrote it
	ToOrgID    int64 // the organisation it was submitted to (0 for a draft)
	Draft      bool
	Released   bool // reached NISC: part of the shared case
	SourceOnly bool // written before anonymisation: carries the real source
}

// SeeVersion decides whether a viewer who got decision d for a case may
// see one of its versions: a released version goes with the case; before
// release a version is seen only by the organisation that wrote it and,
// once submitted, the one it was sent to; a version written before
// anonymisation only by those who may see the source.
func SeeVersion(v Viewer, d Decision, ver Version) bool {
	if !d.See || (ver.SourceOnly && !d.SeeSource) {
		return false
	}
	if ver.Released {
		return true
	}
	if v.Anonymous || v.OrgID == 0 {
		return false
	}
	return v.OrgID == ver.OrgID || (!ver.Draft && ver.ToOrgID != 0 && v.OrgID == ver.ToOrgID)
}
