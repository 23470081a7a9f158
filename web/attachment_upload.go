package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"kyoyu"
	"kyoyu/report"
)

// formBodyLimit bounds an ordinary form; uploadOverhead is what a
// multipart upload carries besides its file (boundaries, the form token).
const (
	formBodyLimit  = 1 << 20
	uploadOverhead = 64 << 10
	uploadMemory   = 32 << 20 // larger uploads spill to temporary files
)

// uploadDraft returns the draft id when r posts a file to a draft's
// attachments. The middleware asks before the router has read the path.
func uploadDraft(r *http.Request) (string, bool) {
	p := r.URL.Path
	if r.Method != http.MethodPost || !strings.HasPrefix(p, "/reports/drafts/") || !strings.HasSuffix(p, "/attachments") ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return "", false
	}
	id := strings.TrimSuffix(strings.TrimPrefix(p, "/reports/drafts/"), "/attachments")
	_, err := strconv.ParseInt(id, 10, 64)
	return id, err == nil
}

func isUpload(r *http.Request) bool {
	_, ok := uploadDraft(r)
	return ok
}

// bodyLimit is the largest request body the middleware reads: a small
// form, or for an upload one attachment up to the configured limit.
func (h *Handler) bodyLimit(r *http.Request) int64 {
	if isUpload(r) {
		return h.cfg.AttachmentLimit + uploadOverhead
	}
	if isImportUpload(r) { // imports.go
		return importLimit + uploadOverhead
	}
	return formBodyLimit
}

// uploadTooLarge reads an upload's body before the form token is checked
// and, when it is over the limit, answers 413 with the limit named, so the
// person learns why rather than seeing a stale-form error. Nothing is kept.
func (h *Handler) uploadTooLarge(w http.ResponseWriter, r *http.Request) bool {
	if h.importTooLarge(w, r) { // imports.go
		return true
	}
	id, ok := uploadDraft(r)
	if !ok {
		return false
	}
	var tooBig *http.MaxBytesError
	if err := r.ParseMultipartForm(uploadMemory); !errors.As(err, &tooBig) {
		return false
	}
	msg := h.tooLargeMessage(r)
	if principal(r) == nil {
		p := h.page(r, "error.title")
		p.Error = msg
		h.render(w, r, http.StatusRequestEntityTooLarge, "error", &p)
		return true
	}
	r.SetPathValue("id", id)
	h.attShowDraft(w, r, http.StatusRequestEntityTooLarge, msg)
	return true
}

func (h *Handler) tooLargeMessage(r *http.Request) string {
	return fmt.Sprintf(T(language(r), "attachments.too_large"), formatSize(h.cfg.AttachmentLimit))
}

// attDraftView is the attachments page of a draft: what it carries, the
// upload form, and what it may carry on from the versions it received.
type attDraftView struct {
	Page
	Case      *kyoyu.Case
	Version   *kyoyu.ReportVersion
	Label     string // 第N報 · who writes it
	List      *attachmentsView
	Choices   []attachmentRow
	Limit     string
	Forwarder bool // a hop that received the report: carrying on is its choice
	Sample    bool // the sample box as ticked, when the page is shown again
}

func (h *Handler) attDraftPage(w http.ResponseWriter, r *http.Request) {
	h.attShowDraft(w, r, http.StatusOK, "")
}

// attShowDraft shows the attachments page of a draft of the person's
// organisation; any other version is not found.
func (h *Handler) attShowDraft(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	ctx, pr := r.Context(), principal(r)
	ids, ok := pathIDs(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	viewer := viewerOf(r)
	ver, err := h.db.Version(ctx, viewer, ids[0])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if ver.Status != kyoyu.VersionDraft || ver.OrgID != pr.Organisation.ID {
		h.notFound(w, r)
		return
	}
	c, _, err := h.db.Case(ctx, viewer, ver.CaseID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := &attDraftView{Page: h.page(r, "attachments.draft_title"), Case: c, Version: ver, Limit: formatSize(h.cfg.AttachmentLimit),
		Forwarder: ver.Stage != kyoyu.StageOperator && c.Route != kyoyu.RouteMinistryOrigin}
	v.Label = versionLabel(v.Lang, ver)
	v.Error = errMsg
	if r.Method == http.MethodPost && r.MultipartForm != nil {
		v.Sample = r.PostFormValue("is_sample") != ""
	}
	if v.List, err = h.attachmentsView(ctx, viewer, ver.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	choices, err := h.reports.CarryChoices(ctx, pr, ver.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(choices) > 0 {
		vers, err := h.db.Versions(ctx, viewer, ver.CaseID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		labels := map[int64]string{}
		for _, x := range vers {
			labels[x.ID] = versionLabel(v.Lang, x)
		}
		for _, a := range choices {
			row := attachmentRowOf(a)
			row.Version = labels[a.VersionID]
			v.Choices = append(v.Choices, row)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, status, "attachment_draft", v)
}

// attUpload attaches the posted file to the draft. Over the limit (413)
// or empty (422), the page says so and nothing is kept.
func (h *Handler) attUpload(w http.ResponseWriter, r *http.Request) {
	ctx, pr := r.Context(), principal(r)
	ids, ok := pathIDs(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		h.attShowDraft(w, r, http.StatusUnprocessableEntity, "attachments.no_file")
		return
	}
	defer file.Close()
	if hdr.Size > h.cfg.AttachmentLimit {
		h.attShowDraft(w, r, http.StatusRequestEntityTooLarge, h.tooLargeMessage(r))
		return
	}
	data, err := io.ReadAll(io.LimitReader(file, h.cfg.AttachmentLimit+1))
	if err != nil {
		h.fail(w, r, fmt.Errorf("read upload: %w", err))
		return
	}
	up := report.Upload{Filename: hdr.Filename, ContentType: hdr.Header.Get("Content-Type"), Sample: r.PostFormValue("is_sample") != "", Data: data}
	_, err = h.reports.AddAttachment(ctx, pr, ClientIP(r), ids[0], up)
	switch kyoyu.ErrorCode(err) {
	case "":
		http.Redirect(w, r, fmt.Sprintf("/reports/drafts/%d/attachments?flash=attachments.uploaded", ids[0]), http.StatusSeeOther)
	case kyoyu.ETOOLARGE:
		h.attShowDraft(w, r, http.StatusRequestEntityTooLarge, h.tooLargeMessage(r))
	case kyoyu.EINVALID:
		h.attShowDraft(w, r, http.StatusUnprocessableEntity, kyoyu.ErrorMessage(err))
	default:
		h.fail(w, r, err)
	}
}

// attDelete removes an attachment from the draft.
func (h *Handler) attDelete(w http.ResponseWriter, r *http.Request) {
	ids, ok := pathIDs(r, "id", "aid")
	if !ok {
		h.notFound(w, r)
		return
	}
	if err := h.reports.DeleteAttachment(r.Context(), principal(r), ClientIP(r), ids[0], ids[1]); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/reports/drafts/%d/attachments?flash=attachments.deleted", ids[0]), http.StatusSeeOther)
}

// attCarry copies an attachment the person sees (of the version received)
// onto the draft: nothing travels on unless the next hop chooses it.
func (h *Handler) attCarry(w http.ResponseWriter, r *http.Request) {
	ids, ok := pathIDs(r, "id", "aid")
	if !ok {
		h.notFound(w, r)
		return
	}
	if _, err := h.reports.CarryAttachment(r.Context(), principal(r), ClientIP(r), ids[0], ids[1]); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/reports/drafts/%d/attachments?flash=attachments.carried", ids[0]), http.StatusSeeOther)
}
