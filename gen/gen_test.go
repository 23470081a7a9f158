package gen_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/gen"
	"kyoyu/internal/testkit"
	"kyoyu/policy"
	"kyoyu/search"
	"kyoyu/store"
)

// small is a data set the tests can afford; the benchmarks use 6,000
// organisations, 20,000 people and up to a million reports.
var small = gen.Options{Seed: 7, Orgs: 200, People: 500, Reports: 2000, Batch: 700, PasswordHash: "$argon2id$generated"}

func generate(t *testing.T, db *store.DB, opt gen.Options) *gen.Summary {
	t.Helper()
	ctx := context.Background()
	if err := gen.PrepareDirectory(ctx, db); err != nil {
		t.Fatal(err)
	}
	sum, err := gen.Generate(ctx, db, opt)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// viewerWith finds a person of the given role (and organisation kind)
// who handles incidents, as the rule sees them.
func viewerWith(t *testing.T, db *store.DB, role kyoyu.Role, member bool) policy.Viewer {
	t.Helper()
	ctx := context.Background()
	people, err := db.People(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range people {
		if p.Role != role || !p.HandlesIncidents {
			continue
		}
		o, err := db.Organisation(ctx, p.OrganisationID)
		if err != nil {
			t.Fatal(err)
		}
		if member && len(o.CEPTOARs) == 0 {
			continue
		}
		return policy.ViewerOf(p, o)
	}
	t.Fatalf("no %s in the generated data", role)
	return policy.Viewer{}
}

func TestGenerate(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		sum := generate(t, db, small)
		if sum.Cases != small.Reports || sum.Versions <= sum.Cases || sum.Attachments == 0 {
			t.Fatalf("summary %+v", sum)
		}
		if n, err := db.CountOrganisations(ctx); err != nil || n != small.Orgs {
			t.Fatalf("organisations: %d, %v; want %d", n, err, small.Orgs)
		}
		people, err := db.People(ctx, 0)
		if err != nil || len(people) != small.People {
			t.Fatalf("people: %d, %v; want %d", len(people), err, small.People)
		}
		ntk := 0
		for _, p := range people {
			if p.HandlesIncidents {
				ntk++
			}
		}
		if ntk < len(people)/4 || ntk > len(people)/2 {
			t.Errorf("%d of %d people handle incidents; want about a third", ntk, len(people))
		}

		nisc := viewerWith(t, db, kyoyu.RoleNISCAnalyst, false)
		op := viewerWith(t, db, kyoyu.RoleOperatorReporter, true)
		for _, tc := range []struct {
			name string
			v    policy.Viewer
			f    store.CaseFilter
		}{
			{"nisc, finance", nisc, store.CaseFilter{Sector: "finance", Limit: 50}},
			{"nisc, all", nisc, store.CaseFilter{Limit: 50}},
			{"operator", op, store.CaseFilter{Limit: 50}},
			{"operator, own sector", op, store.CaseFilter{Sector: op.Sectors[0], Limit: 20}},
		} {
			page, err := db.ListCases(ctx, tc.v, tc.f)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if len(page.Cases) == 0 || page.Total < len(page.Cases) {
				t.Fatalf("%s: %d cases of %d", tc.name, len(page.Cases), page.Total)
			}
			if len(page.Cases) == tc.f.Limit && page.NextAt == nil {
				t.Errorf("%s: a full page without a next page", tc.name)
			}
			for i, c := range page.Cases {
				if tc.f.Sector != "" && c.Sector != tc.f.Sector {
					t.Errorf("%s: case %d of sector %q", tc.name, c.ID, c.Sector)
				}
				if i > 0 && activity(c).After(activity(page.Cases[i-1])) {
					t.Errorf("%s: case %d is newer than the one before it", tc.name, c.ID)
				}
				if c.Anonymised && c.OperatorOrgID == 0 && c.Operator != c.OperatorLabel {
					t.Errorf("%s: anonymised case %d shows %q", tc.name, c.ID, c.Operator)
				}
			}
		}
		// The generated ranges are what the rule says: the totals equal
		// the rule applied to every item.
		for _, v := range []policy.Viewer{nisc, op, policy.Anonymous} {
			page, err := db.ListCases(ctx, v, store.CaseFilter{Limit: 1, ExactTotal: true})
			if err != nil {
				t.Fatal(err)
			}
			if want := ruleCount(t, db, v); page.Total != want {
				t.Errorf("viewer %d: list total %d, rule %d", v.OrgID, page.Total, want)
			}
		}

		// Japanese search: 侵入 is a word of the phrase tables, and 漏えい
		// finds reports written with 漏洩 too.
		for _, q := range []string{"侵入", "漏えい", "ランサムウェア", "DDoS"} {
			page, err := db.ListCases(ctx, nisc, store.CaseFilter{Query: q, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Cases) == 0 {
				t.Fatalf("search %q found nothing", q)
			}
			vers, err := db.Versions(ctx, nisc, page.Cases[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			for _, v := range vers {
				text.WriteString(v.Form.Description + v.Form.AffectedSystem + v.Form.Lessons)
				for _, row := range v.Form.Timeline {
					text.WriteString(row.Event)
				}
			}
			if !strings.Contains(search.Normalise(text.String()), search.Normalise(q)) {
				t.Errorf("search %q found case %d, whose text does not have it", q, page.Cases[0].ID)
			}
		}
		// Numbering continues after the generated numbers.
		var last int
		if err := db.SQL().QueryRowContext(ctx, `SELECT last FROM case_counters WHERE year = 2026`).Scan(&last); err != nil || last == 0 {
			t.Fatalf("counter for 2026: %d, %v", last, err)
		}
	})
}

func activity(c *kyoyu.Case) time.Time {
	if c.LastReportAt != nil {
		return *c.LastReportAt
	}
	return c.CreatedAt
}

// ruleCount applies policy.Decide to every case's item.
func ruleCount(t *testing.T, db *store.DB, v policy.Viewer) int {
	t.Helper()
	ctx := context.Background()
	rows, err := db.SQL().QueryContext(ctx, `SELECT item_id FROM cases ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	n := 0
	for _, id := range ids {
		it, err := db.ItemState(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if policy.Decide(v, it).See {
			n++
		}
	}
	return n
}

// TestGenerateIsDeterministic: the same seed makes the same data, another
// seed other data.
func TestGenerateIsDeterministic(t *testing.T) {
	opt := small
	opt.Reports, opt.Orgs, opt.People = 600, 120, 300
	a := digest(t, testkit.OpenDB(t, store.SQLite), opt)
	b := digest(t, testkit.OpenDB(t, store.SQLite), opt)
	if a != b {
		t.Fatalf("same seed, different data: %s %s", a, b)
	}
	opt.Seed++
	if c := digest(t, testkit.OpenDB(t, store.SQLite), opt); c == a {
		t.Fatal("another seed made the same data")
	}
}

func digest(t *testing.T, db *store.DB, opt gen.Options) string {
	t.Helper()
	generate(t, db, opt)
	h := sha256.New()
	for _, q := range []string{
		`SELECT id || ':' || name_ja FROM organisations ORDER BY id`,
		`SELECT email || ':' || name || ':' || role || ':' || handles_incidents FROM people ORDER BY id`,
		`SELECT COALESCE(case_number, '') || ':' || route || ':' || operator_label || ':' || title || ':' || created_at FROM cases ORDER BY id`,
		`SELECT form FROM report_versions ORDER BY id`,
		`SELECT item_id || ':' || org_id || ':' || relation FROM item_orgs ORDER BY item_id, relation, org_id`,
	} {
		rows, err := db.SQL().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, s)
		}
		rows.Close()
		if len(lines) == 0 || slices.Contains(lines, "") {
			t.Fatalf("%s: %d rows", q, len(lines))
		}
		h.Write([]byte(strings.Join(lines, "\n")))
	}
	return hex.EncodeToString(h.Sum(nil))
}
