// Package directory holds the framework's reference data — sectors and
// their services with service-maintenance levels, ministries, NISC, the
// other parties, the CEPTOARs, and the report form's classifications — as
// embedded data files, each a revision applied once and recorded.
package directory

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"kyoyu"
	"kyoyu/store"
)

//go:embed data/*.json
var data embed.FS

// Base is the revision loaded on first start; later revisions (such as the
// 2024 ports sector) are applied by an operator with `kyoyu directory apply`.
const Base = "2017-action-plan-4"

// Revisions returns every revision in the binary, in file order.
func Revisions() ([]kyoyu.RevisionData, error) {
	files, err := fs.Glob(data, "data/rev*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []kyoyu.RevisionData
	for _, f := range files {
		b, err := data.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var r kyoyu.RevisionData
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("directory file %s: %w", f, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Revision returns one revision by code.
func Revision(code string) (kyoyu.RevisionData, error) {
	revs, err := Revisions()
	if err != nil {
		return kyoyu.RevisionData{}, err
	}
	var codes []string
	for _, r := range revs {
		if r.Code == code {
			return r, nil
		}
		codes = append(codes, r.Code)
	}
	return kyoyu.RevisionData{}, kyoyu.Errorf(kyoyu.ENOTFOUND, "no directory revision %q (have: %s)", code, strings.Join(codes, ", "))
}

// classificationFile is the shape of data/classifications-*.json.
type classificationFile struct {
	Version     string            `json:"version"`
	Importance  []json.RawMessage `json:"importance"`
	EventClass  []json.RawMessage `json:"event_class"`
	CauseGroups []struct {
		Code   string            `json:"code"`
		NameJA string            `json:"name_ja"`
		NameEN string            `json:"name_en"`
		Causes []json.RawMessage `json:"causes"`
	} `json:"cause_groups"`
	SystemStatus []json.RawMessage `json:"system_status"`
	Outlook      []json.RawMessage `json:"outlook"`
	Press        []json.RawMessage `json:"press"`
	TLP          []json.RawMessage `json:"tlp"`
}

// Classifications returns every classification version in the binary,
// flattened to rows.
func Classifications() ([][]kyoyu.Classification, error) {
	files, err := fs.Glob(data, "data/classifications-*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out [][]kyoyu.Classification
	for _, f := range files {
		b, err := data.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var cf classificationFile
		if err := json.Unmarshal(b, &cf); err != nil {
			return nil, fmt.Errorf("directory file %s: %w", f, err)
		}
		var rows []kyoyu.Classification
		add := func(kind, group string, raws []json.RawMessage) error {
			for _, raw := range raws {
				c, err := row(cf.Version, kind, group, raw)
				if err != nil {
					return fmt.Errorf("directory file %s, %s: %w", f, kind, err)
				}
				rows = append(rows, c)
			}
			return nil
		}
		for _, part := range []struct {
			kind string
			raws []json.RawMessage
		}{{"importance", cf.Importance}, {"event_class", cf.EventClass}} {
			if err := add(part.kind, "", part.raws); err != nil {
				return nil, err
			}
		}
		for _, g := range cf.CauseGroups {
			rows = append(rows, kyoyu.Classification{Version: cf.Version, Kind: "cause_group", Code: g.Code, NameJA: g.NameJA, NameEN: g.NameEN})
			if err := add("cause", g.Code, g.Causes); err != nil {
				return nil, err
			}
		}
		for _, part := range []struct {
			kind string
			raws []json.RawMessage
		}{{"system_status", cf.SystemStatus}, {"outlook", cf.Outlook}, {"press", cf.Press}, {"tlp", cf.TLP}} {
			if err := add(part.kind, "", part.raws); err != nil {
				return nil, err
			}
		}
		out = append(out, rows)
	}
	return out, nil
}

// row reads one classification value: code and names become columns, any
// other key (descriptions, follow_up_expected …) is kept in Data.
func row(version, kind, group string, raw json.RawMessage) (kyoyu.Classification, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return kyoyu.Classification{}, err
	}
	c := kyoyu.Classification{Version: version, Kind: kind, Group: group, Data: map[string]any{}}
	c.Code, _ = m["code"].(string)
	c.NameJA, _ = m["name_ja"].(string)
	c.NameEN, _ = m["name_en"].(string)
	if c.Code == "" || c.NameJA == "" {
		return c, fmt.Errorf("an entry without code or name_ja: %s", raw)
	}
	for k, v := range m {
		if k != "code" && k != "name_ja" && k != "name_en" {
			c.Data[k] = v
		}
	}
	return c, nil
}

// LoadBase applies the base revision and every classification version if
// they are not yet in the database. It runs at every start and is cheap
// once done.
func LoadBase(ctx context.Context, db *store.DB) error {
	applied, err := db.AppliedRevisions(ctx)
	if err != nil {
		return err
	}
	if !applied[Base] {
		rev, err := Revision(Base)
		if err != nil {
			return err
		}
		if _, err := db.ApplyRevision(ctx, kyoyu.Actor{}, rev); err != nil {
			return err
		}
	}
	versions, err := Classifications()
	if err != nil {
		return err
	}
	for _, cs := range versions {
		if err := db.ApplyClassifications(ctx, cs); err != nil {
			return err
		}
	}
	return nil
}

// Apply applies one named revision; it says so if it was already applied.
func Apply(ctx context.Context, db *store.DB, actor kyoyu.Actor, code string) (bool, error) {
	rev, err := Revision(code)
	if err != nil {
		return false, err
	}
	return db.ApplyRevision(ctx, actor, rev)
}
