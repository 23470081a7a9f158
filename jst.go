package kyoyu

import (
	"fmt"
	"time"
)

// JST is Japan Standard Time. A fixed zone: Japan has no daylight saving,
// and closed networks may lack the tz database.
var JST = time.FixedZone("JST", 9*60*60)

// FormatJST formats t in JST as forms show it: 2026-11-21 09:30 JST.
func FormatJST(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(JST).Format("2006-01-02 15:04 JST")
}

// eras of the Japanese calendar, newest first, with the first day of each.
var eras = []struct {
	name  string
	start time.Time
}{
	{"令和", time.Date(2019, 5, 1, 0, 0, 0, 0, JST)},
	{"平成", time.Date(1989, 1, 8, 0, 0, 0, 0, JST)},
	{"昭和", time.Date(1926, 12, 25, 0, 0, 0, 0, JST)},
}

// Wareki formats the date of t (in JST) in the Japanese era, as official
// forms write it: 令和8年11月21日; the first year of an era is 元年.
func Wareki(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(JST)
	for _, e := range eras {
		if !t.Before(e.start) {
			y := t.Year() - e.start.Year() + 1
			year := fmt.Sprint(y)
			if y == 1 {
				year = "元"
			}
			return fmt.Sprintf("%s%s年%d月%d日", e.name, year, int(t.Month()), t.Day())
		}
	}
	return t.Format("2006年1月2日")
}
