package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/report"
	"kyoyu/store"
)

// maxBody bounds every request body; forms are far smaller, so anything
// bigger is a mistake or an attack.
const maxBody = 1 << 20

func viewer(r *http.Request) policy.Viewer {
	pr := principal(r)
	return policy.ViewerOf(pr.Person, pr.Organisation)
}

// fail writes err; everything answered 404 gets the same body, so a
// refusal never tells a hidden object from a missing one.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := kyoyu.ErrorCode(err)
	if errorStatus[code] == http.StatusNotFound {
		writeError(w, r, kyoyu.ErrNotFound)
		return
	}
	if _, ok := errorStatus[code]; !ok {
		h.log.ErrorContext(r.Context(), "api", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, r, err)
		return
	}
	// writeError reads Fields from the error itself, not from its chain.
	var ke *kyoyu.Error
	if errors.As(err, &ke) {
		err = ke
	}
	writeError(w, r, err)
}

func invalid(message string, fields map[string]string) error {
	return &kyoyu.Error{Code: kyoyu.EINVALID, Message: message, Fields: fields}
}

// pathID reads a numeric path value; a malformed id is as absent as an
// unknown one.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%s %q: %w", name, r.PathValue(name), kyoyu.ErrNotFound)
	}
	return id, nil
}

var unknownField = regexp.MustCompile(`unknown (?:field|name) "?([^" ]+)"?`)

// decodeJSON reads a JSON body into dst: JSON only, at most maxBody bytes,
// no unknown fields, nothing after the value.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &kyoyu.Error{Code: kyoyu.EUNSUPPORTED, Message: "the request body must be application/json"}
	}
	if cs, ok := params["charset"]; ok && cs != "utf-8" && cs != "UTF-8" {
		return &kyoyu.Error{Code: kyoyu.EUNSUPPORTED, Message: "the request body must be UTF-8"}
	}
	if r.ContentLength > maxBody {
		return &kyoyu.Error{Code: kyoyu.ETOOLARGE, Message: "the request body is over 1 MiB"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			var mbe *http.MaxBytesError
			if errors.As(terr, &mbe) {
				return &kyoyu.Error{Code: kyoyu.ETOOLARGE, Message: "the request body is over 1 MiB"}
			}
			return invalid("the body holds more than one JSON value", map[string]string{"body": "trailing_data"})
		}
		return nil
	}
	var mbe *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return &kyoyu.Error{Code: kyoyu.ETOOLARGE, Message: "the request body is over 1 MiB"}
	case errors.Is(err, io.EOF):
		return invalid("the body is empty", map[string]string{"body": "required"})
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("malformed JSON: "+err.Error(), map[string]string{"body": "malformed"})
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return invalid(fmt.Sprintf("%s: want %s, got %s", field, typ.Type, typ.Value), map[string]string{field: "wrong_type"})
	}
	if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
		return invalid("unknown field "+m[1], map[string]string{m[1]: "unknown_field"})
	}
	var te *time.ParseError
	if errors.As(err, &te) {
		return invalid("times must be RFC 3339, e.g. 2026-11-20T09:30:00+09:00", map[string]string{"body": "invalid_time"})
	}
	// Anything else is a value the body's types refuse.
	return invalid("invalid value: "+err.Error(), map[string]string{"body": "invalid"})
}

// checkCodes refuses classification values the document does not list:
// the API's contract is its schema, so a draft saved through it holds only
// known codes (or nothing yet). Everything else waits for submission.
func (h *Handler) checkCodes(ctx context.Context, version string, f kyoyu.ReportForm) error {
	if version == "" {
		version = report.ClassificationVersion
	}
	cs, err := h.db.Classifications(ctx, version)
	if err != nil {
		return err
	}
	codes := map[string][]string{}
	for _, c := range cs {
		codes[c.Kind] = append(codes[c.Kind], c.Code)
	}
	p := map[string]string{}
	one := func(field, kind, v string) {
		if v != "" && !slices.Contains(codes[kind], v) {
			p[field] = "invalid_choice"
		}
	}
	one("tlp", "tlp", f.TLP)
	one("importance", "importance", f.Importance)
	one("event_class", "event_class", f.EventClass)
	one("system_status", "system_status", f.SystemStatus)
	one("outlook", "outlook", f.Outlook)
	one("press", "press", f.Press)
	for _, c := range f.Causes {
		if c == "" {
			p["causes"] = "invalid_choice"
		}
		one("causes", "cause", c)
	}
	if len(p) > 0 {
		return invalid("report.invalid", p)
	}
	return nil
}

// cleanForm gives a form's lists as arrays, as the document promises.
func cleanForm(f *kyoyu.ReportForm) {
	f.Causes, f.Timeline = nonNil(f.Causes), nonNil(f.Timeline)
	f.ConcernedSectors, f.Recipients, f.Excluded = nonNil(f.ConcernedSectors), nonNil(f.Recipients), nonNil(f.Excluded)
}

func versionOut(v *kyoyu.ReportVersion) *kyoyu.ReportVersion {
	cleanForm(&v.Form)
	return v
}

// caseOut hides the originating organisation of an anonymised case from
// whoever may not know its source: on the CEPTOAR route the originator is
// the operator itself, and its id would name it.
func caseOut(c *kyoyu.Case, seeSource bool) *kyoyu.Case {
	if c.Anonymised && !seeSource {
		c.OriginatorOrgID = 0
	}
	return c
}

// listedCase applies caseOut to a case read by a list, which carries no
// decision: the store gives the operator's id only to those entitled to
// the source, and an anonymised case always has one.
func listedCase(c *kyoyu.Case) *kyoyu.Case { return caseOut(c, c.OperatorOrgID != 0) }

// StartRequest opens a case (POST /api/v1/reports).
type StartRequest struct {
	Route         kyoyu.Route      `json:"route"`
	OperatorOrgID int64            `json:"operator_org_id,omitempty"`
	OperatorName  string           `json:"operator_name,omitempty"`
	Channel       string           `json:"channel,omitempty"`
	TakenBy       string           `json:"taken_by,omitempty"`
	Form          kyoyu.ReportForm `json:"form"`
}

// InboxEntry is a version with its case, for the draft and incoming lists.
type InboxEntry struct {
	Case    *kyoyu.Case          `json:"case"`
	Version *kyoyu.ReportVersion `json:"version"`
}

func inbox(entries []store.InboxEntry) []InboxEntry {
	out := make([]InboxEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, InboxEntry{Case: listedCase(e.Case), Version: versionOut(e.Version)})
	}
	return out
}

func (h *Handler) startReport(w http.ResponseWriter, r *http.Request) {
	var in StartRequest
	if err := decodeJSON(w, r, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	if err := h.checkCodes(ctx, report.ClassificationVersion, in.Form); err != nil {
		h.fail(w, r, err)
		return
	}
	c, draft, err := h.reports.Start(ctx, principal(r), clientIP(r), report.StartInput{Route: in.Route, OperatorOrgID: in.OperatorOrgID,
		OperatorName: in.OperatorName, Channel: in.Channel, TakenBy: in.TakenBy, Form: in.Form})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// Read both back as the caller sees them (the operator's name or label).
	v := viewer(r)
	c, d, err := h.db.Case(ctx, v, c.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if draft, err = h.db.Version(ctx, v, draft.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"case": caseOut(c, d.SeeSource), "draft": versionOut(draft)})
}

func (h *Handler) drafts(w http.ResponseWriter, r *http.Request) {
	entries, err := h.db.Drafts(r.Context(), viewer(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"drafts": inbox(entries)})
}

func (h *Handler) incoming(w http.ResponseWriter, r *http.Request) {
	entries, err := h.db.Incoming(r.Context(), viewer(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"incoming": inbox(entries)})
}

// SaveResult answers a saved draft: when, and what a submission would
// still refuse (field → problem key).
type SaveResult struct {
	SavedAt  time.Time         `json:"saved_at"`
	Problems map[string]string `json:"problems"`
}

func (h *Handler) saveDraft(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "vid")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var f kyoyu.ReportForm
	if err := decodeJSON(w, r, &f); err != nil {
		h.fail(w, r, err)
		return
	}
	ctx, v := r.Context(), viewer(r)
	// The stored draft says which classifications its codes come from.
	ver, err := h.db.Version(ctx, v, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.checkCodes(ctx, ver.Form.ClassificationVersion, f); err != nil {
		h.fail(w, r, err)
		return
	}
	problems, err := h.reports.SaveDraft(ctx, principal(r), clientIP(r), id, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if ver, err = h.db.Version(ctx, v, id); err != nil {
		h.fail(w, r, err)
		return
	}
	if problems == nil {
		problems = map[string]string{}
	}
	writeJSON(w, http.StatusOK, SaveResult{SavedAt: ver.UpdatedAt, Problems: problems})
}

// SubmitResult answers a submission: the version as sent and, once NISC
// received the report, the case number (識別番号).
type SubmitResult struct {
	Version    *kyoyu.ReportVersion `json:"version"`
	CaseNumber string               `json:"case_number,omitempty"`
}

func (h *Handler) submit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "vid")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	_, number, err := h.reports.Submit(ctx, principal(r), clientIP(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ver, err := h.db.Version(ctx, viewer(r), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, SubmitResult{Version: versionOut(ver), CaseNumber: number})
}

// newDraft answers the draft a take-up or a follow-up created, read back
// as the caller sees it.
func (h *Handler) newDraft(w http.ResponseWriter, r *http.Request, draft *kyoyu.ReportVersion, err error) {
	if err == nil {
		draft, err = h.db.Version(r.Context(), viewer(r), draft.ID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"draft": versionOut(draft)})
}

func (h *Handler) takeUp(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "vid")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	draft, err := h.reports.TakeUp(r.Context(), principal(r), clientIP(r), id)
	h.newDraft(w, r, draft, err)
}

func (h *Handler) followUp(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	draft, err := h.reports.FollowUp(r.Context(), principal(r), clientIP(r), id)
	h.newDraft(w, r, draft, err)
}

func (h *Handler) notifications(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ns, err := h.db.Notifications(r.Context(), viewer(r), limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for i := range ns {
		if ns[i].Params == nil {
			ns[i].Params = map[string]string{}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"notifications": nonNil(ns)})
}

// limitParam reads ?limit=, 1 to 200, 50 by default.
func limitParam(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 200 {
		return 0, invalid("limit must be 1 to 200", map[string]string{"limit": "out_of_range"})
	}
	return n, nil
}
