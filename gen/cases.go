package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/store"
)

// sectorWeights say how often each sector reports, relative to the others.
var sectorWeights = map[string]float64{
	"info_comm": 14, "finance": 20, "aviation": 3, "airport": 2, "railway": 4, "electricity": 8, "gas": 4, "government": 18,
	"medical": 10, "water": 4, "logistics": 5, "chemical": 3, "credit": 4, "petroleum": 2, "port": 2,
}

// growth makes recent years busier: the density of reports over the span
// rises linearly to 1+growth times its start.
const growth = 1.5

// caseMaker makes the cases one at a time, in time order.
type caseMaker struct {
	w                                          *world
	r                                          *rand.Rand
	opt                                        Options
	start                                      time.Time
	span                                       time.Duration
	item, caseID, version, attachment          int64
	seq                                        map[int]int   // last case number per JST year
	labels                                     map[int64]int // labels given per secretariat
	sectors                                    []string
	sectorCum                                  []float64
	pRed, pAmber, pGreen                       float64
	pMinistryOrigin, pCEPTOARIfMember, pFlight float64
	story                                      story // of the case being made
}

func newCaseMaker(w *world, r *rand.Rand, opt Options, ids store.BulkIDs) *caseMaker {
	c := &caseMaker{w: w, r: r, opt: opt, start: opt.End.AddDate(-opt.Years, 0, 0), item: ids.Item, caseID: ids.Case,
		version: ids.Version, attachment: ids.Attachment, seq: map[int]int{}, labels: map[int64]int{},
		pRed: 0.08, pAmber: 0.47, pGreen: 0.35, pMinistryOrigin: 0.10, pCEPTOARIfMember: 0.47, pFlight: 0.3}
	c.span = opt.End.Sub(c.start)
	total := 0.0
	for _, s := range w.sectors {
		if len(w.bySector[s.Code]) > 0 {
			total += sectorWeights[s.Code] + 0.5
			c.sectors, c.sectorCum = append(c.sectors, s.Code), append(c.sectorCum, total)
		}
	}
	return c
}

// when is the creation time of the i-th case: the inverse of the growing
// density's distribution, then moved into office hours most of the time.
func (c *caseMaker) when(i int) time.Time {
	f := (float64(i) + c.r.Float64()) / float64(c.opt.Reports)
	x := (-1 + math.Sqrt(1+2*growth*f*(1+growth/2))) / growth
	t := c.start.Add(time.Duration(x * float64(c.span)))
	if c.r.IntN(10) < 7 {
		day := t.In(kyoyu.JST)
		t = time.Date(day.Year(), day.Month(), day.Day(), 9+c.r.IntN(9), c.r.IntN(60), c.r.IntN(60), 0, kyoyu.JST)
	}
	return t.UTC().Truncate(time.Millisecond)
}

func (c *caseMaker) operator() *operator {
	if len(c.sectors) == 0 {
		return nil
	}
	u := c.r.Float64() * c.sectorCum[len(c.sectorCum)-1]
	i, _ := slices.BinarySearch(c.sectorCum, u)
	ops := c.w.bySector[c.sectors[min(i, len(c.sectors)-1)]]
	return ops[skewed(c.r, len(ops))]
}

func (c *caseMaker) tlp() policy.TLP {
	switch u := c.r.Float64(); {
	case u < c.pRed:
		return policy.Red
	case u < c.pRed+c.pAmber:
		return policy.Amber
	case u < c.pRed+c.pAmber+c.pGreen:
		return policy.Green
	}
	return policy.White
}

// next makes the i-th case.
func (c *caseMaker) next(i int) store.BulkCase {
	r, w := c.r, c.w
	created := c.when(i)
	op := c.operator()
	sc := pickScenario(r)
	c.item++
	c.caseID++
	b := store.BulkCase{ItemID: c.item}
	cs := &b.Case
	cs.ID, cs.CreatedAt, cs.Channel = c.caseID, created, "web"
	it := &b.Item
	it.Kind, it.TLP = policy.Report, c.tlp()
	ministry := w.ministryOf[op.sector]
	cs.MinistryOrgID, cs.Sector = ministry.ID, op.sector
	u := r.Float64()
	switch {
	case u < c.pMinistryOrigin:
		cs.Route, it.Originator = kyoyu.RouteMinistryOrigin, ministry.ID
		cs.Channel = pick(r, []string{"web", "email", "phone", "phone", "fax"})
		if cs.Channel == "phone" || cs.Channel == "fax" {
			cs.TakenBy = personName(r)
		}
		if r.IntN(5) > 0 {
			cs.OperatorOrgID, cs.OperatorName = op.id, op.name
		} else {
			cs.OperatorName = companyPlace(r) + pickFirst(r, sectorSuffixes[op.sector])
		}
	case op.ceptoar != "" && u < c.pMinistryOrigin+(1-c.pMinistryOrigin)*c.pCEPTOARIfMember:
		cs.Route, it.Originator = kyoyu.RouteCEPTOAR, op.id
		cs.OperatorOrgID, cs.OperatorName, cs.SecretariatOrgID = op.id, op.name, op.secretariat
		it.Anonymised, it.SourceOrgs = true, []int64{op.secretariat}
	default:
		cs.Route, it.Originator = kyoyu.RouteMinistry, op.id
		cs.OperatorOrgID, cs.OperatorName = op.id, op.name
	}
	cs.OriginatorOrgID = it.Originator
	it.Sectors = []string{op.sector}
	if r.IntN(100) < 8 {
		if s := pick(r, c.sectors); s != op.sector {
			it.Sectors = append(it.Sectors, s)
		}
	}
	if r.IntN(100) < 2 {
		if o := pick(r, w.operators); o.id != it.Originator {
			it.Recipients = []int64{o.id}
		}
	}
	if r.IntN(1000) < 15 {
		peers := w.bySector[op.sector]
		if o := pick(r, peers); o.id != it.Originator && o.id != op.id {
			it.Excluded = []int64{o.id}
		}
	}
	if r.IntN(100) < 1 && len(w.partners) > 0 {
		it.Partners = []int64{pick(r, w.partners)}
	}
	// Reports still on their way are recent: the newest fortnight.
	inFlight := c.opt.End.Sub(created) < 14*24*time.Hour && r.Float64() < c.pFlight
	if inFlight {
		c.inFlight(&b, op, sc)
		return b
	}
	c.released(&b, op, sc)
	return b
}

// label is the next label a secretariat gives (電力事業者A, B …), as the
// reporting flow suggests them.
func (c *caseMaker) label(secretariat int64, sector string) string {
	n := c.labels[secretariat]
	c.labels[secretariat] = n + 1
	s := ""
	for n >= 0 {
		s = string(rune('A'+n%26)) + s
		n = n/26 - 1
	}
	return c.w.sectorName[sector] + "事業者" + s
}

// inFlight gives a case its first report, not yet at NISC: with the
// secretariat or the ministry, or still a draft.
func (c *caseMaker) inFlight(b *store.BulkCase, op *operator, sc *scenario) {
	cs, it := &b.Case, &b.Item
	var timeline []kyoyu.TimelineRow
	f := c.form(b, op, sc, 1, 1, cs.CreatedAt, &timeline)
	v := kyoyu.ReportVersion{ReportNumber: 1, Revision: 1, Stage: kyoyu.StageOperator, Status: kyoyu.VersionSubmitted,
		OrgID: it.Originator, SourceOnly: it.Anonymised, CreatedAt: cs.CreatedAt, UpdatedAt: cs.CreatedAt}
	switch {
	case cs.Route == kyoyu.RouteMinistryOrigin || c.r.IntN(4) == 0:
		cs.Status, v.Status = kyoyu.CaseDraft, kyoyu.VersionDraft
		if cs.Route == kyoyu.RouteMinistryOrigin {
			v.Stage = kyoyu.StageMinistry
		}
		f.ReportedAt = nil
	case cs.Route == kyoyu.RouteCEPTOAR:
		cs.Status, v.ToOrgID = kyoyu.CaseAtCEPTOAR, cs.SecretariatOrgID
		it.Holders = []int64{cs.SecretariatOrgID}
	default:
		cs.Status, v.ToOrgID = kyoyu.CaseAtMinistry, cs.MinistryOrgID
		it.Holders = []int64{cs.MinistryOrgID}
	}
	if v.Status == kyoyu.VersionSubmitted {
		at := cs.CreatedAt.Add(10 * time.Minute)
		v.SubmittedAt, v.UpdatedAt = &at, at
	}
	v.Form = f
	c.version++
	v.ID = c.version
	b.Versions = []kyoyu.ReportVersion{v}
	cs.UpdatedAt = v.UpdatedAt
	// The case's list columns follow released reports only.
	cs.Sector = ""
}

// released walks a case through to NISC, with its follow-ups.
func (c *caseMaker) released(b *store.BulkCase, op *operator, sc *scenario) {
	r, w := c.r, c.w
	cs, it := &b.Case, &b.Item
	it.Shared = true
	it.Holders = []int64{cs.MinistryOrgID, w.nisc}
	if cs.Route == kyoyu.RouteCEPTOAR {
		it.Holders = append([]int64{cs.SecretariatOrgID}, it.Holders...)
		cs.OperatorLabel = c.label(cs.SecretariatOrgID, op.sector)
	}
	if cs.Route == kyoyu.RouteMinistryOrigin && cs.OperatorOrgID != 0 {
		it.Holders = append(it.Holders, cs.OperatorOrgID)
	}
	reports := 1
	switch u := r.IntN(100); {
	case u < 2:
		reports = 4
	case u < 10:
		reports = 3
	case u < 35:
		reports = 2
	}
	// Each report reaches NISC a little after the previous one.
	times := []time.Time{cs.CreatedAt.Add(time.Duration(30+r.IntN(330)) * time.Minute)}
	for len(times) < reports {
		t := times[len(times)-1].Add(time.Duration(6+r.IntN(240)) * time.Hour)
		if !t.Before(c.opt.End) {
			break
		}
		times = append(times, t)
	}
	if !times[0].Before(c.opt.End) {
		times[0] = c.opt.End.Add(-time.Minute)
	}
	reports = len(times)
	var liaison *kyoyu.Person
	if ls := w.liaisons[cs.MinistryOrgID]; len(ls) > 0 {
		liaison = ls[r.IntN(len(ls))]
	}
	var timeline []kyoyu.TimelineRow
	for n := 1; n <= reports; n++ {
		at := times[n-1]
		f := c.form(b, op, sc, n, reports, at, &timeline)
		if liaison != nil {
			f.Reporter = kyoyu.Contact{Organisation: w.ministryOf[op.sector].NameJA, Department: "サイバーセキュリティ担当", Name: liaison.Name,
				Email: liaison.Email, Phone: fmt.Sprintf("03-%04d-%04d", r.IntN(10000), r.IntN(10000))}
		}
		c.version++
		v := kyoyu.ReportVersion{ID: c.version, ReportNumber: n, Revision: n, Stage: kyoyu.StageMinistry, Status: kyoyu.VersionSubmitted,
			OrgID: cs.MinistryOrgID, ToOrgID: w.nisc, Released: true, Form: f, CreatedAt: at.Add(-20 * time.Minute), UpdatedAt: at}
		if liaison != nil {
			v.AuthorID = liaison.ID
		}
		sub := at
		v.SubmittedAt = &sub
		b.Versions = append(b.Versions, v)
		if f.Press == "done" && liaison != nil && len(b.Attachments) == 0 {
			c.attachment++
			data := []byte(f.PressTitle + "\n" + kyoyu.Wareki(at) + "\n" + f.OperatorName + "\n（生成データ）\n")
			sum := sha256.Sum256(data)
			b.Attachments = append(b.Attachments, store.BulkAttachment{ID: c.attachment, VersionID: v.ID, UploadedBy: liaison.ID,
				Filename: "報道発表資料.txt", ContentType: "text/plain", SHA256: hex.EncodeToString(sum[:]), Data: data, CreatedAt: at})
		}
	}
	last := b.Versions[len(b.Versions)-1].Form
	year := times[0].In(kyoyu.JST).Year()
	c.seq[year]++
	b.CaseYear, b.CaseSeq = year, c.seq[year]
	cs.CaseNumber = c.opt.NumberFormat(year, b.CaseSeq)
	cs.Status = kyoyu.CaseAtNISC
	cs.ReportCount, cs.Importance, cs.EventClass = reports, last.Importance, last.EventClass
	cs.SystemStatus, cs.Outlook, cs.Title = last.SystemStatus, last.Outlook, store.CaseTitle(last.Description)
	received, lastAt := times[0], times[len(times)-1]
	cs.ReceivedAt, cs.LastReportAt, cs.UpdatedAt = &received, &lastAt, lastAt
	b.Causes = last.Causes
	if report.FollowUpExpected(last.Outlook) {
		due := lastAt.Add(72 * time.Hour)
		// Reminded when due: a server started on the data set has no
		// backlog of reminders to catch up on.
		cs.FollowUpDue, b.RemindedAt = &due, &due
	}
}
