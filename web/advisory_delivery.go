package web

import (
	"fmt"
	"net/http"
	"time"

	"kyoyu"
)

// advSilentRow is an organisation that has not acknowledged yet.
type advSilentRow struct {
	Org         string
	DeliveredAt string
	Reminded    string
}

// advStageRow is one stage of the cascade as the dashboard shows it.
type advStageRow struct {
	Stage        string // the stage code, for ids
	Label        string // a locale key
	Delivered    int
	Acknowledged int
	Rate         string // 疎通確認率, "75%"
	Median       string
	Silent       []advSilentRow
}

// advAnswerRow is one organisation's feedback.
type advAnswerRow struct {
	Org, Answer, Comment, At string
}

type advDeliveryView struct {
	Page
	A       *kyoyu.Advisory
	Stages  []advStageRow
	Answers []advAnswerRow
}

// advDelivery is the issuer's dashboard: per stage of the cascade the
// confirmation rate, the median time to acknowledge and who is still
// silent, then the feedback. The service answers "not found" to anyone
// but the issuer.
func (h *Handler) advDelivery(w http.ResponseWriter, r *http.Request) {
	a, ok := h.advOpen(w, r)
	if !ok {
		return
	}
	ctx, pr := r.Context(), principal(r)
	rates, err := h.advisories.Rates(ctx, pr, a.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	fb, err := h.advisories.Feedback(ctx, pr, a.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := &advDeliveryView{Page: h.page(r, "advisories.delivery_title"), A: a}
	names := h.advOrgNames(ctx, v.Lang)
	for _, s := range rates {
		row := advStageRow{Stage: s.Stage, Label: "advisories.stage." + s.Stage, Delivered: s.Delivered, Acknowledged: s.Acknowledged}
		if s.Delivered > 0 {
			row.Rate = fmt.Sprintf("%.0f%%", s.Rate*100)
		}
		if s.Acknowledged > 0 {
			row.Median = advDuration(v.Lang, s.MedianAck)
		}
		for _, d := range s.Silent {
			sr := advSilentRow{Org: names.name(d.OrgID), DeliveredAt: kyoyu.FormatJST(d.DeliveredAt)}
			if d.RemindedAt != nil {
				sr.Reminded = kyoyu.FormatJST(*d.RemindedAt)
			}
			row.Silent = append(row.Silent, sr)
		}
		v.Stages = append(v.Stages, row)
	}
	for _, f := range fb.Answers {
		v.Answers = append(v.Answers, advAnswerRow{Org: names.name(f.OrgID), Answer: T(v.Lang, "advisories.answer."+f.Answer),
			Comment: f.Comment, At: kyoyu.FormatJST(f.CreatedAt)})
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, "advisory_delivery", v)
}

// advDuration says how long acknowledging took, to the minute.
func advDuration(lang string, d time.Duration) string {
	m := int(d / time.Minute)
	switch {
	case m < 1:
		return T(lang, "advisories.dur.under_minute")
	case m < 60:
		return advSprintf(lang, "advisories.dur.minutes", m)
	case m < 24*60:
		return advSprintf(lang, "advisories.dur.hours", m/60, m%60)
	}
	return advSprintf(lang, "advisories.dur.days", m/(24*60), m%(24*60)/60)
}
