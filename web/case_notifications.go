package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"kyoyu"
)

// caseNotificationLimit is how many of the newest notifications the page lists.
const caseNotificationLimit = 50

type caseNotificationRow struct {
	At   string
	Text string
	Link string
	Case string // the case number, when the notification is about a case
	Read bool
}

type caseNotificationsView struct {
	Page
	Rows []caseNotificationRow
}

// notifications lists the person's newest notifications. The store keeps
// only a locale key and parameters (never the item's content) and lists a
// notification only while its item is visible to the reader.
func (h *Handler) caseNotifications(w http.ResponseWriter, r *http.Request) {
	ns, err := h.db.Notifications(r.Context(), caseViewerOf(r), caseNotificationLimit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := &caseNotificationsView{Page: h.page(r, "notifications.title")}
	numbers := map[int64]string{}
	for _, n := range ns {
		row := caseNotificationRow{At: kyoyu.FormatJST(n.CreatedAt), Text: caseNotificationText(v.Lang, n.Kind, n.Params), Read: n.ReadAt != nil}
		if safeNext(n.Link) {
			row.Link = n.Link
		}
		// A link to a case shows the case's number, read (like the case
		// page) through the sharing rule.
		if id, err := strconv.ParseInt(strings.TrimPrefix(n.Link, "/cases/"), 10, 64); err == nil && strings.HasPrefix(n.Link, "/cases/") {
			number, seen := numbers[id]
			if !seen {
				if c, _, err := h.db.Case(r.Context(), caseViewerOf(r), id); err == nil {
					number = c.CaseNumber
				} else if !errors.Is(err, kyoyu.ErrNotFound) {
					h.fail(w, r, err)
					return
				}
				numbers[id] = number
			}
			row.Case = number
		}
		v.Rows = append(v.Rows, row)
	}
	h.render(w, r, http.StatusOK, "case_notifications", v)
}

// caseNotificationText translates a notification's key and fills in its
// parameters ({report_number} …).
func caseNotificationText(lang, key string, params map[string]string) string {
	s := T(lang, key)
	for k, v := range params {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}
