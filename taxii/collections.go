package taxii

import (
	"crypto/sha1"
	"fmt"
	"net/http"
	"slices"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/store"
)

// Collection is a TAXII collection resource (§5.2), with what it holds.
type Collection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types"`

	holding string   // store.STIXFilter.Holding
	sectors []string // store.STIXFilter.Sectors
}

// collectionID is a stable name-based (version 5 style) UUID: a
// collection keeps its id across restarts and installations.
func collectionID(name string) string {
	sum := sha1.Sum([]byte("kyoyu/taxii/collection/" + name))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Collection aliases of the two that are not a sector's.
const (
	AliasAdvisories    = "advisories"
	AliasContributions = "contributions"
)

// writerKinds are the kinds of organisation whose people (those who
// handle incident information) may add objects to the contributions
// collection: security agencies and cyber-space vendors, who bring
// indicators to the framework, security ministries, and NISC.
var writerKinds = []kyoyu.OrgKind{kyoyu.KindNISC, kyoyu.KindSecurityAgency, kyoyu.KindCyberVendor, kyoyu.KindSecurityMinistry}

// MayContribute reports whether the person may POST to the contributions
// collection.
func MayContribute(pr *account.Principal) bool {
	if pr == nil || pr.Person == nil || pr.Organisation == nil || !pr.Person.HandlesIncidents {
		return false
	}
	return slices.ContainsFunc(writerKinds, pr.Organisation.Has)
}

// collectionsFor lists the collections, as the person sees them. Every
// signed-in person is shown every collection: their names are the public
// directory's sectors, so listing one tells nothing; what each holds for
// the person is decided object by object by the sharing-range rule.
func (h *Handler) collectionsFor(r *http.Request, pr *account.Principal) ([]Collection, error) {
	sectors, err := h.db.Sectors(r.Context())
	if err != nil {
		return nil, err
	}
	media := []string{STIXMediaType}
	var out []Collection
	for _, s := range sectors {
		out = append(out, Collection{ID: collectionID("sector/" + s.Code), Alias: "sector-" + s.Code,
			Title:       s.NameJA + " / " + s.NameEN,
			Description: "この分野に関わる事案（NISC が受理した版）と取り込まれた STIX / cases concerning this sector as released to NISC, and STIX bundles imported for it",
			CanRead:     true, MediaTypes: media, holding: store.HoldingReport, sectors: []string{s.Code}})
	}
	out = append(out,
		Collection{ID: collectionID(AliasAdvisories), Alias: AliasAdvisories, Title: "情報提供 / Advisories",
			Description: "NISC と所管省庁からの情報提供 / advisories from NISC and the competent ministries",
			CanRead:     true, MediaTypes: media, holding: store.HoldingAdvisory},
		Collection{ID: collectionID(AliasContributions), Alias: AliasContributions, Title: "提供された指標 / Contributions",
			Description: "情報セキュリティ関係機関、サイバー空間関連事業者などが提供した STIX / STIX contributed by security agencies, vendors and others (every imported bundle)",
			CanRead:     true, CanWrite: MayContribute(pr), MediaTypes: media, holding: store.HoldingImport})
	return out, nil
}

// find returns the collection named in the path, by id or alias.
func (h *Handler) find(r *http.Request) (*Collection, error) {
	cs, err := h.collectionsFor(r, principal(r))
	if err != nil {
		return nil, err
	}
	id := r.PathValue("id")
	for i := range cs {
		if cs[i].ID == id || cs[i].Alias == id {
			return &cs[i], nil
		}
	}
	return nil, fmt.Errorf("collection %q: %w", id, kyoyu.ErrNotFound)
}

func (h *Handler) collections(w http.ResponseWriter, r *http.Request) {
	cs, err := h.collectionsFor(r, principal(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]Collection{"collections": cs})
}

func (h *Handler) collection(w http.ResponseWriter, r *http.Request) {
	c, err := h.find(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}
