package taxii

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"kyoyu"
	"kyoyu/report"
	"kyoyu/stix"
	"kyoyu/store"
)

// Status is a TAXII status resource (§4.3).
type Status struct {
	ID               string          `json:"id"`
	Status           string          `json:"status"` // complete: imports are done before the answer
	RequestTimestamp string          `json:"request_timestamp,omitempty"`
	TotalCount       int             `json:"total_count"`
	SuccessCount     int             `json:"success_count"`
	Successes        []StatusDetails `json:"successes,omitempty"`
	FailureCount     int             `json:"failure_count"`
	Failures         []StatusDetails `json:"failures,omitempty"`
	PendingCount     int             `json:"pending_count"`
	Pendings         []StatusDetails `json:"pendings,omitempty"`
}

// StatusDetails is one object's line of a status (§4.3.1).
type StatusDetails struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// bundleID names the bundle an organisation's TAXII posts are imported
// as: one per organisation, so an object it posts again is recognised as
// already shared (report.Service.ImportSTIX skips it) instead of stored twice.
func bundleID(orgID int64) string {
	sum := sha1.Sum([]byte(fmt.Sprintf("kyoyu/taxii/contributions/%d", orgID)))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("bundle--%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// posted is what the status reads of each posted object.
type posted struct {
	ID       string `json:"id"`
	Created  string `json:"created"`
	Modified string `json:"modified"`
}

func (p posted) version() string {
	if p.Modified != "" {
		return p.Modified
	}
	return p.Created
}

// addObjects is POST {root}/collections/{id}/objects/ (§5.5): the
// envelope is imported as one bundle (report.Service.ImportSTIX, source
// "taxii") under the range its TLP markings give — never an assumed one —
// and answered 202 with its status, complete at once.
func (h *Handler) addObjects(w http.ResponseWriter, r *http.Request) {
	c, err := h.find(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pr := principal(r)
	if !c.CanWrite {
		// The collection is listed to the person, so refusing the write
		// tells nothing new (TAXII's answer is 403).
		writeError(w, http.StatusForbidden, "forbidden", "you may not add objects to this collection")
		return
	}
	if !contentTypeOK(r.Header.Get("Content-Type")) {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported media type", "send a TAXII envelope as "+MediaType)
		return
	}
	if r.ContentLength > maxContent {
		writeError(w, http.StatusRequestEntityTooLarge, "too large", "the envelope is over max_content_length")
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxContent))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeError(w, http.StatusRequestEntityTooLarge, "too large", "the envelope is over max_content_length")
		return
	} else if err != nil {
		writeError(w, http.StatusBadRequest, "bad request", "the body could not be read")
		return
	}
	var env struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(data, &env); err != nil || len(env.Objects) == 0 {
		writeError(w, http.StatusBadRequest, "bad request", "the body must be a TAXII envelope with objects")
		return
	}
	heads := make([]posted, len(env.Objects))
	for i, raw := range env.Objects {
		_ = json.Unmarshal(raw, &heads[i])
	}
	bundle, err := json.Marshal(map[string]any{"type": "bundle", "id": bundleID(pr.Organisation.ID), "objects": env.Objects})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	st := Status{ID: newUUID(), Status: "complete", RequestTimestamp: h.db.Now().UTC().Format(dateAdded), TotalCount: len(heads)}
	acc, err := h.reports.ImportSTIX(r.Context(), pr, clientIP(r), bundle, report.STIXImportOptions{Source: "taxii",
		Limits: stix.Limits{MaxBytes: maxContent + 1024, MaxObjects: stix.DefaultLimits.MaxObjects}})
	var ke *kyoyu.Error
	switch {
	case err == nil:
		outcome := map[string]stix.ObjectOutcome{}
		for _, o := range acc.Objects {
			outcome[strconv.Itoa(o.Index)] = o
		}
		for i, p := range heads {
			d := StatusDetails{ID: p.ID, Version: p.version()}
			if o, ok := outcome[strconv.Itoa(i)]; ok && o.Outcome != "stored" {
				d.Message = o.Note
			}
			st.Successes = append(st.Successes, d)
		}
		st.SuccessCount = len(st.Successes)
	case errors.As(err, &ke) && ke.Code == kyoyu.EINVALID:
		// Refused whole: every object failed, each told why.
		for _, p := range heads {
			st.Failures = append(st.Failures, StatusDetails{ID: p.ID, Version: p.version(), Message: refusal(err, ke, p.ID)})
		}
		st.FailureCount = len(st.Failures)
	default:
		h.fail(w, r, err)
		return
	}
	body, err := json.Marshal(st)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var itemID int64
	if acc != nil {
		itemID = acc.ItemID
	}
	if err := h.db.SaveTAXIIStatus(r.Context(), pr.Actor(clientIP(r)), &store.TAXIIStatus{ID: st.ID, PersonID: pr.Person.ID, ItemID: itemID, Body: body}); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, st)
}

// refusal is why a refused bundle failed for one object: its own
// problem when it has one, else the refusal's first.
func refusal(err error, ke *kyoyu.Error, id string) string {
	for _, p := range stix.Problems(err) {
		if p.ID == id {
			return "refused, nothing imported: " + p.String()
		}
	}
	return ke.Message
}

// status is GET {root}/status/{status-id}/ (§4.3): its poster's alone.
func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	s, err := h.db.TAXIIStatusOf(r.Context(), r.PathValue("sid"), principal(r).Person.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", MediaType)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Kyoyu-Status-Created", s.CreatedAt.Format(time.RFC3339))
	w.WriteHeader(http.StatusOK)
	w.Write(s.Body)
}
