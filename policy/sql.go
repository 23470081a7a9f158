package policy

import (
	"strings"

	"kyoyu"
)

// Relations of an organisation to an item, as the item_orgs table keeps them.
const (
	RelHolder            = "holder"             // reached it on its route
	RelRecipient         = "recipient"          // named additional recipient (※1)
	RelPartner           = "partner"            // analysis partner opted in (※2)
	RelExcluded          = "excluded"           // excluded by the provider
	RelRecipientMinistry = "recipient_ministry" // an advisory's recipient ministry
	RelSource            = "source"             // may see the real source of an anonymised item
)

// Where returns an SQL condition, over an items table aliased as alias
// (with item_orgs and item_sectors beside it), that holds exactly for the
// items Decide lets v see. Placeholders are '?'; the store rebinds them.
// Everything that depends only on the viewer is decided here in Go, so the
// database evaluates only what depends on the item.
//
// The order of the terms is for speed at national size (a list counts
// every case it matches, and both databases stop at the first term that
// decides): tests on the item's own columns come before lookups in
// item_orgs, and holding the item — a lookup for nearly every item NISC
// or a ministry sees, whose range alone usually decides — comes last.
// The lookups stay correlated EXISTS: as uncorrelated IN sets they made
// SQLite's counts faster but led PostgreSQL's planner to read every item
// for a page of fifty (docs/PERFORMANCE.md).
func Where(v Viewer, alias string) (string, []any) {
	b := &cond{i: alias}
	public := "(" + b.i + ".tlp = 'white' AND " + b.i + ".shared)"
	if v.Anonymous || v.OrgID == 0 {
		return public, nil
	}
	// Arguments are appended in the order the text reads.
	own := b.i + ".originator_org_id = " + b.arg(v.OrgID)
	notExcluded := "NOT " + b.rel(v.OrgID, RelExcluded)

	var ranges []string
	// Reports.
	if v.has(kyoyu.KindNISC) {
		ranges = append(ranges, "("+b.i+".kind = 'report' AND "+b.i+".tlp = 'amber')")
	} else if (v.has(kyoyu.KindMinistry) || v.has(kyoyu.KindCEPTOAR) || v.member()) && len(v.Sectors) > 0 {
		ranges = append(ranges, "("+b.i+".kind = 'report' AND "+b.i+".tlp = 'amber' AND "+b.inSectors(v.Sectors)+")")
	}
	if greenReportKinds(v) {
		ranges = append(ranges, "("+b.i+".kind = 'report' AND "+b.i+".tlp IN ('green', 'white'))")
	}
	// Advisories.
	ranges = append(ranges, "("+b.i+".kind = 'advisory' AND "+b.i+".tlp IN ('red', 'amber', 'green', 'white') AND "+b.rel(v.OrgID, RelRecipientMinistry)+")")
	if (v.has(kyoyu.KindCEPTOAR) || v.member()) && len(v.Sectors) > 0 {
		ranges = append(ranges, "("+b.i+".kind = 'advisory' AND "+b.i+".tlp = 'amber' AND "+b.inSectors(v.Sectors)+")")
	}
	if v.has(kyoyu.KindMinistry) || v.has(kyoyu.KindCEPTOAR) || v.member() {
		ranges = append(ranges, "("+b.i+".kind = 'advisory' AND "+b.i+".tlp IN ('green', 'white'))")
	}
	named := b.rel(v.OrgID, RelRecipient, RelPartner)
	holder := b.rel(v.OrgID, RelHolder)

	reach := "((" + b.i + ".shared AND (" + strings.Join(ranges, " OR ") + " OR " + named + ")) OR " + holder + ")"
	if !v.NeedToKnow {
		reach = "(" + b.i + ".tlp IN ('green', 'white') AND " + reach + ")"
	}
	return "(" + own + " OR (" + notExcluded + " AND (" + public + " OR " + reach + ")))", b.args
}

// SourceVisible returns an SQL expression, true where v may see the real
// source of a visible item (it is not anonymised, or v is its originator or
// a source organisation). Use it to choose between name and label in the query.
func SourceVisible(v Viewer, alias string) (string, []any) {
	b := &cond{i: alias}
	if v.Anonymous || v.OrgID == 0 {
		return "(NOT " + alias + ".anonymised)", nil
	}
	return "(NOT " + alias + ".anonymised OR " + alias + ".originator_org_id = " + b.arg(v.OrgID) + " OR " + b.rel(v.OrgID, RelSource) + ")", b.args
}

type cond struct {
	i    string
	args []any
	n    int
}

func (c *cond) arg(v any) string {
	c.args = append(c.args, v)
	return "?"
}

func (c *cond) alias() string {
	c.n++
	return "po" + string(rune('a'+c.n-1))
}

func (c *cond) rel(org int64, rels ...string) string {
	a := c.alias()
	return "EXISTS (SELECT 1 FROM item_orgs " + a + " WHERE " + a + ".item_id = " + c.i + ".id AND " + a + ".org_id = " +
		c.arg(org) + " AND " + a + ".relation IN (" + quoted(rels) + "))"
}

func quoted(rels []string) string {
	in := make([]string, len(rels))
	for i, r := range rels {
		in[i] = "'" + r + "'"
	}
	return strings.Join(in, ", ")
}

func (c *cond) inSectors(sectors []string) string {
	a := c.alias()
	ph := make([]string, len(sectors))
	for i, s := range sectors {
		ph[i] = c.arg(s)
	}
	return "EXISTS (SELECT 1 FROM item_sectors " + a + " WHERE " + a + ".item_id = " + c.i + ".id AND " + a + ".sector_code IN (" + strings.Join(ph, ", ") + "))"
}

// VersionWhere returns the SQL condition for the report versions (aliased
// ver, with their item aliased item) that SeeVersion lets v see; it
// includes the case's own Where.
func VersionWhere(v Viewer, ver, item string) (string, []any) {
	where, args := Where(v, item)
	src, sargs := SourceVisible(v, item)
	args = append(args, sargs...)
	if v.Anonymous || v.OrgID == 0 {
		return "(" + where + " AND " + ver + ".released AND (NOT " + ver + ".source_only OR " + src + "))", args
	}
	args = append(args, v.OrgID, v.OrgID)
	return "(" + where + " AND (NOT " + ver + ".source_only OR " + src + ") AND (" + ver + ".released OR " + ver + ".org_id = ? OR (" +
		ver + ".status = 'submitted' AND " + ver + ".to_org_id = ?)))", args
}
