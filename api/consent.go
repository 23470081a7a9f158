package api

import (
	"net/http"

	"kyoyu"
	"kyoyu/report"
	"kyoyu/store"
)

// Widening a case's range with the originator's consent, and NISC's
// analysis partners (report/consent.go decides; these only translate).

// ConsentRequestList is the requests about a case the caller is party to.
type ConsentRequestList struct {
	Requests []*store.ConsentRequest `json:"consent_requests"`
}

// ConsentAnswerRequest grants or refuses a request (情報発信者の同意).
type ConsentAnswerRequest struct {
	Grant *bool  `json:"grant"`
	Note  string `json:"note,omitempty"`
}

// PartnersUpdate is the complete set of analysis partners of a case.
type PartnersUpdate struct {
	Partners []int64 `json:"partners"`
}

// PartnerList is the analysis partners engaged for a case.
type PartnerList struct {
	Partners []*kyoyu.Organisation `json:"partners"`
}

func consentOut(r *store.ConsentRequest) *store.ConsentRequest {
	r.AddRecipients, r.AddSectors = nonNil(r.AddRecipients), nonNil(r.AddSectors)
	return r
}

func (h *Handler) listConsentRequests(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rs, err := h.reports.ConsentRequests(r.Context(), principal(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, q := range rs {
		consentOut(q)
	}
	writeJSON(w, http.StatusOK, ConsentRequestList{Requests: nonNil(rs)})
}

func (h *Handler) requestWidening(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var in report.WideningRequest
	if err := decodeJSON(w, r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	q, err := h.reports.RequestWidening(r.Context(), principal(r), clientIP(r), id, in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, consentOut(q))
}

func (h *Handler) answerConsent(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rid, err := pathID(r, "rid")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx, pr := r.Context(), principal(r)
	// Read through the case first: a request of another case is not found.
	if _, err := h.reports.ConsentRequest(ctx, pr, id, rid); err != nil {
		h.fail(w, r, err)
		return
	}
	var in ConsentAnswerRequest
	if err := decodeJSON(w, r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	if in.Grant == nil {
		h.fail(w, r, invalid("grant is required", map[string]string{"grant": "required"}))
		return
	}
	q, err := h.reports.AnswerConsent(ctx, pr, clientIP(r), rid, *in.Grant, in.Note)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, consentOut(q))
}

func (h *Handler) getPartners(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ps, err := h.reports.Partners(r.Context(), principal(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, PartnerList{Partners: nonNil(ps)})
}

func (h *Handler) setPartners(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var in PartnersUpdate
	if err := decodeJSON(w, r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	if in.Partners == nil {
		h.fail(w, r, invalid("partners is required", map[string]string{"partners": "required"}))
		return
	}
	ps, err := h.reports.SetPartners(r.Context(), principal(r), clientIP(r), id, in.Partners)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, PartnerList{Partners: nonNil(ps)})
}
