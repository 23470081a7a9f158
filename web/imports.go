package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"kyoyu"
	"kyoyu/misp"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/stix"
)

// importLimit bounds a file imported from the page, as the API does;
// larger feeds go through `kyoyu import`.
var importLimit = stix.DefaultLimits.MaxBytes

// importRoutes registers the import page: a STIX bundle or a MISP file
// uploaded by someone who handles incident information.
func (h *Handler) importRoutes() {
	h.mux.HandleFunc("GET /imports", h.signedIn(h.importForm))
	h.mux.HandleFunc("POST /imports", h.signedIn(h.importUpload))
}

// isImportUpload: a file posted to the import page, which may be larger
// than an ordinary form.
func isImportUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/imports" && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
}

// importTooLarge answers 413 on the import page, the limit named, when the
// uploaded file is over it (before the form token is read, which the
// oversized body hides).
func (h *Handler) importTooLarge(w http.ResponseWriter, r *http.Request) bool {
	if !isImportUpload(r) {
		return false
	}
	var tooBig *http.MaxBytesError
	if err := r.ParseMultipartForm(uploadMemory); !errors.As(err, &tooBig) {
		return false
	}
	if principal(r) == nil {
		p := h.page(r, "error.title")
		p.Error = "error.not_found"
		h.render(w, r, http.StatusRequestEntityTooLarge, "error", &p)
		return true
	}
	v := h.importView(r)
	v.Error = fmt.Sprintf(T(v.Lang, "imports.too_large"), formatSize(importLimit))
	h.render(w, r, http.StatusRequestEntityTooLarge, "imports", v)
	return true
}

// importView is the page: the form, and after an upload what it did.
type importView struct {
	Page
	Format   string
	Range    string
	Ranges   []string
	Problems []stix.Problem
	Result   *importResult
}

// importResult is an import's account, the same for a bundle and for the
// events of a MISP file: per item, its range and each line.
type importResult struct {
	Kind  string // stix or misp
	File  string
	Items []importItem
}

type importItem struct {
	Title     string
	ItemID    int64
	TLP       string
	RangeFrom string
	Imported  int
	Skipped   int
	Rows      []importRow
	Notes     []string
	// Kept: the range chosen was wider than the file's, which applies.
	Kept bool
}

type importRow struct {
	Where, Type, Outcome, Note string
}

// maxRows bounds the lines shown per item; the API and `kyoyu import
// --json` give every line.
const maxRows = 300

// mayImport: the same people the API lets import.
func mayImport(r *http.Request) bool {
	pr := principal(r)
	return pr != nil && pr.Person != nil && pr.Person.HandlesIncidents
}

func (h *Handler) importView(r *http.Request) *importView {
	return &importView{Page: h.page(r, "imports.title"), Format: "auto", Ranges: []string{"red", "amber", "green", "white"}}
}

func (h *Handler) importForm(w http.ResponseWriter, r *http.Request) {
	if !mayImport(r) {
		h.notFound(w, r)
		return
	}
	h.render(w, r, http.StatusOK, "imports", h.importView(r))
}

func (h *Handler) importUpload(w http.ResponseWriter, r *http.Request) {
	if !mayImport(r) {
		h.notFound(w, r)
		return
	}
	v := h.importView(r)
	v.Format, v.Range = r.PostFormValue("format"), r.PostFormValue("range")
	fail := func(status int, msg string) {
		v.Error = msg
		h.render(w, r, status, "imports", v)
	}
	if v.Format != "auto" && v.Format != "stix" && v.Format != "misp" {
		v.Format = "auto"
	}
	if v.Range != "" && !policy.TLP(v.Range).Valid() {
		fail(http.StatusUnprocessableEntity, "imports.bad_range")
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		fail(http.StatusUnprocessableEntity, "imports.no_file")
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, importLimit+1))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if int64(len(data)) > importLimit {
		fail(http.StatusRequestEntityTooLarge, fmt.Sprintf(T(v.Lang, "imports.too_large"), formatSize(importLimit)))
		return
	}
	format := v.Format
	if format == "auto" {
		if format = misp.Detect(data); format == "" {
			fail(http.StatusUnprocessableEntity, "imports.unknown_format")
			return
		}
	}
	res := &importResult{Kind: format, File: hdr.Filename}
	rng := policy.TLP(v.Range)
	if format == "misp" {
		acc, err := h.reports.ImportMISP(r.Context(), principal(r), ClientIP(r), data, report.MISPImportOptions{Range: rng, Via: "ui"})
		if err != nil {
			h.importRefused(w, r, v, err)
			return
		}
		for _, e := range acc.Events {
			it := importItem{Title: e.Info + " (" + e.UUID + ")", ItemID: e.ItemID, TLP: e.TLP, RangeFrom: "imports.from." + e.RangeFrom,
				Imported: e.Imported, Skipped: e.Skipped, Notes: e.Notes}
			for _, a := range e.Attributes {
				if len(it.Rows) < maxRows {
					it.Rows = append(it.Rows, importRow{Where: a.Where, Type: a.Type, Outcome: "imports.outcome." + a.Outcome, Note: a.Note})
				}
			}
			res.Items = append(res.Items, it)
		}
	} else {
		acc, err := h.reports.ImportSTIX(r.Context(), principal(r), ClientIP(r), data, report.STIXImportOptions{Range: rng, Source: "ui"})
		if err != nil {
			h.importRefused(w, r, v, err)
			return
		}
		it := importItem{Title: acc.BundleID, ItemID: acc.ItemID, TLP: acc.TLP, RangeFrom: "imports.from." + acc.RangeFrom,
			Imported: acc.Stored, Skipped: acc.Skipped, Notes: acc.Notes}
		for _, o := range acc.Objects {
			if len(it.Rows) < maxRows {
				it.Rows = append(it.Rows, importRow{Where: fmt.Sprintf("objects/%d %s", o.Index, o.ID), Type: o.Type,
					Outcome: "imports.outcome." + map[string]string{stix.Stored: "imported", stix.Skipped: "skipped"}[o.Outcome], Note: o.Note})
			}
		}
		res.Items = append(res.Items, it)
	}
	for i := range res.Items {
		res.Items[i].Kept = rng != "" && policy.TLP(res.Items[i].TLP) != rng
	}
	v.Result = res
	status := http.StatusOK
	for _, it := range res.Items {
		if it.ItemID != 0 {
			status = http.StatusCreated
		}
	}
	h.render(w, r, status, "imports", v)
}

// importRefused shows why a file was refused, every problem listed; a
// person who may not import was already answered not found.
func (h *Handler) importRefused(w http.ResponseWriter, r *http.Request, v *importView, err error) {
	code := kyoyu.ErrorCode(err)
	status, ok := errorStatus[code]
	if !ok || status == http.StatusInternalServerError || status == http.StatusNotFound {
		h.fail(w, r, err)
		return
	}
	v.Problems = stix.Problems(err)
	v.Error = kyoyu.ErrorMessage(err)
	h.render(w, r, status, "imports", v)
}
