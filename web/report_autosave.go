package web

import (
	"encoding/json"
	"net/http"
	"time"

	"kyoyu"
)

// rfAutosaveAnswer is what the form's script receives after each autosave.
type rfAutosaveAnswer struct {
	SavedAt  *time.Time        `json:"saved_at,omitempty"`
	Message  string            `json:"message,omitempty"` // for the status line
	Error    string            `json:"error,omitempty"`
	Problems map[string]string `json:"problems"` // field → message, in the page's language
}

// rfAutosave saves the draft as typed, for the form's script (sent a
// few seconds after a change and when the page is hidden). A refusal (too
// long) leaves the last good save in place; the text stays in the browser.
func (h *Handler) rfAutosave(w http.ResponseWriter, r *http.Request) {
	pr, lang := principal(r), language(r)
	id, ok := rfPathID(r)
	if !ok {
		rfWriteAutosave(w, http.StatusNotFound, rfAutosaveAnswer{Error: T(lang, "report_form.autosave_gone")})
		return
	}
	f, unreadable := rfParseForm(r.PostForm)
	problems, err := h.reports.SaveDraft(r.Context(), pr, ClientIP(r), id, f)
	if ke, status, ok := formProblem(err); ok {
		rfWriteAutosave(w, status, rfAutosaveAnswer{Error: T(lang, "report_form.autosave_refused"),
			Problems: rfTranslate(lang, rfMerge(ke.Fields, unreadable))})
		return
	} else if err != nil {
		status, known := errorStatus[kyoyu.ErrorCode(err)]
		msg := T(lang, "report_form.autosave_gone")
		if !known {
			h.log.Error("autosave", "path", r.URL.Path, "err", err)
			status, msg = http.StatusInternalServerError, T(lang, "error.internal")
		}
		rfWriteAutosave(w, status, rfAutosaveAnswer{Error: msg})
		return
	}
	now := time.Now().UTC()
	rfWriteAutosave(w, http.StatusOK, rfAutosaveAnswer{SavedAt: &now,
		Message:  T(lang, "report_form.autosaved") + " " + now.In(kyoyu.JST).Format("15:04"),
		Problems: rfTranslate(lang, rfMerge(problems, unreadable))})
}

func rfTranslate(lang string, problems map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range problems {
		out[k] = T(lang, "field_error."+v)
	}
	return out
}

func rfWriteAutosave(w http.ResponseWriter, status int, a rfAutosaveAnswer) {
	if a.Problems == nil {
		a.Problems = map[string]string{}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(a)
}
