package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/audit"
	"kyoyu/policy"
)

// STIXObject is one stored STIX object, with the range of the item it
// was shared in.
type STIXObject struct {
	ItemID      int64
	ID          string
	Type        string
	SpecVersion string
	Created     string // version key of created, or ""
	// Modified is the version key: of modified, else of created (marking
	// definitions have no modified), else "" (observables have neither).
	Modified  string
	JSON      json.RawMessage
	DateAdded time.Time
	TLP       policy.TLP
}

// STIXImport is a bundle to store as one new item.
type STIXImport struct {
	Item     policy.Item // the item it becomes: shared, with its range and holders
	BundleID string
	PersonID int64
	Source   string // api, cli, ui, taxii, or misp (a MISP event, by any channel)
	Via      string // for source misp: api, cli or ui, kept in the audit entry
	Objects  []STIXObject
	// Account is the import's account, as JSON, kept for the record (and a
	// TAXII status resource).
	Account json.RawMessage
	// Progress, if set, is told how many objects are stored so far.
	Progress func(done, total int)
}

// HeldSTIX is a copy of an object version the organisation already holds.
type HeldSTIX struct {
	ItemID int64
	TLP    policy.TLP
}

// HeldSTIXVersions returns the versions ("id modified") of the given
// objects that the organisation itself already imported from the same
// bundle, with the items and ranges they are held under — what importing
// that bundle again may skip. Nobody else's holdings are looked at: that
// an object is held under a range the importer cannot see is not the
// importer's to learn.
func (db *DB) HeldSTIXVersions(ctx context.Context, orgID int64, bundleID string, ids []string) (map[string][]HeldSTIX, error) {
	held := map[string][]HeldSTIX{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 200)]
		ids = ids[len(chunk):]
		args := []any{orgID, bundleID}
		ph := make([]string, len(chunk))
		for i, id := range chunk {
			ph[i] = "?"
			args = append(args, id)
		}
		rows, err := db.query(ctx, `SELECT o.stix_id, o.modified, o.item_id, i.tlp FROM stix_objects o JOIN items i ON i.id = o.item_id
			JOIN stix_imports s ON s.item_id = o.item_id
			WHERE i.originator_org_id = ? AND s.bundle_id = ? AND o.stix_id IN (`+strings.Join(ph, ", ")+`) ORDER BY o.item_id`, args...)
		if err != nil {
			return nil, fmt.Errorf("held stix objects: %w", err)
		}
		for rows.Next() {
			var id, modified, tlp string
			var h HeldSTIX
			if err := rows.Scan(&id, &modified, &h.ItemID, &tlp); err != nil {
				rows.Close()
				return nil, err
			}
			h.TLP = policy.TLP(tlp)
			held[id+" "+modified] = append(held[id+" "+modified], h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return held, nil
}

// ImportSTIX stores a bundle's objects as one new shared item, with the
// record of the import and its audit entry, in one transaction: a bundle
// is stored whole or not at all.
func (db *DB) ImportSTIX(ctx context.Context, actor kyoyu.Actor, imp STIXImport) (int64, error) {
	ids, err := db.ImportSTIXBatch(ctx, actor, []STIXImport{imp})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// ImportSTIXBatch stores several imports (the events of one MISP file),
// each as its own item, in one transaction: all of them or none.
func (db *DB) ImportSTIXBatch(ctx context.Context, actor kyoyu.Actor, imps []STIXImport) ([]int64, error) {
	for _, imp := range imps {
		switch imp.Source {
		case "api", "cli", "ui", "taxii", "misp":
		default:
			return nil, fmt.Errorf("import stix: unknown source %q", imp.Source)
		}
		if len(imp.Objects) == 0 {
			return nil, kyoyu.Errorf(kyoyu.EINVALID, "nothing to import")
		}
	}
	var ids []int64
	err := db.Update(ctx, func(tx *Tx) error {
		ids = ids[:0]
		for _, imp := range imps {
			id, err := tx.importSTIX(ctx, actor, imp)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

func (tx *Tx) importSTIX(ctx context.Context, actor kyoyu.Actor, imp STIXImport) (int64, error) {
	imp.Item.Kind = policy.Report
	itemID, err := tx.createItem(ctx, imp.Item)
	if err != nil {
		return 0, err
	}
	for i, o := range imp.Objects {
		if _, err := tx.exec(ctx, `INSERT INTO stix_objects (item_id, stix_id, type, spec_version, created, modified, json, date_added)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, itemID, o.ID, o.Type, o.SpecVersion, o.Created, o.Modified, string(o.JSON), tx.now); err != nil {
			return 0, fmt.Errorf("store %s: %w", o.ID, err)
		}
		if imp.Progress != nil && (i%500 == 499 || i == len(imp.Objects)-1) {
			imp.Progress(i+1, len(imp.Objects))
		}
	}
	if _, err := tx.exec(ctx, `INSERT INTO stix_imports (item_id, bundle_id, person_id, source, account, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		itemID, imp.BundleID, nullID(imp.PersonID), imp.Source, string(imp.Account), tx.now); err != nil {
		return 0, fmt.Errorf("record import: %w", err)
	}
	detail := fmt.Sprintf("bundle=%s objects=%d tlp=%s source=%s", imp.BundleID, len(imp.Objects), imp.Item.TLP, imp.Source)
	if imp.Via != "" {
		detail += " via=" + imp.Via
	}
	if err := tx.audit(ctx, actor, "stix.import", "item", fmt.Sprint(itemID), audit.OK, detail); err != nil {
		return 0, err
	}
	return itemID, nil
}

// What holds stored STIX objects (STIXFilter.Holding).
const (
	HoldingReport   = "report" // cases and imported bundles
	HoldingCase     = "case"
	HoldingImport   = "import"
	HoldingAdvisory = "advisory"
)

// StoreItemSTIX stores the STIX export of a version of an item of ours (a
// released case version, a published advisory) among its item's objects,
// so TAXII collections serve it under the item's range. A version already
// stored (same id and modified) is kept as it was: storing the same
// export twice, as a retried job may, changes nothing. It returns how
// many objects were new.
func (db *DB) StoreItemSTIX(ctx context.Context, actor kyoyu.Actor, itemID int64, what string, objects []STIXObject) (int, error) {
	added := 0
	err := db.Update(ctx, func(tx *Tx) error {
		added = 0
		for _, o := range objects {
			res, err := tx.exec(ctx, `INSERT INTO stix_objects (item_id, stix_id, type, spec_version, created, modified, json, date_added)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (stix_id, modified, item_id) DO NOTHING`,
				itemID, o.ID, o.Type, o.SpecVersion, o.Created, o.Modified, string(o.JSON), tx.now)
			if err != nil {
				return fmt.Errorf("store %s: %w", o.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				added++
			}
		}
		return tx.audit(ctx, actor, "stix.materialise", "item", fmt.Sprint(itemID), audit.OK,
			fmt.Sprintf("%s objects=%d new=%d", what, len(objects), added))
	})
	return added, err
}

// STIXCursor is where a page of objects ends (keyset paging on date added).
type STIXCursor struct {
	DateAdded time.Time `json:"a"`
	ID        string    `json:"i"`
	Modified  string    `json:"m"`
	ItemID    int64     `json:"t"`
}

// STIXFilter selects stored objects; empty fields do not filter. The
// fields follow TAXII 2.1's filters (§3.4.1), which a TAXII server passes on.
type STIXFilter struct {
	Types        []string
	IDs          []string
	SpecVersions []string
	// Versions: "last" (the default), "first", "all", or version keys.
	Versions   []string
	AddedAfter *time.Time
	ItemID     int64    // only the objects of one item (one imported bundle)
	Sectors    []string // only items concerning one of these sectors (a TAXII collection per sector)
	// Holding: only objects of cases ("case"), of imported bundles
	// ("import"), of either ("report") or of advisories ("advisory"); "" any.
	Holding string
	After   *STIXCursor
	Limit   int // 1 to 1000; 100 by default
}

// STIXPage is one page of objects, oldest added first.
type STIXPage struct {
	Objects []STIXObject
	More    bool
	Next    *STIXCursor // where the next page starts, when More
}

// STIXObjects lists the stored objects v may see, filtered in the query by
// policy.Where on their items. An object v sees in several items is listed
// once, from the item with the narrowest range (then the earliest), so it
// never travels under a wider label than one it was given.
func (db *DB) STIXObjects(ctx context.Context, v policy.Viewer, f STIXFilter) (*STIXPage, error) {
	// scope is what an object must satisfy to be listed at all — v may see
	// its item, and the filters — written for the aliases of a stored
	// object and its item. The copies and versions an object is ranked
	// against must be in scope too, so it is used again in the subqueries.
	// PostgreSQL turns an EXISTS into a join it may start from (the few
	// imported bundles, then every object of theirs, sorted), misled by
	// the rule's estimate; OFFSET 0 keeps each a check on the object at
	// hand, so a page walks the index of date added from its cursor and
	// stops when full. SQLite plans it so on its own (and needs LIMIT
	// before OFFSET).
	fence := ""
	if db.Dialect == Postgres {
		fence = " OFFSET 0"
	}
	scope := func(o, i string) (string, []any, error) {
		where, args := policy.Where(v, i)
		conds := []string{where}
		in := func(col string, vals []string) {
			if len(vals) == 0 {
				return
			}
			for _, s := range vals {
				args = append(args, s)
			}
			conds = append(conds, col+" IN (?"+strings.Repeat(", ?", len(vals)-1)+")")
		}
		in(o+".type", f.Types)
		in(o+".stix_id", f.IDs)
		in(o+".spec_version", f.SpecVersions)
		if f.ItemID != 0 {
			conds = append(conds, o+".item_id = ?")
			args = append(args, f.ItemID)
		}
		if len(f.Sectors) > 0 {
			for _, sec := range f.Sectors {
				args = append(args, sec)
			}
			conds = append(conds, "EXISTS (SELECT 1 FROM item_sectors sx WHERE sx.item_id = "+o+".item_id AND sx.sector_code IN (?"+
				strings.Repeat(", ?", len(f.Sectors)-1)+")"+fence+")")
		}
		switch f.Holding {
		case "":
		case HoldingCase:
			conds = append(conds, "EXISTS (SELECT 1 FROM cases cx WHERE cx.item_id = "+o+".item_id"+fence+")")
		case HoldingImport:
			conds = append(conds, "EXISTS (SELECT 1 FROM stix_imports ix WHERE ix.item_id = "+o+".item_id"+fence+")")
		case HoldingReport:
			conds = append(conds, i+".kind = 'report'")
		case HoldingAdvisory:
			conds = append(conds, i+".kind = 'advisory'")
		default:
			return "", nil, fmt.Errorf("list stix objects: unknown holding %q", f.Holding)
		}
		return strings.Join(conds, " AND "), args, nil
	}
	where, args, err := scope("o", "i")
	if err != nil {
		return nil, err
	}
	conds := []string{where}
	// rival is an object in scope standing in relation to o: another copy
	// or another version. Ranking by these probes (the primary key leads
	// with stix_id, modified) rather than by window functions over every
	// object in scope keeps a page's cost to the page: a walk through a
	// collection of 100,000 objects was quadratic.
	rival := func(n int, rel string) (string, error) {
		o2, i2 := fmt.Sprintf("o%d", n), fmt.Sprintf("i%d", n)
		sc, sargs, err := scope(o2, i2)
		if err != nil {
			return "", err
		}
		args = append(args, sargs...)
		return "NOT EXISTS (SELECT 1 FROM stix_objects " + o2 + " JOIN items " + i2 + " ON " + i2 + ".id = " + o2 + ".item_id WHERE " + o2 +
			".stix_id = o.stix_id AND " + strings.ReplaceAll(strings.ReplaceAll(rel, "$o", o2), "$i", i2) + " AND " + sc + fence + ")", nil
	}
	// One copy of each version: an object in several items v may see is
	// listed from the one with the narrowest range, then the earliest.
	const rank = "(CASE %s.tlp WHEN 'red' THEN 0 WHEN 'amber' THEN 1 WHEN 'green' THEN 2 ELSE 3 END)"
	ri, r2 := fmt.Sprintf(rank, "i"), fmt.Sprintf(rank, "$i")
	copyCond, err := rival(2, "$o.modified = o.modified AND $o.item_id <> o.item_id AND ("+r2+" < "+ri+" OR ("+r2+" = "+ri+
		" AND ($o.date_added < o.date_added OR ($o.date_added = o.date_added AND $o.item_id < o.item_id))))")
	if err != nil {
		return nil, err
	}
	conds = append(conds, copyCond)
	// Versions (TAXII's match[version]): the newest v may see by default,
	// whatever was added when. Arguments are appended as the text is built.
	versions := f.Versions
	if len(versions) == 0 {
		versions = []string{"last"}
	}
	if !slices.Contains(versions, "all") {
		var alts []string
		for n, ver := range versions {
			var alt string
			switch ver {
			case "last":
				alt, err = rival(3+n, "$o.modified > o.modified")
			case "first":
				alt, err = rival(3+n, "$o.modified < o.modified")
			default:
				alt = "o.modified = ?"
				args = append(args, ver)
			}
			if err != nil {
				return nil, err
			}
			alts = append(alts, alt)
		}
		conds = append(conds, "("+strings.Join(alts, " OR ")+")")
	}
	if f.AddedAfter != nil {
		conds = append(conds, "o.date_added > ?")
		args = append(args, f.AddedAfter.UTC())
	}
	if c := f.After; c != nil {
		// A row value, which both databases seek to in the index of date
		// added; spelt out with OR, the walk read every earlier object again.
		conds = append(conds, "(o.date_added, o.stix_id, o.modified, o.item_id) > (?, ?, ?, ?)")
		args = append(args, c.DateAdded.UTC(), c.ID, c.Modified, c.ItemID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := `SELECT o.item_id, o.stix_id, o.type, o.spec_version, o.created, o.modified, o.json, o.date_added, i.tlp
		FROM stix_objects o JOIN items i ON i.id = o.item_id
		WHERE ` + strings.Join(conds, " AND ") + `
		ORDER BY o.date_added, o.stix_id, o.modified, o.item_id LIMIT ?`
	rows, err := db.query(ctx, q, append(args, limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("list stix objects: %w", err)
	}
	defer rows.Close()
	page := &STIXPage{}
	for rows.Next() {
		var o STIXObject
		var js, tlp string
		if err := rows.Scan(&o.ItemID, &o.ID, &o.Type, &o.SpecVersion, &o.Created, &o.Modified, &js, &o.DateAdded, &tlp); err != nil {
			return nil, err
		}
		o.JSON, o.TLP, o.DateAdded = json.RawMessage(js), policy.TLP(tlp), o.DateAdded.UTC()
		page.Objects = append(page.Objects, o)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(page.Objects) > limit {
		page.Objects, page.More = page.Objects[:limit], true
		last := page.Objects[limit-1]
		page.Next = &STIXCursor{DateAdded: last.DateAdded, ID: last.ID, Modified: last.Modified, ItemID: last.ItemID}
	}
	return page, nil
}

// STIXNamespace is this database's own seed for the ids of exported
// objects, made on first use: two installations never give one id to two
// different cases, and one installation always gives a case the same id.
func (db *DB) STIXNamespace(ctx context.Context) (string, error) {
	var value string
	err := db.queryRow(ctx, `SELECT value FROM secrets WHERE name = ?`, stixNamespaceName).Scan(&value)
	if err == nil {
		return value, nil
	}
	if err = db.mapErr(err); !errors.Is(err, kyoyu.ErrNotFound) {
		return "", fmt.Errorf("read stix namespace: %w", err)
	}
	return db.createSecret(ctx, stixNamespaceName)
}

const stixNamespaceName = "stix_namespace"

// STIXImportRecord is the record of one imported bundle.
type STIXImportRecord struct {
	ItemID    int64
	BundleID  string
	PersonID  int64
	Source    string
	Account   json.RawMessage
	CreatedAt time.Time
	TLP       policy.TLP
}

// STIXImport returns the record of an imported bundle if v may see its
// item; otherwise ErrNotFound, exactly like one that does not exist.
func (db *DB) STIXImport(ctx context.Context, v policy.Viewer, itemID int64) (*STIXImportRecord, error) {
	where, args := policy.Where(v, "i")
	r := &STIXImportRecord{}
	var account, tlp string
	err := db.queryRow(ctx, `SELECT s.item_id, s.bundle_id, COALESCE(s.person_id, 0), s.source, s.account, s.created_at, i.tlp
		FROM stix_imports s JOIN items i ON i.id = s.item_id WHERE s.item_id = ? AND `+where, append([]any{itemID}, args...)...).
		Scan(&r.ItemID, &r.BundleID, &r.PersonID, &r.Source, &account, &r.CreatedAt, &tlp)
	if err != nil {
		return nil, fmt.Errorf("stix import %d: %w", itemID, db.mapErr(err))
	}
	r.Account, r.TLP, r.CreatedAt = json.RawMessage(account), policy.TLP(tlp), r.CreatedAt.UTC()
	return r, nil
}
