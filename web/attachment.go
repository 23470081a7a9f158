package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/store"
)

// attachmentRoutes registers the attachment pages: a draft's attachments
// (upload, delete, carry on from the received version), a version's
// attachments, downloads, and the deliberate export of samples.
func (h *Handler) attachmentRoutes() {
	m := h.mux
	m.HandleFunc("GET /reports/drafts/{id}/attachments", h.signedIn(h.attDraftPage))
	m.HandleFunc("POST /reports/drafts/{id}/attachments", h.signedIn(h.attUpload))
	m.HandleFunc("POST /reports/drafts/{id}/attachments/{aid}/delete", h.signedIn(h.attDelete))
	m.HandleFunc("POST /reports/drafts/{id}/attachments/{aid}/carry", h.signedIn(h.attCarry))
	m.HandleFunc("GET /cases/{id}/versions/{vid}/attachments", h.signedIn(h.attVersionPage))
	m.HandleFunc("GET /cases/{id}/attachments/{aid}", h.signedIn(h.attGet))
	m.HandleFunc("POST /cases/{id}/attachments/{aid}/download", h.signedIn(h.attExport))
}

// attachmentRow is one attachment as a page lists it. Everything in it is
// text: the name and declared type are shown, never interpreted.
type attachmentRow struct {
	ID          int64
	Filename    string
	ContentType string
	Size        string // readable, e.g. "1.2 MiB"
	Bytes       int64
	SHA256      string
	Sample      bool
	Carried     bool
	TLP         string
	CreatedAt   time.Time
	// Link downloads it, or for a sample opens its confirmation page.
	Link string
	// Version names the version it belongs to (第N報 and who wrote it), for
	// lists that span versions.
	Version string
}

// attachmentsView is what any page needs to show a version's attachments.
// The draft form and the case pages build it with attachmentsView and link
// to ManageLink (a draft of the viewer's organisation) or ListLink.
type attachmentsView struct {
	CaseID    int64
	VersionID int64
	// Has is 別紙有無, derived from the attachments the viewer sees.
	Has  bool
	Rows []attachmentRow
	// Editable is true for a draft of the viewer's organisation.
	Editable   bool
	ManageLink string // /reports/drafts/{id}/attachments, when Editable
	ListLink   string // /cases/{case}/versions/{vid}/attachments
}

// attachmentsView builds the attachments of a version as viewer sees them.
// A version viewer may not see is ErrNotFound, like everywhere else.
func (h *Handler) attachmentsView(ctx context.Context, viewer policy.Viewer, versionID int64) (*attachmentsView, error) {
	ver, err := h.db.Version(ctx, viewer, versionID)
	if err != nil {
		return nil, err
	}
	as, err := h.db.Attachments(ctx, viewer, versionID)
	if err != nil {
		return nil, err
	}
	v := &attachmentsView{CaseID: ver.CaseID, VersionID: ver.ID, Has: len(as) > 0,
		ListLink: fmt.Sprintf("/cases/%d/versions/%d/attachments", ver.CaseID, ver.ID)}
	if ver.Status == kyoyu.VersionDraft && !viewer.Anonymous && ver.OrgID == viewer.OrgID {
		v.Editable = true
		v.ManageLink = fmt.Sprintf("/reports/drafts/%d/attachments", ver.ID)
	}
	for _, a := range as {
		v.Rows = append(v.Rows, attachmentRowOf(a))
	}
	return v, nil
}

func attachmentRowOf(a *store.Attachment) attachmentRow {
	return attachmentRow{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: formatSize(a.Size), Bytes: a.Size,
		SHA256: a.SHA256, Sample: a.IsSample, Carried: a.CarriedFrom != 0, TLP: string(a.TLP), CreatedAt: a.CreatedAt,
		Link: fmt.Sprintf("/cases/%d/attachments/%d", a.CaseID, a.ID)}
}

// versionLabel is "第N報 · 事業者" for a version, in the page's language.
func versionLabel(lang string, ver *kyoyu.ReportVersion) string {
	return fmt.Sprintf(T(lang, "attachments.report_n"), ver.ReportNumber) + " · " + T(lang, "attachments.stage."+string(ver.Stage))
}

// formatSize writes a size in binary units, the way file managers do.
func formatSize(n int64) string {
	unit := func(v float64, u string) string {
		s := strconv.FormatFloat(v, 'f', 1, 64)
		return strings.TrimSuffix(s, ".0") + " " + u
	}
	switch {
	case n >= 1<<30:
		return unit(float64(n)/(1<<30), "GiB")
	case n >= 1<<20:
		return unit(float64(n)/(1<<20), "MiB")
	case n >= 1<<10:
		return unit(float64(n)/(1<<10), "KiB")
	}
	return fmt.Sprintf("%d B", n)
}

// pathIDs reads positive ids from the route; a malformed one is not found.
func pathIDs(r *http.Request, names ...string) ([]int64, bool) {
	out := make([]int64, len(names))
	for i, n := range names {
		id, err := strconv.ParseInt(r.PathValue(n), 10, 64)
		if err != nil || id <= 0 {
			return nil, false
		}
		out[i] = id
	}
	return out, true
}

func viewerOf(r *http.Request) policy.Viewer {
	pr := principal(r)
	return policy.ViewerOf(pr.Person, pr.Organisation)
}
