package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"kyoyu/demo"
	"kyoyu/internal/testkit"
	"kyoyu/store"
)

// TestBrowserImportMISP: an operator's reporter follows the menu to the
// import page, uploads a MISP event without choosing a format or range,
// and reads what was imported and skipped, and why.
func TestBrowserImportMISP(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ts := demoServer(t, db)
		ctx := newBrowser(t)
		file, err := filepath.Abs(filepath.Join("..", "misp", "testdata", "objects-tlp-amber.json"))
		if err != nil {
			t.Fatal(err)
		}
		signIn(t, ctx, ts.URL, "reporter@operator.demo.kyoyu.jp", demo.Password)
		err = chromedp.Do(ctx,
			chromedp.WaitVisible(chromedp.ID("nav-imports")),
			chromedp.Click(chromedp.ID("nav-imports")),
			chromedp.WaitVisible(chromedp.ID("import-form")),
			chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{file}),
			chromedp.Click(chromedp.ID("import-submit")),
			chromedp.WaitVisible(chromedp.ID("import-result")),
		)
		if err != nil {
			t.Fatal(err)
		}
		result, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("import-result")))
		if err != nil {
			t.Fatal(err)
		}
		// The range is shown in capitals, as everywhere.
		for _, want := range []string{"Phishing wave against gas operators", "TLP:AMBER", "MISP の tlp: タグによる",
			"取込み 11", "取込まず 1", "deleted in MISP", "an indicator (to_ids) with its observable"} {
			if !strings.Contains(strings.ToUpper(result), strings.ToUpper(want)) {
				t.Errorf("the account shows no %q:\n%s", want, result)
			}
		}
		// The person who may not import sees no link.
		ctx2 := newBrowser(t)
		signIn(t, ctx2, ts.URL, "admin@operator.demo.kyoyu.jp", demo.Password)
		if err := chromedp.Do(ctx2, chromedp.WaitVisible(chromedp.ID("welcome"))); err != nil {
			t.Fatal(err)
		}
		n, err := chromedp.Run(ctx2, chromedp.Evaluate[int](`document.querySelectorAll("#nav-imports").length`))
		if err != nil || n != 0 {
			t.Errorf("the import link is shown to an administrator who does not handle incidents (%d, %v)", n, err)
		}
	})
}
