package api

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"kyoyu"
	"kyoyu/advisory"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/store"
)

// Advisories (情報提供): NISC drafts and publishes them, ministries and
// CEPTOAR secretariats pass them down, recipients acknowledge, ask and
// answer. package advisory decides; these handlers only translate, and
// every read goes through the store's range-filtered queries.

// AdvisoryList is one page of the advisories the caller may see.
type AdvisoryList struct {
	Advisories []*kyoyu.Advisory `json:"advisories"`
	Total      int               `json:"total"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

// AdvisoryDetail is an advisory with the caller's organisation's receipt
// of it (受領), if it received one.
type AdvisoryDetail struct {
	Advisory *kyoyu.Advisory `json:"advisory"`
	Delivery *kyoyu.Delivery `json:"delivery,omitempty"`
}

// AdvisoryPublished answers a publication: the advisory's number (識別番号)
// and the advisory as published.
type AdvisoryPublished struct {
	Number   string          `json:"advisory_number"`
	Advisory *kyoyu.Advisory `json:"advisory"`
}

// HighlightList is what in a draft's text may identify a source.
type HighlightList struct {
	Highlights []report.Finding `json:"highlights"`
}

// ForwardRequest passes a received advisory one hop down.
type ForwardRequest struct {
	AllCEPTOARs bool    `json:"all_ceptoars,omitempty"`
	Operators   []int64 `json:"operators,omitempty"`
	AllMembers  bool    `json:"all_members,omitempty"`
	TLP         string  `json:"tlp,omitempty"`
}

// ForwardResult counts the organisations a forward reached.
type ForwardResult struct {
	Forwarded int `json:"forwarded"`
}

// AckResult answers an acknowledgement (受領確認): the delivery, and whether
// this call was the one that acknowledged it.
type AckResult struct {
	First    bool            `json:"first"`
	Delivery *kyoyu.Delivery `json:"delivery"`
}

// AdvisoryRates is the issuer's picture of the cascade: per stage, and
// every delivery.
type AdvisoryRates struct {
	Stages     []advisory.StageRate `json:"stages"`
	Deliveries []*kyoyu.Delivery    `json:"deliveries"`
}

// InquiryRequest is one message of an inquiry (問合せ) or its answer.
type InquiryRequest struct {
	Body string `json:"body"`
}

// InquiryList is the inquiry messages the caller may read.
type InquiryList struct {
	Messages []store.InquiryMessage `json:"messages"`
}

// FeedbackRequest is a recipient's answer to an advisory.
type FeedbackRequest struct {
	Answer  string `json:"answer"`
	Comment string `json:"comment,omitempty"`
}

// advisoryReasons and advisoryImportances are the codes a form may hold.
var (
	advisoryReasons     = []kyoyu.AdvisoryReason{kyoyu.ReasonVulnerability, kyoyu.ReasonAttack, kyoyu.ReasonOther}
	advisoryImportances = []string{"warning", "advisory", "info"}
)

// checkAdvisoryForm refuses codes the document does not list, as
// checkCodes does for reports: a draft saved through the API holds known
// codes or nothing yet. Whether the recipients are competent, and the rest,
// waits for publication.
func (h *Handler) checkAdvisoryForm(ctx context.Context, f kyoyu.AdvisoryForm) error {
	p := map[string]string{}
	if f.Reason != "" && !slices.Contains(advisoryReasons, f.Reason) {
		p["reason"] = "invalid_choice"
	}
	if f.Importance != "" && !slices.Contains(advisoryImportances, f.Importance) {
		p["importance"] = "invalid_choice"
	}
	if f.TLP != "" && !policy.TLP(f.TLP).Valid() {
		p["tlp"] = "invalid_choice"
	}
	if len(f.Recipients) > 0 {
		sectors, err := h.db.Sectors(ctx)
		if err != nil {
			return err
		}
		for _, r := range f.Recipients {
			if r.MinistryID <= 0 || !slices.ContainsFunc(sectors, func(s kyoyu.Sector) bool { return s.Code == r.Sector }) {
				p["recipients"] = "invalid_choice"
			}
		}
	}
	if len(p) > 0 {
		return invalid("advisory.invalid", p)
	}
	return nil
}

// advisoryOut gives an advisory's lists as arrays and keeps the issuer's
// working notes — the source cases, the exclusions they carry and the
// highlights kept on purpose — from everyone but the issuer: they would
// point at the sources the advisory must not identify.
func advisoryOut(a *kyoyu.Advisory, orgID int64) *kyoyu.Advisory {
	f := &a.Form
	if a.IssuerOrgID != orgID {
		f.SourceCases, f.Excluded, f.Resolved = nil, nil, nil
	}
	f.Recipients, f.SourceCases, f.ExtraRecipients = nonNil(f.Recipients), nonNil(f.SourceCases), nonNil(f.ExtraRecipients)
	f.Excluded, f.Resolved = nonNil(f.Excluded), nonNil(f.Resolved)
	return a
}

func callerOrg(r *http.Request) int64 { return principal(r).Organisation.ID }

func (h *Handler) listAdvisories(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.AdvisoryFilter{}
	p := map[string]string{}
	limit, err := limitParam(r)
	if err != nil {
		p["limit"] = "out_of_range"
	}
	f.Limit = limit
	if s := q.Get("cursor"); s != "" {
		if c, ok := decodeCursor(s); ok {
			f.BeforeAt, f.BeforeID = &c.At, c.ID
		} else {
			p["cursor"] = "invalid"
		}
	}
	if len(p) > 0 {
		h.fail(w, r, invalid("invalid query parameters", p))
		return
	}
	page, err := h.db.ListAdvisoriesPage(r.Context(), viewer(r), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := AdvisoryList{Advisories: make([]*kyoyu.Advisory, 0, len(page.Advisories)), Total: page.Total}
	for _, a := range page.Advisories {
		out.Advisories = append(out.Advisories, advisoryOut(a, callerOrg(r)))
	}
	if page.NextAt != nil {
		out.NextCursor = encodeCursor(*page.NextAt, page.NextID)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getAdvisory(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx, pr := r.Context(), principal(r)
	a, err := h.advisories.Open(ctx, pr, clientIP(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := AdvisoryDetail{Advisory: advisoryOut(a, pr.Organisation.ID)}
	// Read only once the advisory is known to be visible.
	d, err := h.db.DeliveryTo(ctx, a.ID, pr.Organisation.ID)
	switch {
	case err == nil:
		out.Delivery = d
	case !errors.Is(err, kyoyu.ErrNotFound):
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// draftOut answers the open draft of an advisory, read back as the issuer
// sees it.
func (h *Handler) draftOut(w http.ResponseWriter, r *http.Request, status int, advisoryID int64) {
	a, err := h.advisories.Open(r.Context(), principal(r), clientIP(r), advisoryID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, status, advisoryOut(a, callerOrg(r)))
}

func (h *Handler) draftAdvisory(w http.ResponseWriter, r *http.Request) {
	var f kyoyu.AdvisoryForm
	if err := decodeJSON(w, r, &f); err != nil {
		h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	if err := h.checkAdvisoryForm(ctx, f); err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.advisories.Draft(ctx, principal(r), clientIP(r), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.draftOut(w, r, http.StatusCreated, a.ID)
}

// openDraft reads the caller's organisation's open draft version vid.
func (h *Handler) openDraft(r *http.Request) (*kyoyu.Advisory, error) {
	vid, err := pathID(r, "vid")
	if err != nil {
		return nil, err
	}
	return h.db.AdvisoryDraft(r.Context(), vid, callerOrg(r))
}

func (h *Handler) saveAdvisoryDraft(w http.ResponseWriter, r *http.Request) {
	vid, err := pathID(r, "vid")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var f kyoyu.AdvisoryForm
	if err := decodeJSON(w, r, &f); err != nil {
		h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	if err := h.checkAdvisoryForm(ctx, f); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.advisories.SaveDraft(ctx, principal(r), clientIP(r), vid, f); err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.db.AdvisoryDraft(ctx, vid, callerOrg(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.draftOut(w, r, http.StatusOK, a.ID)
}

func (h *Handler) advisoryHighlights(w http.ResponseWriter, r *http.Request) {
	a, err := h.openDraft(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	found, err := h.advisories.Highlights(r.Context(), principal(r), a.Form)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, HighlightList{Highlights: nonNil(found)})
}

func (h *Handler) publishAdvisory(w http.ResponseWriter, r *http.Request) {
	a, err := h.openDraft(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx, pr := r.Context(), principal(r)
	number, err := h.advisories.Publish(ctx, pr, clientIP(r), a.VersionID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if a, err = h.advisories.Open(ctx, pr, clientIP(r), a.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, AdvisoryPublished{Number: number, Advisory: advisoryOut(a, pr.Organisation.ID)})
}

func (h *Handler) followUpAdvisory(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pr := principal(r)
	vid, _, err := h.advisories.FollowUp(r.Context(), pr, clientIP(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// The new 第N報 is a draft: read it as the issuer's draft, not as the
	// published advisory everyone (the issuer too) reads meanwhile.
	a, err := h.db.AdvisoryDraft(r.Context(), vid, pr.Organisation.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, advisoryOut(a, pr.Organisation.ID))
}

// visibleAdvisory reads the advisory of the path as the caller may see
// it, before a body is read: an advisory out of sight is answered 404
// whatever was sent.
func (h *Handler) visibleAdvisory(r *http.Request) (*kyoyu.Advisory, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return h.advisories.Open(r.Context(), principal(r), clientIP(r), id)
}

func (h *Handler) forwardAdvisory(w http.ResponseWriter, r *http.Request) {
	a, err := h.visibleAdvisory(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var in ForwardRequest
	if err := decodeJSON(w, r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	n, err := h.advisories.Forward(r.Context(), principal(r), clientIP(r), a.ID,
		advisory.ForwardInput{AllCEPTOARs: in.AllCEPTOARs, Operators: in.Operators, AllMembers: in.AllMembers, TLP: in.TLP})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ForwardResult{Forwarded: n})
}

func (h *Handler) ackAdvisory(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx, pr := r.Context(), principal(r)
	first, err := h.advisories.Acknowledge(ctx, pr, clientIP(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d, err := h.db.DeliveryTo(ctx, id, pr.Organisation.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, AckResult{First: first, Delivery: d})
}

func (h *Handler) advisoryRates(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	// Rates answers the issuer only; the deliveries are read after it did.
	rates, err := h.advisories.Rates(ctx, principal(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ds, err := h.db.Deliveries(ctx, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for i := range rates {
		rates[i].Silent = nonNil(rates[i].Silent)
	}
	writeJSON(w, http.StatusOK, AdvisoryRates{Stages: nonNil(rates), Deliveries: nonNil(ds)})
}

func (h *Handler) listInquiries(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ms, err := h.advisories.Threads(r.Context(), principal(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, InquiryList{Messages: nonNil(ms)})
}

func (h *Handler) askInquiry(w http.ResponseWriter, r *http.Request) {
	a, err := h.visibleAdvisory(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var in InquiryRequest
	if err := decodeJSON(w, r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	m, err := h.advisories.Ask(r.Context(), principal(r), clientIP(r), a.ID, in.Body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

func (h *Handler) replyInquiry(w http.ResponseWriter, r *http.Request) {
	a, err := h.visibleAdvisory(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ministry, err := pathID(r, "ministry")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var in InquiryRequest
	if err := decodeJSON(w, r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	m, err := h.advisories.Reply(r.Context(), principal(r), clientIP(r), a.ID, ministry, in.Body)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

func (h *Handler) giveFeedback(w http.ResponseWriter, r *http.Request) {
	a, err := h.visibleAdvisory(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var in FeedbackRequest
	if err := decodeJSON(w, r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	ctx, pr := r.Context(), principal(r)
	if err := h.advisories.GiveFeedback(ctx, pr, clientIP(r), a.ID, in.Answer, in.Comment); err != nil {
		h.fail(w, r, err)
		return
	}
	// Answered with the organisation's own answer as recorded.
	fs, err := h.db.AdvisoryFeedback(ctx, a.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, f := range fs {
		if f.OrgID == pr.Organisation.ID {
			writeJSON(w, http.StatusOK, f)
			return
		}
	}
	h.fail(w, r, errors.New("feedback recorded but not found"))
}

func (h *Handler) getFeedback(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fv, err := h.advisories.Feedback(r.Context(), principal(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, fv)
}
