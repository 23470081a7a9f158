package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kyoyu/demo"
	"kyoyu/internal/testkit"
	"kyoyu/stix/stixtest"
	"kyoyu/store"
)

// importFile posts a file to the import page as a browser does.
func (b *browser) importFile(filename string, data []byte, format, rng string) answer {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf_token", b.csrf)
	mw.WriteField("format", format)
	mw.WriteField("range", rng)
	if filename != "" {
		part, _ := mw.CreateFormFile("file", filename)
		part.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.base+"/imports", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func TestImportPage(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db)
		amber, err := os.ReadFile(filepath.Join("..", "misp", "testdata", "objects-tlp-amber.json"))
		if err != nil {
			t.Fatal(err)
		}
		apt1, err := os.ReadFile(filepath.Join(stixtest.Dir(), "examples", "threat-reports", "apt1.json"))
		if err != nil {
			t.Fatal(err)
		}

		// Only people who handle incident information see the page and its link.
		admin := s.signIn(orgAdmin, demo.Password)
		if a := admin.get("/"); strings.Contains(a.body, `id="nav-imports"`) {
			t.Error("the import link is shown to someone who may not import")
		}
		mustHave(t, admin.get("/imports"), http.StatusNotFound)
		mustHave(t, admin.importFile("e.json", amber, "auto", ""), http.StatusNotFound)

		b := s.signIn(reporter, demo.Password)
		mustHave(t, b.get("/"), http.StatusOK, `href="/imports" id="nav-imports"`)
		mustHave(t, b.get("/imports"), http.StatusOK, `id="import-form"`, `enctype="multipart/form-data"`, `name="range"`, "取込み")

		// A MISP event, recognised: stored under AMBER, every attribute accounted for.
		a := b.importFile("event.json", amber, "auto", "")
		mustHave(t, a, http.StatusCreated, `id="import-result"`, "TLP:amber", "MISP の tlp: タグによる", "deleted in MISP", "Attribute/7", "取込まず")
		// Again: nothing new.
		mustHave(t, b.importFile("event.json", amber, "misp", ""), http.StatusOK, "新しい内容はありません")

		// The range chosen can narrow, never widen.
		wide := strings.Replace(string(amber), `"uuid": "3f1c2e8a-7b4d-4c2a-9e61-2b8d7f0a1c55"`, `"uuid": "3f1c2e8a-7b4d-4c2a-9e61-2b8d7f0a1c56"`, 1)
		mustHave(t, b.importFile("wide.json", []byte(wide), "auto", "white"), http.StatusCreated, "TLP:amber", "ファイルのより狭い範囲を適用しました")
		narrow := strings.Replace(string(amber), `"uuid": "3f1c2e8a-7b4d-4c2a-9e61-2b8d7f0a1c55"`, `"uuid": "3f1c2e8a-7b4d-4c2a-9e61-2b8d7f0a1c57"`, 1)
		mustHave(t, b.importFile("narrow.json", []byte(narrow), "auto", "red"), http.StatusCreated, "TLP:red", "選択した範囲による")

		// A STIX bundle without markings needs a range; with one it is stored.
		mustHave(t, b.importFile("apt1.json", apt1, "auto", ""), http.StatusUnprocessableEntity, `id="error"`, "TLP")
		mustHave(t, b.importFile("apt1.json", apt1, "stix", "green"), http.StatusCreated, "TLP:green", "objects/0")

		// Bad files are refused whole, every problem listed.
		bad := `{"Event":{"uuid":"5a0e2c1f-1111-4c2a-9e61-2b8d7f0a1c55","info":"x","distribution":1,"Attribute":[{"type":"nope","value":"x"},{"type":"ip-dst","value":""}]}}`
		mustHave(t, b.importFile("bad.json", []byte(bad), "auto", ""), http.StatusUnprocessableEntity, `id="problems"`, "events/0/Attribute/0/type", "events/0/Attribute/1/value")
		mustHave(t, b.importFile("odd.json", []byte(`{"hello":1}`), "auto", ""), http.StatusUnprocessableEntity, "判別できません")
		mustHave(t, b.importFile("", nil, "auto", ""), http.StatusUnprocessableEntity, "ファイルを選んでください")
		mustHave(t, b.importFile("e.json", amber, "auto", "black"), http.StatusUnprocessableEntity)
		big := append([]byte(`{"Event":{"info":"`), bytes.Repeat([]byte("x"), 17<<20)...)
		mustHave(t, b.importFile("big.json", big, "auto", ""), http.StatusRequestEntityTooLarge, "kyoyu import")

		// In English too.
		b.get("/lang/en?next=/imports")
		mustHave(t, b.get("/imports"), http.StatusOK, "Import STIX and MISP", "As the file says")

		var n int
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM stix_imports WHERE source = 'misp'`).Scan(&n); err != nil || n != 3 {
			t.Errorf("%d MISP imports stored (%v)", n, err)
		}
	})
}
