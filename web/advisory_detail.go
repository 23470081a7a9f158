package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"kyoyu"
	"kyoyu/advisory"
	"kyoyu/policy"
	"kyoyu/store"
)

// advMessage is one message of an inquiry thread.
type advMessage struct {
	From, At, Body string
	FromNISC       bool
}

// advThread is NISC's view of one ministry's inquiries, with its reply form.
type advThread struct {
	MinistryID int64
	Ministry   string
	Messages   []advMessage
}

// advOrgGroup is the operators of one sector a ministry may pass an
// advisory to directly.
type advOrgGroup struct {
	Sector    string
	Operators []advOption
}

// advCount is one answer of the feedback with how many gave it.
type advCount struct {
	Label string
	N     int
}

type advDetailView struct {
	Page
	A     *kyoyu.Advisory
	Sheet *advSheet
	In    advInput
	// The issuer's tools.
	Issuer      bool
	OpenDraft   bool  // never published: the sheet shows the draft
	FollowUp    int64 // the open follow-up draft, if one is being written
	CanFollowUp bool
	CanReply    bool
	Threads     []advThread
	// A receiving organisation's.
	Received    bool
	DeliveredAt string
	AckedAt     string
	AckVia      string // a locale key
	Answers     []advBox
	// Passing it on.
	ForwardMinistry bool
	ForwardMembers  bool
	OperatorGroups  []advOrgGroup
	NarrowTLPs      []advBox
	// A ministry's inquiries.
	Ministry bool
	CanAsk   bool
	Thread   []advMessage
	// Feedback counts, for the issuer and the reporters of its sources.
	Counts []advCount
}

// advDetail shows an advisory as the person may see it, with what their
// organisation may do with it.
func (h *Handler) advDetail(w http.ResponseWriter, r *http.Request) {
	a, ok := h.advOpen(w, r)
	if !ok {
		return
	}
	h.advShowDetail(w, r, http.StatusOK, a, url.Values{}, nil, "")
}

// advShowDetail builds the page; after a refused action it shows it again
// with what was typed (values, under the form's prefix) and the problems.
func (h *Handler) advShowDetail(w http.ResponseWriter, r *http.Request, status int, a *kyoyu.Advisory,
	values url.Values, problems map[string]string, msg string) {
	ctx, pr := r.Context(), principal(r)
	if problems == nil {
		problems = map[string]string{}
	}
	v := &advDetailView{Page: h.page(r, "advisories.detail_title"), A: a}
	v.Error = msg
	v.In = advInput{lang: v.Lang, Values: values, Problems: problems}
	names := h.advOrgNames(ctx, v.Lang)
	var err error
	v.Issuer = a.IssuerOrgID == pr.Organisation.ID
	if v.FollowUp, err = h.advFollowUpDraft(ctx, pr, a); err != nil {
		h.fail(w, r, err)
		return
	}
	if v.OpenDraft, err = h.advOpenDraft(ctx, pr, a); err != nil {
		h.fail(w, r, err)
		return
	}
	if v.Sheet, err = h.newAdvSheet(ctx, v.Lang, a, v.OpenDraft); err != nil {
		h.fail(w, r, err)
		return
	}
	v.CanFollowUp = v.Issuer && advDrafter(pr) && a.Status == "published" && v.FollowUp == 0
	v.CanReply = v.Issuer && advDrafter(pr)

	d, err := h.db.DeliveryTo(ctx, a.ID, pr.Organisation.ID)
	if err != nil && !errors.Is(err, kyoyu.ErrNotFound) {
		h.fail(w, r, err)
		return
	}
	if d != nil && err == nil {
		v.Received = true
		v.DeliveredAt = kyoyu.FormatJST(d.DeliveredAt)
		if d.AcknowledgedAt != nil {
			v.AckedAt = kyoyu.FormatJST(*d.AcknowledgedAt)
			v.AckVia = "advisories.via." + d.AckVia
		}
		for _, ans := range advisory.FeedbackAnswers {
			v.Answers = append(v.Answers, advBox{Code: ans, Label: T(v.Lang, "advisories.answer."+ans), Checked: v.In.Has("feedback.answer", ans)})
		}
		role := pr.Person.Role
		v.ForwardMinistry = d.Stage == "ministry" && role == kyoyu.RoleMinistryLiaison
		v.ForwardMembers = d.Stage == "ceptoar" && role == kyoyu.RoleCEPTOARSecretariat
		if v.ForwardMinistry || v.ForwardMembers {
			for _, t := range advTLPs {
				if t != a.TLP && !policy.Widens(policy.TLP(a.TLP), policy.TLP(t)) {
					v.NarrowTLPs = append(v.NarrowTLPs, advBox{Code: t, Label: T(v.Lang, "advisories.tlp."+t), Checked: v.In.Has("forward.tlp", t)})
				}
			}
		}
		if v.ForwardMinistry {
			if v.OperatorGroups, err = h.advOperatorGroups(r, a); err != nil {
				h.fail(w, r, err)
				return
			}
		}
	}

	// Inquiries: the service gives NISC every thread, a ministry its own.
	msgs, err := h.advisories.Threads(ctx, pr, a.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	nisc := func(m store.InquiryMessage) bool { return m.FromOrgID == a.IssuerOrgID }
	row := func(m store.InquiryMessage) advMessage {
		return advMessage{From: names.name(m.FromOrgID), At: kyoyu.FormatJST(m.CreatedAt), Body: m.Body, FromNISC: nisc(m)}
	}
	switch {
	case v.Issuer:
		for _, m := range msgs {
			if n := len(v.Threads); n == 0 || v.Threads[n-1].MinistryID != m.MinistryID {
				v.Threads = append(v.Threads, advThread{MinistryID: m.MinistryID, Ministry: names.name(m.MinistryID)})
			}
			t := &v.Threads[len(v.Threads)-1]
			t.Messages = append(t.Messages, row(m))
		}
	case pr.Organisation.Has(kyoyu.KindMinistry):
		v.Ministry = true
		v.CanAsk = pr.Person.Role == kyoyu.RoleMinistryLiaison
		for _, m := range msgs {
			v.Thread = append(v.Thread, row(m))
		}
	}

	fb, err := h.advisories.Feedback(ctx, pr, a.ID)
	if err != nil && !errors.Is(err, kyoyu.ErrNotFound) {
		h.fail(w, r, err)
		return
	}
	if err == nil && fb != nil {
		for _, ans := range advisory.FeedbackAnswers {
			v.Counts = append(v.Counts, advCount{Label: T(v.Lang, "advisories.answer."+ans), N: fb.Counts[ans]})
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, status, "advisory_detail", v)
}

// advOperatorGroups are the registered operators of the sectors the
// ministry received the advisory for. The service refuses any outside the
// range; the list only saves typing.
func (h *Handler) advOperatorGroups(r *http.Request, a *kyoyu.Advisory) ([]advOrgGroup, error) {
	ctx, pr := r.Context(), principal(r)
	lang := language(r)
	secNames, err := h.advSectorNames(ctx, lang)
	if err != nil {
		return nil, err
	}
	var sectors []string
	for _, p := range a.Form.Recipients {
		if p.MinistryID == pr.Organisation.ID && slices.Contains(pr.Organisation.Sectors, p.Sector) && !slices.Contains(sectors, p.Sector) {
			sectors = append(sectors, p.Sector)
		}
	}
	var out []advOrgGroup
	for _, s := range sectors {
		ops, err := h.db.Organisations(ctx, store.OrganisationFilter{Kind: kyoyu.KindOperator, Sector: s})
		if err != nil {
			return nil, err
		}
		g := advOrgGroup{Sector: secNames[s]}
		for _, o := range ops {
			g.Operators = append(g.Operators, advOption{Value: strconv.FormatInt(o.ID, 10), Label: o.Name(lang)})
		}
		out = append(out, g)
	}
	return out, nil
}
