package web

import (
	"slices"
	"testing"
	"time"

	"kyoyu"
	"kyoyu/report"
)

func TestCaseLineDiff(t *testing.T) {
	old := caseSplitLines("不審な通信を検知した。通信を遮断した。\n調査中。")
	if want := []string{"不審な通信を検知した。", "通信を遮断した。", "調査中。"}; !slices.Equal(old, want) {
		t.Fatalf("lines %q, want %q", old, want)
	}
	got := caseLineDiff(old, caseSplitLines("不審な通信を検知した。通信を遮断した。\n原因を特定した。"))
	want := []caseDiffLine{{"same", "不審な通信を検知した。"}, {"same", "通信を遮断した。"}, {"del", "調査中。"}, {"add", "原因を特定した。"}}
	if !slices.Equal(got, want) {
		t.Fatalf("diff %v, want %v", got, want)
	}
	if caseLineDiff(nil, nil) != nil {
		t.Fatal("diff of nothing")
	}
}

// Every field a comparison can name has a label in both languages.
func TestCaseDiffFieldsAreLabelled(t *testing.T) {
	if err := loadLocales(); err != nil {
		t.Fatal(err)
	}
	n, yes, now := 1, true, time.Now()
	full := kyoyu.ReportForm{ReportedAt: &now, Reporter: kyoyu.Contact{Organisation: "a", Department: "b", Name: "c", Phone: "d", Fax: "e", Email: "f"}, TLP: "red", TLPNote: "x",
		Importance: "info", EventClass: "other", Causes: []string{"dos"}, Sector: "gas", OperatorName: "x", DiscoveredAt: &now,
		OccurredAt: &now, AffectedSystem: "x", Description: "x", SystemStatus: "stopped", ServiceLevelDeviation: &yes,
		SpilloverPossible: &yes, Impact: kyoyu.Impact{UsersAffected: &n, DurationMinutes: &n, KWLost: &n, HouseholdsCut: &n}, Timeline: []kyoyu.TimelineRow{{At: "1", Event: "x"}}, Supplementary: "x",
		Press: "done", PressAt: &now, PressTitle: "x", OtherBodiesNotified: "x", Outlook: "ongoing", Lessons: "x",
		ConcernedSectors: []string{"gas"}, Recipients: []int64{1}, Excluded: []int64{2}}
	changes := report.Diff(kyoyu.ReportForm{}, full)
	if len(changes) < 30 {
		t.Fatalf("only %d fields differ: is the form bigger now?", len(changes))
	}
	for _, ch := range changes {
		for _, lang := range Languages {
			if key := "cases.field." + ch.Field; T(lang, key) == key {
				t.Errorf("%s: no label for %s", lang, ch.Field)
			}
		}
	}
}
