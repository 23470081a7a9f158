package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"kyoyu"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

// Every embedded file is valid JSON that the loader reads, and every code
// one entry uses to name another (sector, ministry, secretariat, required
// revision) names something the same or an earlier revision defines.
func TestDataFilesResolve(t *testing.T) {
	t.Parallel()
	files, err := fs.Glob(data, "data/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded files: %v, %v", files, err)
	}
	for _, f := range files {
		b, _ := data.ReadFile(f)
		if !json.Valid(b) {
			t.Errorf("%s is not valid JSON", f)
		}
		name := strings.TrimPrefix(f, "data/")
		if !strings.HasPrefix(name, "rev") && !strings.HasPrefix(name, "classifications-") {
			t.Errorf("%s is neither a revision nor a classification file: the loader ignores it", f)
		}
	}

	revs, err := Revisions()
	if err != nil {
		t.Fatalf("Revisions: %v", err)
	}
	if len(revs) < 2 || revs[0].Code != Base {
		t.Fatalf("revisions %v, want the base %s first", revs, Base)
	}
	seenRev := map[string]bool{}
	sectors := map[string]string{}           // code → ministry
	orgs := map[string]*kyoyu.Organisation{} // code → kinds and sectors so far
	ceptoars := map[string]bool{}
	for _, r := range revs {
		where := "revision " + r.Code
		if r.Code == "" || r.TitleJA == "" || r.TitleEN == "" {
			t.Errorf("%s: code or titles missing", where)
		}
		if seenRev[r.Code] {
			t.Errorf("%s: defined twice", where)
		}
		if r.Requires != "" && !seenRev[r.Requires] {
			t.Errorf("%s requires %q, which no earlier revision defines", where, r.Requires)
		}
		if r.Code != Base && r.Requires == "" {
			t.Errorf("%s requires nothing: it could be applied before the base", where)
		}
		seenRev[r.Code] = true
		for _, s := range r.Sectors {
			if _, dup := sectors[s.Code]; dup || s.Code == "" {
				t.Errorf("%s: sector %q empty or defined twice", where, s.Code)
			}
			sectors[s.Code] = s.MinistryCode
			if s.NameJA == "" || s.NameEN == "" || len(s.Services) == 0 {
				t.Errorf("%s: sector %s lacks names or services", where, s.Code)
			}
			svc := map[string]bool{}
			for _, sv := range s.Services {
				if sv.Code == "" || svc[sv.Code] || sv.NameJA == "" || sv.ServiceLevelJA == "" || len(sv.Threshold) == 0 {
					t.Errorf("%s: service %s/%q: empty or repeated code, name, level or threshold", where, s.Code, sv.Code)
				}
				svc[sv.Code] = true
			}
		}
		for _, o := range r.Organisations {
			known, exists := orgs[o.Code]
			switch {
			case o.Code == "":
				t.Errorf("%s: an organisation without code", where)
				continue
			case exists && o.NameJA != "":
				t.Errorf("%s: organisation %s defined twice", where, o.Code)
			case !exists && o.NameJA == "":
				t.Errorf("%s: changes organisation %s, which no earlier revision defines", where, o.Code)
				continue
			case !exists:
				known = &kyoyu.Organisation{Code: o.Code, NameJA: o.NameJA}
				orgs[o.Code] = known
				if len(o.Kinds) == 0 {
					t.Errorf("%s: organisation %s has no kind", where, o.Code)
				}
			}
			for _, k := range o.Kinds {
				if !k.Valid() {
					t.Errorf("%s: organisation %s: unknown kind %q", where, o.Code, k)
				}
				known.Kinds = append(known.Kinds, k)
			}
			for _, s := range append(slices.Clone(o.Sectors), o.AddSectors...) {
				if _, ok := sectors[s]; !ok {
					t.Errorf("%s: organisation %s names unknown sector %q", where, o.Code, s)
				}
				known.Sectors = append(known.Sectors, s)
			}
		}
		for _, c := range r.CEPTOARs {
			if c.Code == "" || ceptoars[c.Code] || c.NameJA == "" {
				t.Errorf("%s: CEPTOAR %q: empty or repeated code, or no name", where, c.Code)
			}
			ceptoars[c.Code] = true
			sec, ok := orgs[c.SecretariatCode]
			if !ok {
				t.Errorf("%s: CEPTOAR %s: secretariat %q is no organisation", where, c.Code, c.SecretariatCode)
			} else if !sec.Has(kyoyu.KindCEPTOAR) {
				t.Errorf("%s: CEPTOAR %s: secretariat %s is not of kind ceptoar", where, c.Code, c.SecretariatCode)
			}
			if len(c.Sectors) == 0 {
				t.Errorf("%s: CEPTOAR %s has no sector", where, c.Code)
			}
			for _, s := range c.Sectors {
				if _, ok := sectors[s]; !ok {
					t.Errorf("%s: CEPTOAR %s names unknown sector %q", where, c.Code, s)
				}
			}
		}
	}
	// Each sector's competent ministry is a ministry that, once every
	// revision is applied, lists the sector among its own.
	for code, m := range sectors {
		o, ok := orgs[m]
		if !ok {
			t.Errorf("sector %s: ministry %q is no organisation", code, m)
			continue
		}
		if !o.Has(kyoyu.KindMinistry) {
			t.Errorf("sector %s: %s is not of kind ministry", code, m)
		}
		if !slices.Contains(o.Sectors, code) {
			t.Errorf("sector %s: its ministry %s does not list it (has %v)", code, m, o.Sectors)
		}
	}

	versions, err := Classifications()
	if err != nil {
		t.Fatalf("Classifications: %v", err)
	}
	if len(versions) == 0 {
		t.Fatal("no classification version")
	}
	for _, cs := range versions {
		kinds := map[string]int{}
		seen := map[string]bool{}
		for _, c := range cs {
			kinds[c.Kind]++
			key := c.Kind + "/" + c.Code
			if seen[key] || c.Version != cs[0].Version {
				t.Errorf("classification %s %s: repeated or of another version", c.Version, key)
			}
			seen[key] = true
			if c.Kind == "cause" && !seen["cause_group/"+c.Group] {
				t.Errorf("cause %s: unknown group %q", c.Code, c.Group)
			}
		}
		for _, k := range []string{"importance", "event_class", "cause_group", "cause", "system_status", "outlook", "press", "tlp"} {
			if kinds[k] == 0 {
				t.Errorf("classifications %s: no %s", cs[0].Version, k)
			}
		}
	}
}

func TestRevisionUnknown(t *testing.T) {
	t.Parallel()
	_, err := Revision("1999-nothing")
	if kyoyu.ErrorCode(err) != kyoyu.ENOTFOUND || !strings.Contains(err.Error(), "2024-ports") {
		t.Fatalf("Revision(unknown) = %v, want ENOTFOUND listing the revisions there are", err)
	}
}

func orgByCode(t *testing.T, db *store.DB, code string) *kyoyu.Organisation {
	t.Helper()
	o, err := db.OrganisationByCode(context.Background(), code)
	if err != nil {
		t.Fatalf("organisation %s: %v", code, err)
	}
	return o
}

func auditCount(t *testing.T, db *store.DB) int64 {
	t.Helper()
	n, err := db.VerifyAudit(context.Background())
	if err != nil {
		t.Fatalf("verify audit: %v", err)
	}
	return n
}

func TestLoadBase(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := LoadBase(ctx, db); err != nil {
			t.Fatalf("LoadBase: %v", err)
		}

		sectors, err := db.Sectors(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		services := 0
		for _, s := range sectors {
			codes = append(codes, s.Code)
			services += len(s.Services)
			if s.Revision != Base {
				t.Errorf("sector %s from revision %q", s.Code, s.Revision)
			}
		}
		want := "info_comm finance aviation airport railway electricity gas government medical water logistics chemical credit petroleum"
		if strings.Join(codes, " ") != want {
			t.Fatalf("sectors = %v, want the 14 of the 4th action plan in order", codes)
		}
		if services != 37 {
			t.Errorf("%d services, want 37", services)
		}
		elec := sectors[5]
		if elec.NameJA != "電力" || elec.MinistryCode != "meti" || len(elec.Services) != 2 {
			t.Fatalf("electricity = %+v", elec)
		}
		ptd := elec.Services[0]
		if ptd.Code != "power_transmission_distribution" || ptd.Threshold["kw"] != float64(100000) || ptd.Threshold["minutes"] != float64(10) {
			t.Fatalf("electricity's first service = %s %v, want kw 100000 and minutes 10", ptd.Code, ptd.Threshold)
		}
		if !strings.Contains(ptd.ServiceLevelJA, "10万キロワット以上") || !strings.Contains(ptd.ServiceLevelJA, "10分以上") {
			t.Errorf("electricity service level = %q", ptd.ServiceLevelJA)
		}
		tel := sectors[0].Services[0]
		if tel.Code != "telecom" || tel.Threshold["users"] != float64(30000) || tel.Threshold["minutes"] != float64(120) {
			t.Errorf("telecom = %s %v", tel.Code, tel.Threshold)
		}
		if bank := sectors[1].Services[0]; bank.Threshold["any_outage"] != true {
			t.Errorf("finance's %s threshold = %v, want any_outage", bank.Code, bank.Threshold)
		}

		ministries, err := db.Organisations(ctx, store.OrganisationFilter{Kind: kyoyu.KindMinistry})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, m := range ministries {
			got[m.Code] = strings.Join(m.Sectors, ",")
		}
		wantMin := map[string]string{
			"fsa":  "finance",
			"mic":  "government,info_comm",
			"mhlw": "medical,water",
			"meti": "chemical,credit,electricity,gas,petroleum",
			"mlit": "airport,aviation,logistics,railway",
		}
		if fmt.Sprint(got) != fmt.Sprint(wantMin) {
			t.Fatalf("competent ministries = %v, want %v", got, wantMin)
		}

		nisc, err := db.Organisations(ctx, store.OrganisationFilter{Kind: kyoyu.KindNISC})
		if err != nil || len(nisc) != 1 || nisc[0].Code != "nisc" || nisc[0].NameJA != "内閣サイバーセキュリティセンター" {
			t.Fatalf("NISC = %v, %v", nisc, err)
		}
		mic := orgByCode(t, db, "mic")
		if fmt.Sprint(mic.Kinds) != "[ministry security_ministry]" || mic.NameJA != "総務省" {
			t.Fatalf("mic = %+v, want ministry and security_ministry", mic)
		}
		if !mic.Has(kyoyu.KindSecurityMinistry) || mic.Has(kyoyu.KindCEPTOAR) {
			t.Fatalf("mic kinds: %v", mic.Kinds)
		}
		isac := orgByCode(t, db, "telecom_isac")
		if !isac.Has(kyoyu.KindSecurityAgency) || !isac.Has(kyoyu.KindCEPTOAR) {
			t.Fatalf("telecom_isac kinds = %v, want security_agency and ceptoar", isac.Kinds)
		}
		npa := orgByCode(t, db, "npa")
		if fmt.Sprint(npa.Kinds) != "[response_ministry security_ministry]" {
			t.Fatalf("npa kinds = %v", npa.Kinds)
		}
		if n, err := db.CountOrganisations(ctx); err != nil || n != 36 {
			t.Fatalf("%d organisations (%v), want 36", n, err)
		}
		council, err := db.Organisations(ctx, store.OrganisationFilter{Kind: kyoyu.KindCEPTOARCouncil})
		if err != nil || len(council) != 1 || council[0].NameJA != "セプターカウンシル" {
			t.Fatalf("CEPTOAR council = %v, %v", council, err)
		}
		secretariats, _ := db.Organisations(ctx, store.OrganisationFilter{Kind: kyoyu.KindCEPTOAR})
		if len(secretariats) != 18 {
			t.Errorf("%d CEPTOAR secretariats, want 18", len(secretariats))
		}
		inFinance, _ := db.Organisations(ctx, store.OrganisationFilter{Sector: "finance"})
		if len(inFinance) != 5 { // fsa and four secretariats
			t.Errorf("%d organisations in finance, want 5", len(inFinance))
		}

		cs, err := db.CEPTOARs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 19 {
			t.Fatalf("%d CEPTOARs, want the 18 of seed 001 and the finance liaison", len(cs))
		}
		byCode := map[string]kyoyu.CEPTOAR{}
		covered := map[string]bool{}
		for _, c := range cs {
			byCode[c.Code] = c
			if c.Code != "finance_ceptoar_liaison" {
				for _, s := range c.Sectors {
					covered[s] = true
				}
			}
			if c.FiscalYear != 2015 || c.MemberCount == nil {
				t.Errorf("CEPTOAR %s: fiscal year %d, members %v", c.Code, c.FiscalYear, c.MemberCount)
			}
		}
		if cs[0].Code != "t_ceptoar" || cs[18].Code != "finance_ceptoar_liaison" {
			t.Errorf("CEPTOARs not in directory order: first %s, last %s", cs[0].Code, cs[18].Code)
		}
		if len(covered) != 13 || covered["airport"] {
			t.Errorf("CEPTOARs cover %d sectors (%v), want 13 without airport", len(covered), covered)
		}
		zenginkyo := orgByCode(t, db, "zenginkyo")
		bank := byCode["bank_ceptoar"]
		if bank.NameJA != "銀行等CEPTOAR" || *bank.MemberCount != 1446 || bank.OrganisationID != zenginkyo.ID ||
			fmt.Sprint(bank.Sectors) != "[finance]" || !strings.Contains(bank.MembersNoteJA, "1,446社") {
			t.Fatalf("銀行等CEPTOAR = %+v", bank)
		}
		if fmt.Sprint(bank.Channels) != "[email phone fax web]" {
			t.Errorf("銀行等CEPTOAR channels = %v", bank.Channels)
		}
		for code, n := range map[string]int{"lg_ceptoar": 1788, "catv_ceptoar": 332, "electricity_ceptoar": 14, "t_ceptoar": 24, "finance_ceptoar_liaison": 4} {
			if c := byCode[code]; c.MemberCount == nil || *c.MemberCount != n {
				t.Errorf("%s members = %v, want %d", code, c.MemberCount, n)
			}
		}
		if liaison := byCode["finance_ceptoar_liaison"]; liaison.NameJA != "金融CEPTOAR連絡協議会" || liaison.OrganisationID != zenginkyo.ID || len(liaison.Channels) != 0 {
			t.Errorf("finance liaison = %+v", liaison)
		}

		versions, _ := Classifications()
		stored, err := db.Classifications(ctx, versions[0][0].Version)
		if err != nil || len(stored) != len(versions[0]) {
			t.Fatalf("%d classifications stored (%v), want %d", len(stored), err, len(versions[0]))
		}
		applied, _ := db.AppliedRevisions(ctx)
		if !applied[Base] || applied["2024-ports"] {
			t.Fatalf("applied revisions = %v, want only the base", applied)
		}

		// Loading again, as every start does, changes nothing.
		entries := auditCount(t, db)
		if err := LoadBase(ctx, db); err != nil {
			t.Fatalf("second LoadBase: %v", err)
		}
		if n, _ := db.CountOrganisations(ctx); n != 36 {
			t.Fatalf("%d organisations after a second load", n)
		}
		if again, _ := db.Sectors(ctx); len(again) != 14 {
			t.Fatalf("%d sectors after a second load", len(again))
		}
		if again, _ := db.Classifications(ctx, versions[0][0].Version); len(again) != len(stored) {
			t.Fatalf("%d classifications after a second load", len(again))
		}
		if n := auditCount(t, db); n != entries {
			t.Fatalf("a second load wrote %d audit entries", n-entries)
		}
	})
}

func TestApplyPorts(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := LoadBase(ctx, db); err != nil {
			t.Fatal(err)
		}
		nisc := orgByCode(t, db, "nisc")
		actor := kyoyu.Actor{Organisation: nisc, IP: "cli"}
		before := auditCount(t, db)

		done, err := Apply(ctx, db, actor, "2024-ports")
		if err != nil || !done {
			t.Fatalf("Apply(2024-ports) = %v, %v", done, err)
		}
		sectors, _ := db.Sectors(ctx)
		if len(sectors) != 15 {
			t.Fatalf("%d sectors, want 15", len(sectors))
		}
		port := sectors[14]
		if port.Code != "port" || port.NameJA != "港湾" || port.MinistryCode != "mlit" || port.Revision != "2024-ports" {
			t.Fatalf("15th sector = %+v", port)
		}
		if len(port.Services) != 1 || port.Services[0].Threshold["any_outage"] != true {
			t.Fatalf("port services = %+v", port.Services)
		}
		mlit := orgByCode(t, db, "mlit")
		if fmt.Sprint(mlit.Sectors) != "[airport aviation logistics port railway]" || fmt.Sprint(mlit.Kinds) != "[ministry]" {
			t.Fatalf("mlit = %v %v, want its four sectors and port", mlit.Kinds, mlit.Sectors)
		}
		if n, _ := db.CountOrganisations(ctx); n != 36 {
			t.Fatalf("%d organisations: the revision changes mlit, it adds none", n)
		}
		if cs, _ := db.CEPTOARs(ctx); len(cs) != 19 {
			t.Fatalf("%d CEPTOARs after ports", len(cs))
		}
		es, _ := db.AuditEntries(ctx, store.AuditFilter{Action: "directory.apply_revision", Limit: 1})
		if len(es) != 1 || es[0].ObjectID != "2024-ports" || es[0].OrganisationID != nisc.ID || es[0].IP != "cli" {
			t.Fatalf("apply audited as %+v", es)
		}
		if n := auditCount(t, db); n != before+1 {
			t.Fatalf("applying wrote %d audit entries, want 1", n-before)
		}

		done, err = Apply(ctx, db, actor, "2024-ports")
		if err != nil || done {
			t.Fatalf("second Apply = %v, %v; want a no-op", done, err)
		}
		if again, _ := db.Sectors(ctx); len(again) != 15 {
			t.Fatalf("%d sectors after applying twice", len(again))
		}
		if n := auditCount(t, db); n != before+1 {
			t.Fatalf("the no-op wrote an audit entry")
		}
		applied, _ := db.AppliedRevisions(ctx)
		if !applied[Base] || !applied["2024-ports"] || len(applied) != 2 {
			t.Fatalf("applied = %v", applied)
		}
	})
}

func TestApplyNeedsWhatItRequires(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		done, err := Apply(ctx, db, kyoyu.Actor{}, "2024-ports")
		if done || kyoyu.ErrorCode(err) != kyoyu.EINVALID || !strings.Contains(err.Error(), Base) {
			t.Fatalf("Apply(ports) on an empty directory = %v, %v; want EINVALID naming %s", done, err, Base)
		}
		applied, _ := db.AppliedRevisions(ctx)
		sectors, _ := db.Sectors(ctx)
		if len(applied) != 0 || len(sectors) != 0 {
			t.Fatalf("a refused revision left %v, %d sectors", applied, len(sectors))
		}
		_, err = Apply(ctx, db, kyoyu.Actor{}, "1999-nothing")
		if !errors.Is(err, kyoyu.ErrNotFound) {
			t.Fatalf("Apply(unknown) = %v", err)
		}
	})
}

// A revision that fails half-way leaves nothing behind: one transaction.
func TestApplyRevisionIsAtomic(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := LoadBase(ctx, db); err != nil {
			t.Fatal(err)
		}
		bad := kyoyu.RevisionData{Code: "broken", TitleJA: "壊れた改定", TitleEN: "broken", Requires: Base,
			Sectors:       []kyoyu.Sector{{Code: "space", NameJA: "宇宙", NameEN: "Space", MinistryCode: "mic"}},
			Organisations: []kyoyu.OrgSpec{{Code: "mic", AddSectors: []string{"space", "no_such_sector"}}},
		}
		if _, err := db.ApplyRevision(ctx, kyoyu.Actor{}, bad); err == nil {
			t.Fatal("a revision naming an unknown sector was applied")
		}
		applied, _ := db.AppliedRevisions(ctx)
		sectors, _ := db.Sectors(ctx)
		if applied["broken"] || len(sectors) != 14 {
			t.Fatalf("half a revision stayed: %v, %d sectors", applied, len(sectors))
		}
		if mic := orgByCode(t, db, "mic"); slices.Contains(mic.Sectors, "space") {
			t.Fatalf("mic kept the sector of a failed revision")
		}
	})
}
