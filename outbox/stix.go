package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"kyoyu"
	"kyoyu/report"
	"kyoyu/store"
)

// stix stores the STIX export of a released case version for TAXII
// (report.Service.MaterialiseCaseSTIX). Storing is idempotent, so a
// retried job, or one taken over from a dead worker, changes nothing twice.
func (w *Worker) stix(ctx context.Context, j *store.Job) (string, error) {
	var p store.STIXJob
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.CaseID == 0 || p.VersionID == 0 {
		return "", Permanent(fmt.Errorf("stix job: bad payload %s", j.Payload))
	}
	n, err := report.New(w.DB, w.Cfg).MaterialiseCaseSTIX(ctx, p.CaseID, p.VersionID)
	if errors.Is(err, kyoyu.ErrNotFound) {
		return "", drop("case %d version %d: %v", p.CaseID, p.VersionID, err)
	}
	if kyoyu.ErrorCode(err) == kyoyu.EINVALID {
		return "", Permanent(err)
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("case %d version %d: %d new objects", p.CaseID, p.VersionID, n), nil
}
