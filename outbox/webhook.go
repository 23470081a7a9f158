package outbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"kyoyu"
	"kyoyu/policy"
	"kyoyu/store"
)

// WebhookBody is what an endpoint receives: the event and a link, never an
// item's content (whatever its range). Delivery repeats X-Kyoyu-Delivery
// inside the signed body.
type WebhookBody struct {
	Event      string    `json:"event"`
	Link       string    `json:"link"`
	OccurredAt time.Time `json:"occurred_at"`
	Delivery   int64     `json:"delivery"`
}

// Sign is the X-Kyoyu-Signature of a body: "sha256=" and the hex HMAC-SHA256
// of the exact bytes under the endpoint's secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// webhook posts an event to an organisation's endpoint, if the
// organisation may still see the item. A 2xx answer is delivery; 408, 429,
// 5xx, timeouts and network errors are retried; any other answer (a 4xx, a
// redirect) is permanent.
func (w *Worker) webhook(ctx context.Context, j *store.Job) (string, error) {
	var p store.WebhookJob
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.WebhookID == 0 {
		return "", Permanent(fmt.Errorf("webhook job payload %s: %v", j.Payload, err))
	}
	hook, err := w.DB.Webhook(ctx, p.WebhookID)
	if errors.Is(err, kyoyu.ErrNotFound) {
		return "", drop("webhook %d no longer exists", p.WebhookID)
	} else if err != nil {
		return "", err
	}
	if !hook.Active {
		return "", drop("webhook %d is inactive", hook.ID)
	}
	secret := hook.Secret
	if secret == "" {
		secret = w.Cfg.WebhookSecret
	}
	if secret == "" {
		return "", Permanent(fmt.Errorf("webhook %d has no secret and no --webhook-secret is set: deliveries would be unsigned", hook.ID))
	}
	if p.ItemID != 0 {
		org, err := w.DB.Organisation(ctx, hook.OrgID)
		if err != nil {
			return "", err
		}
		// An endpoint speaks for the organisation's incident handlers (関係者).
		v := policy.Viewer{OrgID: org.ID, Kinds: org.Kinds, Sectors: org.Sectors, CEPTOARs: org.CEPTOARs, NeedToKnow: true}
		if _, err := w.DB.ItemAccess(ctx, v, p.ItemID); errors.Is(err, kyoyu.ErrNotFound) {
			return "", drop("organisation %d may no longer see item %d (its sharing range changed)", org.ID, p.ItemID)
		} else if err != nil {
			return "", err
		}
	}
	body, err := json.Marshal(WebhookBody{Event: p.Event, Link: w.Cfg.BaseURL + p.Link, OccurredAt: p.OccurredAt.UTC(), Delivery: j.ID})
	if err != nil {
		return "", Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return "", Permanent(fmt.Errorf("webhook %d: %w", hook.ID, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Kyoyu-Webhook/1")
	req.Header.Set("X-Kyoyu-Event", p.Event)
	req.Header.Set("X-Kyoyu-Delivery", fmt.Sprint(j.ID))
	req.Header.Set("X-Kyoyu-Signature", Sign(secret, body))
	resp, err := w.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("webhook %d: %w", hook.ID, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	status := fmt.Sprintf("HTTP %d", resp.StatusCode)
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return status, nil
	case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests, c >= 500:
		return "", fmt.Errorf("webhook %d: %s", hook.ID, status)
	default:
		return "", Permanent(fmt.Errorf("webhook %d: %s", hook.ID, status))
	}
}
