package web

import (
	"net/http"

	"kyoyu"
	"kyoyu/directory"
	"kyoyu/store"
)

type directoryView struct {
	Page
	Revisions []kyoyu.DirectoryRevision // every revision in the binary, marked applied or not
	Sectors   []sectorRow
	CEPTOARs  []ceptoarRow
}

type sectorRow struct {
	Code     string
	Name     string
	Ministry string
	Revision string
	Services []serviceRow
}

type serviceRow struct {
	Name  string
	Law   string
	Level string
}

type ceptoarRow struct {
	Code        string
	Name        string
	Secretariat string
	Sectors     []string // names
	MemberCount *int
	Note        string
}

// pick returns the English text on English pages when there is one;
// Japanese is the language of record and always the fallback.
func pick(lang, ja, en string) string {
	if lang == "en" && en != "" {
		return en
	}
	return ja
}

// directory shows the framework's reference data: sectors with their
// competent ministry, services and service-maintenance levels, and the
// CEPTOARs. Only applied revisions' data is in the store, so the 2024
// ports sector appears once an operator has applied it.
func (h *Handler) directory(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := &directoryView{Page: h.page(r, "directory.title")}
	lang := v.Lang
	applied, err := h.db.AppliedRevisions(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	revs, err := directory.Revisions()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, rv := range revs {
		v.Revisions = append(v.Revisions, kyoyu.DirectoryRevision{Code: rv.Code, TitleJA: rv.TitleJA, TitleEN: rv.TitleEN, Applied: applied[rv.Code]})
	}
	ministries, err := h.db.Organisations(ctx, store.OrganisationFilter{Kind: kyoyu.KindMinistry})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ministryName := map[string]string{}
	for _, m := range ministries {
		ministryName[m.Code] = m.Name(lang)
	}
	sectors, err := h.db.Sectors(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sectorName := map[string]string{}
	for _, s := range sectors {
		row := sectorRow{Code: s.Code, Name: pick(lang, s.NameJA, s.NameEN), Ministry: ministryName[s.MinistryCode], Revision: s.Revision}
		if row.Ministry == "" {
			row.Ministry = s.MinistryCode
		}
		for _, sv := range s.Services {
			row.Services = append(row.Services, serviceRow{Name: pick(lang, sv.NameJA, sv.NameEN), Law: sv.LawJA,
				Level: pick(lang, sv.ServiceLevelJA, sv.ServiceLevelEN)})
		}
		sectorName[s.Code] = row.Name
		v.Sectors = append(v.Sectors, row)
	}
	ceptoars, err := h.db.CEPTOARs(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, c := range ceptoars {
		row := ceptoarRow{Code: c.Code, Name: pick(lang, c.NameJA, c.NameEN), Secretariat: pick(lang, c.SecretariatJA, c.SecretariatEN),
			MemberCount: c.MemberCount, Note: c.MembersNoteJA}
		for _, s := range c.Sectors {
			if n := sectorName[s]; n != "" {
				s = n
			}
			row.Sectors = append(row.Sectors, s)
		}
		v.CEPTOARs = append(v.CEPTOARs, row)
	}
	h.render(w, r, http.StatusOK, "directory", v)
}
