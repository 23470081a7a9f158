package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"kyoyu"
	"kyoyu/advisory"
	"kyoyu/report"
	"kyoyu/store"
)

// stix stores the STIX export of a released case version or a published
// advisory version for TAXII (report.Service.MaterialiseCaseSTIX,
// advisory.Service.MaterialiseSTIX). Storing is idempotent, so a
// retried job, or one taken over from a dead worker, changes nothing twice.
func (w *Worker) stix(ctx context.Context, j *store.Job) (string, error) {
	var p store.STIXJob
	if err := json.Unmarshal(j.Payload, &p); err != nil || (p.CaseID == 0) == (p.AdvisoryID == 0) || p.VersionID == 0 {
		return "", Permanent(fmt.Errorf("stix job: bad payload %s", j.Payload))
	}
	what := fmt.Sprintf("case %d version %d", p.CaseID, p.VersionID)
	var n int
	var err error
	if p.AdvisoryID != 0 {
		what = fmt.Sprintf("advisory %d version %d", p.AdvisoryID, p.VersionID)
		n, err = advisory.New(w.DB, w.Cfg).MaterialiseSTIX(ctx, p.AdvisoryID, p.VersionID)
	} else {
		n, err = report.New(w.DB, w.Cfg).MaterialiseCaseSTIX(ctx, p.CaseID, p.VersionID)
	}
	if errors.Is(err, kyoyu.ErrNotFound) {
		return "", drop("%s: %v", what, err)
	}
	if kyoyu.ErrorCode(err) == kyoyu.EINVALID {
		return "", Permanent(err)
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s: %d new objects", what, n), nil
}
