package web

import (
	"net/http"

	"kyoyu"
)

// The acknowledgement link of an e-mail (/ack/{nonce}) works without
// signing in: it confirms receipt and nothing else. The page shows no
// content of the advisory, and only a POST from its button acknowledges:
// mail scanners fetch links, and a GET must not count as the person's
// confirmation.

type advAckView struct {
	Page
	Nonce      string
	State      string // confirm, done, used, expired
	AdvisoryID int64
}

// advAckStatus is the answer's status for each state: a spent or expired
// link is gone; a forged one is simply not found (answered elsewhere).
var advAckStatus = map[string]int{"confirm": http.StatusOK, "done": http.StatusOK, "used": http.StatusGone, "expired": http.StatusGone}

func (h *Handler) advAckRender(w http.ResponseWriter, r *http.Request, v *advAckView) {
	// The nonce is in the address: keep it out of Referer headers and caches.
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, advAckStatus[v.State], "advisory_ack", v)
}

// advAckLinkPage reads the link without spending it and offers the button.
func (h *Handler) advAckLinkPage(w http.ResponseWriter, r *http.Request) {
	nonce := r.PathValue("nonce")
	v := &advAckView{Page: h.page(r, "advisories.ack_link.title"), Nonce: nonce, State: "confirm"}
	_, _, used, expired, err := h.db.AckLinkState(r.Context(), nonce)
	switch {
	case err != nil:
		h.fail(w, r, err)
		return
	case used:
		v.State = "used"
	case expired:
		v.State = "expired"
	}
	h.advAckRender(w, r, v)
}

// advAckLinkPost spends the link and acknowledges receipt.
func (h *Handler) advAckLinkPost(w http.ResponseWriter, r *http.Request) {
	nonce := r.PathValue("nonce")
	v := &advAckView{Page: h.page(r, "advisories.ack_link.title"), Nonce: nonce, State: "done"}
	d, err := h.advisories.AckByLink(r.Context(), nonce, ClientIP(r))
	switch kyoyu.ErrorMessage(err) {
	case "advisory.ack_link_used":
		v.State = "used"
	case "advisory.ack_link_expired":
		v.State = "expired"
	default:
		if err != nil {
			h.fail(w, r, err)
			return
		}
		v.AdvisoryID = d.AdvisoryID
	}
	h.advAckRender(w, r, v)
}
