package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kyoyu"
	"kyoyu/advisory"
)

// The actions on an advisory's page. Each goes through the advisory
// service, which decides who may do what; a refusal about the input shows
// the page again with the problem at the form's field, anything else
// answers like the error it is (404 for what the person may not do).

// advDone sends the person back to the advisory with a message.
func advDone(w http.ResponseWriter, r *http.Request, id int64, flash, anchor string) {
	http.Redirect(w, r, fmt.Sprintf("/advisories/%d?flash=%s%s", id, flash, anchor), http.StatusSeeOther)
}

// advRefused shows the page again after a refused action: the service's
// field problems under the form's prefix, with what was typed.
func (h *Handler) advRefused(w http.ResponseWriter, r *http.Request, a *kyoyu.Advisory, err error, prefix string, typed url.Values) {
	ke, status, ok := formProblem(err)
	if !ok {
		h.fail(w, r, err)
		return
	}
	problems := map[string]string{}
	for k, v := range ke.Fields {
		problems[prefix+k] = v
	}
	msg := "advisories.action_refused"
	if len(ke.Fields) == 0 {
		msg = ke.Message
	}
	h.advShowDetail(w, r, status, a, typed, problems, msg)
}

// advAck acknowledges receipt for the person's organisation (one click).
func (h *Handler) advAck(w http.ResponseWriter, r *http.Request) {
	a, ok := h.advOpen(w, r)
	if !ok {
		return
	}
	if _, err := h.advisories.Acknowledge(r.Context(), principal(r), ClientIP(r), a.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	advDone(w, r, a.ID, "advisories.acknowledged", "")
}

// advFeedback records the organisation's answer to the advisory.
func (h *Handler) advFeedback(w http.ResponseWriter, r *http.Request) {
	a, ok := h.advOpen(w, r)
	if !ok {
		return
	}
	answer, comment := strings.TrimSpace(r.PostFormValue("answer")), strings.TrimSpace(r.PostFormValue("comment"))
	err := h.advisories.GiveFeedback(r.Context(), principal(r), ClientIP(r), a.ID, answer, comment)
	if err != nil {
		h.advRefused(w, r, a, err, "feedback.", url.Values{"feedback.answer": {answer}, "feedback.comment": {comment}})
		return
	}
	advDone(w, r, a.ID, "advisories.feedback_sent", "#feedback")
}

// advForward passes the advisory one hop down: a ministry to every CEPTOAR
// of its sectors or to chosen operators, a secretariat to its members;
// the range may be narrowed on the way.
func (h *Handler) advForward(w http.ResponseWriter, r *http.Request) {
	a, ok := h.advOpen(w, r)
	if !ok {
		return
	}
	in := advisory.ForwardInput{TLP: strings.TrimSpace(r.PostFormValue("tlp"))}
	typed := url.Values{"forward.tlp": {in.TLP}}
	switch r.PostFormValue("to") {
	case "ceptoars":
		in.AllCEPTOARs = true
	case "members":
		in.AllMembers = true
	case "operators":
		for _, s := range r.PostForm["operators"] {
			id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil || id <= 0 {
				h.advShowDetail(w, r, http.StatusUnprocessableEntity, a, typed, map[string]string{"forward.targets": "invalid_choice"}, "advisories.action_refused")
				return
			}
			in.Operators = append(in.Operators, id)
			typed.Add("forward.operators", s)
		}
	default:
		h.notFound(w, r)
		return
	}
	if _, err := h.advisories.Forward(r.Context(), principal(r), ClientIP(r), a.ID, in); err != nil {
		h.advRefused(w, r, a, err, "forward.", typed)
		return
	}
	advDone(w, r, a.ID, "advisories.forwarded", "")
}

// advAsk adds the ministry's question to its inquiry thread.
func (h *Handler) advAsk(w http.ResponseWriter, r *http.Request) {
	a, ok := h.advOpen(w, r)
	if !ok {
		return
	}
	body := r.PostFormValue("body")
	if _, err := h.advisories.Ask(r.Context(), principal(r), ClientIP(r), a.ID, body); err != nil {
		h.advRefused(w, r, a, err, "ask.", url.Values{"ask.body": {body}})
		return
	}
	advDone(w, r, a.ID, "advisories.asked", "#inquiries")
}

// advReply adds NISC's answer to one ministry's thread.
func (h *Handler) advReply(w http.ResponseWriter, r *http.Request) {
	a, ok := h.advOpen(w, r)
	if !ok {
		return
	}
	mid, ok := advPathID(r, "ministry")
	if !ok {
		h.notFound(w, r)
		return
	}
	body := r.PostFormValue("body")
	if _, err := h.advisories.Reply(r.Context(), principal(r), ClientIP(r), a.ID, mid, body); err != nil {
		prefix := fmt.Sprintf("reply.%d.", mid)
		h.advRefused(w, r, a, err, prefix, url.Values{prefix + "body": {body}})
		return
	}
	advDone(w, r, a.ID, "advisories.replied", "#inquiries")
}

// advFollowUp opens the next report (第N報) and goes to its form.
func (h *Handler) advFollowUp(w http.ResponseWriter, r *http.Request) {
	a, ok := h.advOpen(w, r)
	if !ok {
		return
	}
	vid, _, err := h.advisories.FollowUp(r.Context(), principal(r), ClientIP(r), a.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/advisories/drafts/%d", vid), http.StatusSeeOther)
}
