package gen

import (
	"fmt"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/report"
	"kyoyu/store"
)

// story is what stays the same across the reports of one case.
type story struct {
	sys, description, eventClass, importance string
	causes                                   []string
	discovered, occurred                     *time.Time
	press                                    bool
	users                                    *int
}

// form writes the n-th of reports reports of a case at time at. The
// timeline grows from one report to the next; the last report of a case
// that is not recent closes it.
func (c *caseMaker) form(b *store.BulkCase, op *operator, sc *scenario, n, reports int, at time.Time, timeline *[]kyoyu.TimelineRow) kyoyu.ReportForm {
	r, cs, it := c.r, &b.Case, &b.Item
	if n == 1 {
		c.story = c.newStory(op, sc, cs.CreatedAt)
	}
	st := &c.story
	f := kyoyu.ReportForm{ClassificationVersion: report.ClassificationVersion, TLP: string(it.TLP), Importance: st.importance,
		EventClass: st.eventClass, Causes: st.causes, Sector: op.sector, DiscoveredAt: st.discovered, OccurredAt: st.occurred,
		AffectedSystem: st.sys, Description: st.description, Excluded: it.Excluded, Recipients: it.Recipients}
	reported := at
	f.ReportedAt = &reported
	// Versions written after the secretariat anonymised carry its label;
	// the operator's own, still on their way, its name.
	f.OperatorName = cs.OperatorName
	if it.Anonymised && cs.OperatorLabel != "" {
		f.OperatorName = cs.OperatorLabel
	}
	if len(it.Sectors) > 1 {
		f.ConcernedSectors = it.Sectors[1:]
	}
	final := n == reports
	recent := c.opt.End.Sub(at) < 7*24*time.Hour
	switch {
	case !final:
		f.SystemStatus = pick(r, []string{"stopped", "partial", "partial"})
		f.Outlook = pick(r, []string{"ongoing", "investigating"})
		if n > 1 {
			f.Description += "\n第" + fmt.Sprint(n) + "報：" + fill(r, pick(r, sc.actions), st.sys)
		}
	case recent && r.IntN(2) == 0:
		f.SystemStatus, f.Outlook = pick(r, []string{"partial", "stopped"}), pick(r, []string{"ongoing", "investigating"})
	default:
		f.SystemStatus = "recovered"
		if st.eventClass == "precursor" {
			f.SystemStatus = "no_impact"
		}
		f.Outlook = pick(r, []string{"completed", "completed", "considering"})
		if n > 1 {
			f.Description += "\n第" + fmt.Sprint(n) + "報：復旧を確認した。" + fill(r, pick(r, sc.impacts), st.sys)
		}
		f.Lessons = fill(r, pick(r, sc.lessons), st.sys)
	}
	// Two or three lines of the timeline per report.
	step := at.Add(-2 * time.Hour)
	for range 2 + r.IntN(2) {
		step = step.Add(time.Duration(15+r.IntN(30)) * time.Minute)
		*timeline = append(*timeline, kyoyu.TimelineRow{At: jstStamp(step), Event: pick(r, sc.timeline)})
	}
	f.Timeline = append([]kyoyu.TimelineRow(nil), *timeline...)
	f.Press = "none"
	if st.press {
		f.Press, f.PressTitle = "planned", sc.press
		if final || n > 1 {
			f.Press = "done"
			pressAt := at.Add(-2 * time.Hour)
			f.PressAt = &pressAt
		}
	}
	f.OtherBodiesNotified = pick(r, otherBodies)
	if it.TLP == "red" || (it.TLP == "amber" && r.IntN(3) == 0) {
		f.TLPNote = pick(r, []string{"関係者限りで取り扱うこと。", "報道発表前のため取扱注意。", "捜査中のため詳細の共有は控えること。"})
	}
	f.Impact.UsersAffected = st.users
	if st.eventClass == "availability" {
		no := false
		f.ServiceLevelDeviation = &no
		if r.IntN(10) == 0 {
			yes := true
			f.ServiceLevelDeviation = &yes
		}
	}
	return f
}

// newStory draws what a case is about.
func (c *caseMaker) newStory(op *operator, sc *scenario, created time.Time) story {
	r := c.r
	sys := pick(r, genericSystems)
	if ss := sectorSystems[op.sector]; len(ss) > 0 && r.IntN(3) > 0 {
		sys = pick(r, ss)
	}
	discovered := created.Add(-time.Duration(r.IntN(12*60)) * time.Minute)
	st := story{sys: sys, eventClass: pick(r, sc.eventClass), importance: pick(r, sc.importance), causes: pick(r, sc.causes),
		discovered: &discovered, press: sc.press != "" && r.IntN(3) == 0}
	if r.IntN(3) > 0 {
		occurred := discovered.Add(-time.Duration(r.IntN(48*60)) * time.Minute)
		st.occurred = &occurred
	}
	var d strings.Builder
	d.WriteString(kyoyu.Wareki(discovered))
	d.WriteString("、")
	d.WriteString(fill(r, pick(r, sc.symptoms), sys))
	d.WriteString("。")
	d.WriteString(fill(r, pick(r, sc.details), sys))
	d.WriteString(fill(r, pick(r, sc.impacts), sys))
	d.WriteString(fill(r, pick(r, sc.actions), sys))
	st.description = d.String()
	if r.IntN(4) == 0 {
		u := 10 * (1 + r.IntN(5000))
		st.users = &u
	}
	return st
}
