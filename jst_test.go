package kyoyu

import (
	"testing"
	"time"
)

func TestWareki(t *testing.T) {
	cases := map[time.Time]string{
		time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC):  "令和8年11月21日",
		time.Date(2019, 5, 1, 0, 0, 0, 0, JST):         "令和元年5月1日",
		time.Date(2019, 4, 30, 23, 59, 0, 0, JST):      "平成31年4月30日",
		time.Date(2019, 4, 30, 15, 30, 0, 0, time.UTC): "令和元年5月1日", // 00:30 JST
		time.Date(1989, 1, 7, 12, 0, 0, 0, JST):        "昭和64年1月7日",
	}
	for in, want := range cases {
		if got := Wareki(in); got != want {
			t.Errorf("Wareki(%s) = %s, want %s", in, got, want)
		}
	}
	if got := FormatJST(time.Date(2026, 11, 21, 15, 30, 0, 0, time.UTC)); got != "2026-11-22 00:30 JST" {
		t.Errorf("FormatJST = %s", got)
	}
}

func TestFormatCaseNumber(t *testing.T) {
	c := Config{}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.FormatCaseNumber(2026, 42); got != "JP-2026-00042" {
		t.Errorf("default format: %s", got)
	}
	c.CaseNumberFormat = "NISC{year}-{seq}"
	if got := c.FormatCaseNumber(2026, 7); got != "NISC2026-7" {
		t.Errorf("custom format: %s", got)
	}
	if err := (&Config{CaseNumberFormat: "JP-{year}"}).Validate(); err == nil {
		t.Error("a format without {seq} is accepted")
	}
}
