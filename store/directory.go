package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"kyoyu"
	"kyoyu/audit"
)

// AppliedRevisions returns the codes of the directory revisions applied.
func (db *DB) AppliedRevisions(ctx context.Context) (map[string]bool, error) {
	rows, err := db.query(ctx, `SELECT code FROM directory_revisions`)
	if err != nil {
		return nil, fmt.Errorf("list directory revisions: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out[c] = true
	}
	return out, rows.Err()
}

// ApplyRevision loads one revision of the framework's directory in one
// transaction: its sectors and services, organisations (new ones, or
// sectors added to existing ones) and CEPTOARs. Applying a revision twice
// is a no-op; applying one before what it requires is refused.
func (db *DB) ApplyRevision(ctx context.Context, actor kyoyu.Actor, rev kyoyu.RevisionData) (applied bool, err error) {
	err = db.Update(ctx, func(tx *Tx) error {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM directory_revisions WHERE code = ?`, rev.Code).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if rev.Requires != "" {
			if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM directory_revisions WHERE code = ?`, rev.Requires).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return kyoyu.Errorf(kyoyu.EINVALID, "revision %s requires %s, which is not applied", rev.Code, rev.Requires)
			}
		}
		if err := tx.applyRevision(ctx, rev); err != nil {
			return fmt.Errorf("apply directory revision %s: %w", rev.Code, err)
		}
		applied = true
		return tx.audit(ctx, actor, "directory.apply_revision", "directory_revision", rev.Code, audit.OK, rev.TitleJA)
	})
	return applied, err
}

func (tx *Tx) applyRevision(ctx context.Context, rev kyoyu.RevisionData) error {
	if _, err := tx.exec(ctx, `INSERT INTO directory_revisions (code, title_ja, title_en, applied_at) VALUES (?, ?, ?, ?)`,
		rev.Code, rev.TitleJA, rev.TitleEN, tx.now); err != nil {
		return err
	}
	var pos int
	if err := tx.queryRow(ctx, `SELECT COALESCE(MAX(position), 0) FROM sectors`).Scan(&pos); err != nil {
		return err
	}
	for _, s := range rev.Sectors {
		pos++
		if _, err := tx.exec(ctx, `INSERT INTO sectors (code, name_ja, name_en, ministry_code, revision, position) VALUES (?, ?, ?, ?, ?, ?)`,
			s.Code, s.NameJA, s.NameEN, s.MinistryCode, rev.Code, pos); err != nil {
			return fmt.Errorf("sector %s: %w", s.Code, err)
		}
		for i, sv := range s.Services {
			th, _ := json.Marshal(sv.Threshold)
			if sv.Threshold == nil {
				th = []byte("{}")
			}
			if _, err := tx.exec(ctx, `INSERT INTO sector_services (sector_code, code, name_ja, name_en, law_ja, service_level_ja, service_level_en, threshold, position)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				s.Code, sv.Code, sv.NameJA, sv.NameEN, sv.LawJA, sv.ServiceLevelJA, sv.ServiceLevelEN, string(th), i+1); err != nil {
				return fmt.Errorf("service %s/%s: %w", s.Code, sv.Code, err)
			}
		}
	}
	for _, o := range rev.Organisations {
		var id int64
		err := tx.queryRow(ctx, `SELECT id FROM organisations WHERE code = ?`, o.Code).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			org := &kyoyu.Organisation{Code: o.Code, NameJA: o.NameJA, NameEN: o.NameEN, Kinds: o.Kinds, Sectors: append(o.Sectors, o.AddSectors...)}
			if err := tx.createOrganisation(ctx, org); err != nil {
				return fmt.Errorf("organisation %s: %w", o.Code, err)
			}
		case err != nil:
			return err
		default:
			for _, k := range o.Kinds {
				if _, err := tx.exec(ctx, `INSERT INTO organisation_kinds (organisation_id, kind) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, string(k)); err != nil {
					return err
				}
			}
			for _, s := range append(o.Sectors, o.AddSectors...) {
				if _, err := tx.exec(ctx, `INSERT INTO organisation_sectors (organisation_id, sector_code) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, s); err != nil {
					return fmt.Errorf("organisation %s, sector %s: %w", o.Code, s, err)
				}
			}
		}
	}
	if err := tx.queryRow(ctx, `SELECT COALESCE(MAX(position), 0) FROM ceptoars`).Scan(&pos); err != nil {
		return err
	}
	for _, c := range rev.CEPTOARs {
		pos++
		var orgID int64
		if err := tx.queryRow(ctx, `SELECT id FROM organisations WHERE code = ?`, c.SecretariatCode).Scan(&orgID); err != nil {
			return fmt.Errorf("CEPTOAR %s: secretariat %q: %w", c.Code, c.SecretariatCode, err)
		}
		if _, err := tx.exec(ctx, `INSERT INTO ceptoars (code, name_ja, name_en, organisation_id, secretariat_ja, secretariat_en, member_count, members_note_ja, channels, fiscal_year, position)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Code, c.NameJA, c.NameEN, orgID, c.SecretariatJA, c.SecretariatEN, c.MemberCount, c.MembersNoteJA,
			strings.Join(c.Channels, ","), c.FiscalYear, pos); err != nil {
			return fmt.Errorf("CEPTOAR %s: %w", c.Code, err)
		}
		for _, s := range c.Sectors {
			if _, err := tx.exec(ctx, `INSERT INTO ceptoar_sectors (ceptoar_code, sector_code) VALUES (?, ?)`, c.Code, s); err != nil {
				return fmt.Errorf("CEPTOAR %s, sector %s: %w", c.Code, s, err)
			}
		}
	}
	return nil
}

// ApplyClassifications stores one version of the report form's
// classifications unless that version is already there.
func (db *DB) ApplyClassifications(ctx context.Context, cs []kyoyu.Classification) error {
	if len(cs) == 0 {
		return nil
	}
	return db.Update(ctx, func(tx *Tx) error {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM classifications WHERE version = ?`, cs[0].Version).Scan(&n); err != nil || n > 0 {
			return err
		}
		for i, c := range cs {
			data, _ := json.Marshal(c.Data)
			if c.Data == nil {
				data = []byte("{}")
			}
			if _, err := tx.exec(ctx, `INSERT INTO classifications (version, kind, code, group_code, name_ja, name_en, data, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				c.Version, c.Kind, c.Code, c.Group, c.NameJA, c.NameEN, string(data), i+1); err != nil {
				return fmt.Errorf("classification %s/%s/%s: %w", c.Version, c.Kind, c.Code, err)
			}
		}
		return nil
	})
}

// Classifications returns one version's values of every kind, in form
// order. A version found is kept in memory: its values never change.
func (db *DB) Classifications(ctx context.Context, version string) ([]kyoyu.Classification, error) {
	if cs, ok := db.classes.Load(version); ok {
		return slices.Clone(cs.([]kyoyu.Classification)), nil
	}
	cs, err := db.classifications(ctx, version)
	if err == nil && len(cs) > 0 {
		db.classes.Store(version, slices.Clone(cs))
	}
	return cs, err
}

func (db *DB) classifications(ctx context.Context, version string) ([]kyoyu.Classification, error) {
	rows, err := db.query(ctx, `SELECT version, kind, code, group_code, name_ja, name_en, data FROM classifications WHERE version = ? ORDER BY position`, version)
	if err != nil {
		return nil, fmt.Errorf("list classifications: %w", err)
	}
	defer rows.Close()
	var out []kyoyu.Classification
	for rows.Next() {
		var c kyoyu.Classification
		var data string
		if err := rows.Scan(&c.Version, &c.Kind, &c.Code, &c.Group, &c.NameJA, &c.NameEN, &data); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(data), &c.Data)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Sectors lists the sectors with their services, in directory order.
func (db *DB) Sectors(ctx context.Context) ([]kyoyu.Sector, error) {
	rows, err := db.query(ctx, `SELECT code, name_ja, name_en, ministry_code, revision FROM sectors ORDER BY position`)
	if err != nil {
		return nil, fmt.Errorf("list sectors: %w", err)
	}
	var out []kyoyu.Sector
	idx := map[string]int{}
	for rows.Next() {
		var s kyoyu.Sector
		if err := rows.Scan(&s.Code, &s.NameJA, &s.NameEN, &s.MinistryCode, &s.Revision); err != nil {
			rows.Close()
			return nil, err
		}
		idx[s.Code] = len(out)
		out = append(out, s)
	}
	rows.Close()
	rows, err = db.query(ctx, `SELECT sector_code, code, name_ja, name_en, law_ja, service_level_ja, service_level_en, threshold FROM sector_services ORDER BY sector_code, position`)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sv kyoyu.Service
		var th string
		if err := rows.Scan(&sv.SectorCode, &sv.Code, &sv.NameJA, &sv.NameEN, &sv.LawJA, &sv.ServiceLevelJA, &sv.ServiceLevelEN, &th); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(th), &sv.Threshold)
		if i, ok := idx[sv.SectorCode]; ok {
			out[i].Services = append(out[i].Services, sv)
		}
	}
	return out, rows.Err()
}

// CEPTOARs lists the CEPTOARs in directory order.
func (db *DB) CEPTOARs(ctx context.Context) ([]kyoyu.CEPTOAR, error) {
	rows, err := db.query(ctx, `SELECT code, name_ja, name_en, organisation_id, secretariat_ja, secretariat_en, member_count, members_note_ja, channels, fiscal_year FROM ceptoars ORDER BY position`)
	if err != nil {
		return nil, fmt.Errorf("list CEPTOARs: %w", err)
	}
	var out []kyoyu.CEPTOAR
	for rows.Next() {
		var c kyoyu.CEPTOAR
		var mc sql.NullInt64
		var channels string
		if err := rows.Scan(&c.Code, &c.NameJA, &c.NameEN, &c.OrganisationID, &c.SecretariatJA, &c.SecretariatEN, &mc, &c.MembersNoteJA, &channels, &c.FiscalYear); err != nil {
			rows.Close()
			return nil, err
		}
		if mc.Valid {
			n := int(mc.Int64)
			c.MemberCount = &n
		}
		if channels != "" {
			c.Channels = strings.Split(channels, ",")
		}
		out = append(out, c)
	}
	rows.Close()
	sectors, err := db.pairs(ctx, `SELECT ceptoar_code, sector_code FROM ceptoar_sectors`)
	if err != nil {
		return nil, fmt.Errorf("list CEPTOAR sectors: %w", err)
	}
	for i := range out {
		out[i].Sectors = sectors[out[i].Code]
	}
	return out, nil
}

func (db *DB) pairs(ctx context.Context, q string, args ...any) (map[string][]string, error) {
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = append(out[k], v)
	}
	return out, rows.Err()
}

// CreateOrganisation adds an organisation with its kinds, sectors and
// CEPTOAR memberships.
func (db *DB) CreateOrganisation(ctx context.Context, actor kyoyu.Actor, o *kyoyu.Organisation) error {
	return db.Update(ctx, func(tx *Tx) error {
		if err := tx.createOrganisation(ctx, o); err != nil {
			return fmt.Errorf("create organisation %s: %w", o.NameJA, err)
		}
		return tx.audit(ctx, actor, "organisation.create", "organisation", fmt.Sprint(o.ID), audit.OK, o.NameJA)
	})
}

func (tx *Tx) createOrganisation(ctx context.Context, o *kyoyu.Organisation) error {
	if strings.TrimSpace(o.NameJA) == "" {
		return &kyoyu.Error{Code: kyoyu.EINVALID, Message: "organisation name is required", Fields: map[string]string{"name_ja": "required"}}
	}
	var code any
	if o.Code != "" {
		code = o.Code
	}
	id, err := tx.insert(ctx, `INSERT INTO organisations (code, name_ja, name_en, created_at) VALUES (?, ?, ?, ?)`, code, o.NameJA, o.NameEN, tx.now)
	if err != nil {
		return err
	}
	o.ID = id
	for _, k := range o.Kinds {
		if !k.Valid() {
			return kyoyu.Errorf(kyoyu.EINVALID, "unknown organisation kind %q", k)
		}
		if _, err := tx.exec(ctx, `INSERT INTO organisation_kinds (organisation_id, kind) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, string(k)); err != nil {
			return err
		}
	}
	for _, s := range o.Sectors {
		if _, err := tx.exec(ctx, `INSERT INTO organisation_sectors (organisation_id, sector_code) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, s); err != nil {
			return fmt.Errorf("sector %q: %w", s, err)
		}
	}
	for _, c := range o.CEPTOARs {
		if _, err := tx.exec(ctx, `INSERT INTO ceptoar_members (ceptoar_code, organisation_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, c, id); err != nil {
			return fmt.Errorf("CEPTOAR %q: %w", c, err)
		}
	}
	return nil
}

// OrganisationFilter selects organisations.
type OrganisationFilter struct {
	Kind   kyoyu.OrgKind
	Sector string
	IDs    []int64
}

// Organisations lists organisations with their kinds, sectors and CEPTOARs.
func (db *DB) Organisations(ctx context.Context, f OrganisationFilter) ([]*kyoyu.Organisation, error) {
	q := `SELECT id, COALESCE(code, ''), name_ja, name_en FROM organisations o WHERE 1=1`
	var args []any
	if f.Kind != "" {
		q += ` AND EXISTS (SELECT 1 FROM organisation_kinds k WHERE k.organisation_id = o.id AND k.kind = ?)`
		args = append(args, string(f.Kind))
	}
	if f.Sector != "" {
		q += ` AND EXISTS (SELECT 1 FROM organisation_sectors s WHERE s.organisation_id = o.id AND s.sector_code = ?)`
		args = append(args, f.Sector)
	}
	if len(f.IDs) > 0 {
		q += ` AND id IN (` + strings.TrimSuffix(strings.Repeat("?,", len(f.IDs)), ",") + `)`
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	q += ` ORDER BY id`
	rows, err := db.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	var out []*kyoyu.Organisation
	byID := map[string]*kyoyu.Organisation{}
	for rows.Next() {
		o := &kyoyu.Organisation{}
		if err := rows.Scan(&o.ID, &o.Code, &o.NameJA, &o.NameEN); err != nil {
			rows.Close()
			return nil, err
		}
		o.Kinds, o.Sectors, o.CEPTOARs = []kyoyu.OrgKind{}, []string{}, []string{}
		out = append(out, o)
		byID[fmt.Sprint(o.ID)] = o
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	// One query per relation: for a few organisations by id, or for all.
	where, wargs := "", []any(nil)
	if len(f.IDs) > 0 {
		where = ` WHERE organisation_id IN (` + strings.TrimSuffix(strings.Repeat("?,", len(f.IDs)), ",") + `)`
		for _, id := range f.IDs {
			wargs = append(wargs, id)
		}
	}
	kinds, err := db.pairs(ctx, `SELECT CAST(organisation_id AS TEXT), kind FROM organisation_kinds`+where, wargs...)
	if err != nil {
		return nil, fmt.Errorf("list organisation kinds: %w", err)
	}
	sectors, err := db.pairs(ctx, `SELECT CAST(organisation_id AS TEXT), sector_code FROM organisation_sectors`+where, wargs...)
	if err != nil {
		return nil, fmt.Errorf("list organisation sectors: %w", err)
	}
	ceptoars, err := db.pairs(ctx, `SELECT CAST(organisation_id AS TEXT), ceptoar_code FROM ceptoar_members`+where, wargs...)
	if err != nil {
		return nil, fmt.Errorf("list CEPTOAR members: %w", err)
	}
	for id, o := range byID {
		for _, k := range kinds[id] {
			o.Kinds = append(o.Kinds, kyoyu.OrgKind(k))
		}
		o.Sectors = append(o.Sectors, sectors[id]...)
		o.CEPTOARs = append(o.CEPTOARs, ceptoars[id]...)
		sort.Slice(o.Kinds, func(i, j int) bool { return o.Kinds[i] < o.Kinds[j] })
		sort.Strings(o.Sectors)
		sort.Strings(o.CEPTOARs)
	}
	return out, nil
}

// CEPTOARMembers lists the operators that belong to any of the given
// CEPTOARs, by id.
func (db *DB) CEPTOARMembers(ctx context.Context, codes []string) ([]int64, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	args := make([]any, len(codes))
	for i, c := range codes {
		args[i] = c
	}
	rows, err := db.query(ctx, `SELECT DISTINCT m.organisation_id FROM ceptoar_members m
		JOIN organisation_kinds k ON k.organisation_id = m.organisation_id AND k.kind = 'operator'
		WHERE m.ceptoar_code IN (`+strings.TrimSuffix(strings.Repeat("?,", len(codes)), ",")+`) ORDER BY m.organisation_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("CEPTOAR members: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Organisation returns one organisation, or ErrNotFound.
func (db *DB) Organisation(ctx context.Context, id int64) (*kyoyu.Organisation, error) {
	os, err := db.Organisations(ctx, OrganisationFilter{IDs: []int64{id}})
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, fmt.Errorf("organisation %d: %w", id, kyoyu.ErrNotFound)
	}
	return os[0], nil
}

// OrganisationByCode returns a directory organisation by its code.
func (db *DB) OrganisationByCode(ctx context.Context, code string) (*kyoyu.Organisation, error) {
	var id int64
	if err := db.queryRow(ctx, `SELECT id FROM organisations WHERE code = ?`, code).Scan(&id); err != nil {
		return nil, fmt.Errorf("organisation %q: %w", code, db.mapErr(err))
	}
	return db.Organisation(ctx, id)
}

// CountOrganisations returns how many organisations there are.
func (db *DB) CountOrganisations(ctx context.Context) (int, error) {
	var n int
	err := db.queryRow(ctx, `SELECT COUNT(*) FROM organisations`).Scan(&n)
	return n, err
}
