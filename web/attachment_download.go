package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"kyoyu"
)

// attVersionView lists the attachments of one version.
type attVersionView struct {
	Page
	Case  *kyoyu.Case
	Label string
	List  *attachmentsView
}

// attVersionPage lists a version's attachments with their download links;
// a version the person may not see is not found.
func (h *Handler) attVersionPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ids, ok := pathIDs(r, "id", "vid")
	if !ok {
		h.notFound(w, r)
		return
	}
	viewer := viewerOf(r)
	ver, err := h.db.Version(ctx, viewer, ids[1])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if ver.CaseID != ids[0] {
		h.notFound(w, r)
		return
	}
	c, _, err := h.db.Case(ctx, viewer, ver.CaseID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := &attVersionView{Page: h.page(r, "attachments.version_title"), Case: c}
	v.Label = versionLabel(v.Lang, ver)
	if v.List, err = h.attachmentsView(ctx, viewer, ver.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, "attachment_version", v)
}

// attGet downloads an attachment that is not a sample. For a sample it
// shows the confirmation page instead: a sample never leaves raw.
func (h *Handler) attGet(w http.ResponseWriter, r *http.Request) {
	ctx, pr := r.Context(), principal(r)
	ids, ok := pathIDs(r, "id", "aid")
	if !ok {
		h.notFound(w, r)
		return
	}
	a, err := h.db.Attachment(ctx, viewerOf(r), ids[0], ids[1])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if a.IsSample {
		h.attShowOffer(w, r, http.StatusOK, "", "")
		return
	}
	a, err = h.reports.Download(ctx, pr, ClientIP(r), ids[0], ids[1])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// Never the declared type: nothing uploaded is rendered by the browser.
	serveDownload(w, a.Filename, "application/octet-stream", a.Data)
}

// attOfferView is the confirmation page of a sample.
type attOfferView struct {
	Page
	Row      attachmentRow
	CaseID   int64
	Nonce    string
	Password string
}

// attShowOffer shows a sample's warning, its SHA-256 and the password of
// the archive the form below will produce. The page is not cached: the
// password is on it.
func (h *Handler) attShowOffer(w http.ResponseWriter, r *http.Request, status int, errMsg, nonce string) {
	ids, ok := pathIDs(r, "id", "aid")
	if !ok {
		h.notFound(w, r)
		return
	}
	offer, err := h.reports.OfferSample(r.Context(), principal(r), ids[0], ids[1], nonce)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := &attOfferView{Page: h.page(r, "attachments.sample_title"), Row: attachmentRowOf(offer.Attachment), CaseID: ids[0],
		Nonce: offer.Nonce, Password: offer.Password}
	v.Error = errMsg
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	h.render(w, r, status, "attachment_sample", v)
}

// attExport returns a sample inside an AES-256 ZIP archive, once the person
// has ticked that they understand the danger; without it the page is shown
// again with the same password.
func (h *Handler) attExport(w http.ResponseWriter, r *http.Request) {
	ids, ok := pathIDs(r, "id", "aid")
	if !ok {
		h.notFound(w, r)
		return
	}
	nonce := r.PostFormValue("nonce")
	exp, err := h.reports.ExportSample(r.Context(), principal(r), ClientIP(r), ids[0], ids[1], nonce, r.PostFormValue("understood") != "")
	if ke, status, ok := formProblem(err); ok {
		h.attShowOffer(w, r, status, ke.Message, nonce)
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	serveDownload(w, exp.Filename, "application/zip", exp.Archive)
}

// serveDownload sends bytes as a file to save, never to display: an
// attachment disposition, no sniffing, and a sandbox in case a browser
// renders it anyway.
func serveDownload(w http.ResponseWriter, filename, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", contentDisposition(filename))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// contentDisposition is "attachment" with the file name twice (RFC 6266):
// an ASCII stand-in for old clients, and the real name UTF-8 encoded
// (RFC 8187 filename*), which every current browser prefers.
func contentDisposition(name string) string {
	var ascii, ext strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	for _, b := range []byte(name) {
		if b < 0x80 && (b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || strings.IndexByte("!#$&+-.^_`|~", b) >= 0) {
			ext.WriteByte(b)
		} else {
			fmt.Fprintf(&ext, "%%%02X", b)
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + ext.String()
}
