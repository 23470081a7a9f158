package bench

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"kyoyu"
	"kyoyu/account"
	"kyoyu/report"
	"kyoyu/store"
)

// TAXII objects for the paging benchmark are indicators a security
// vendor might contribute: bundles of perBundle indicators, GREEN,
// imported through the reporting service as a NISC analyst, so they are
// stored, recorded and audited as any import is.
const taxiiGreen = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"

// PrepareTAXII imports bundles until those it imports hold at least n
// objects. The bundles are the same on every run (ids from their
// number), so running it again skips what is there and adds the rest.
func PrepareTAXII(ctx context.Context, db *store.DB, cfg kyoyu.Config, email string, n, perBundle int) (stored int, err error) {
	p, err := db.PersonByEmail(ctx, email)
	if err != nil {
		return 0, err
	}
	o, err := db.Organisation(ctx, p.OrganisationID)
	if err != nil {
		return 0, err
	}
	pr := &account.Principal{Person: p, Organisation: o}
	svc := report.New(db, cfg)
	for b := 0; b*perBundle < n; b++ {
		data, err := json.Marshal(taxiiBundle(b, perBundle))
		if err != nil {
			return stored, err
		}
		acc, err := svc.ImportSTIX(ctx, pr, "127.0.0.1", data, report.STIXImportOptions{Source: "cli"})
		if err != nil {
			return stored, fmt.Errorf("bundle %d: %w", b, err)
		}
		stored += acc.Stored
	}
	return stored, nil
}

func benchUUID(s string) string {
	b := sha1.Sum([]byte("kyoyu/bench/" + s))
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func taxiiBundle(b, per int) map[string]any {
	objs := make([]any, 0, per)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(b) * time.Minute).Format("2006-01-02T15:04:05.000Z")
	for i := 0; i < per; i++ {
		k := b*per + i
		objs = append(objs, map[string]any{
			"type": "indicator", "spec_version": "2.1", "id": "indicator--" + benchUUID(fmt.Sprintf("indicator/%d", k)),
			"created": at, "modified": at, "valid_from": at,
			"name":         fmt.Sprintf("C2 server %d", k),
			"description":  "不正アクセスの通信先として観測されたアドレス（負荷試験）",
			"pattern":      fmt.Sprintf("[ipv4-addr:value = '198.%d.%d.%d']", 18+k>>16&1, k>>8&255, k&255),
			"pattern_type": "stix", "indicator_types": []string{"malicious-activity"},
			"object_marking_refs": []string{taxiiGreen},
		})
	}
	return map[string]any{"type": "bundle", "id": "bundle--" + benchUUID(fmt.Sprintf("bundle/%d", b)), "objects": objs}
}

// PagingResult is what walking a collection page by page gave.
type PagingResult struct {
	Walks, Requests, Objects int
	Elapsed                  time.Duration
	Latency                  Stats // per request
}

// TAXIIPaging walks a collection from its first page to its last
// (limit objects a page, following next) walks times, by workers clients
// at once, as one reader with token.
func TAXIIPaging(ctx context.Context, c *http.Client, baseURL, token, collection string, limit, workers, walks int) (*PagingResult, error) {
	res := &PagingResult{}
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for range jobs {
				reqs, objs, ds, err := walk(ctx, c, baseURL, token, collection, limit)
				mu.Lock()
				res.Walks++
				res.Requests += reqs
				res.Objects += objs
				lat = append(lat, ds...)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	for i := 0; i < walks; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Latency = Summarise(lat)
	return res, firstErr
}

func walk(ctx context.Context, c *http.Client, baseURL, token, collection string, limit int) (reqs, objs int, lat []time.Duration, err error) {
	next := ""
	for {
		q := url.Values{"limit": {fmt.Sprint(limit)}}
		if next != "" {
			q.Set("next", next)
		}
		req, err := http.NewRequestWithContext(ctx, "GET", baseURL+"/taxii2/api/collections/"+collection+"/objects/?"+q.Encode(), nil)
		if err != nil {
			return reqs, objs, lat, err
		}
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
		req.Header.Set("Authorization", "Bearer "+token)
		t := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			return reqs, objs, lat, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(t))
		reqs++
		if err != nil {
			return reqs, objs, lat, err
		}
		if resp.StatusCode != http.StatusOK {
			return reqs, objs, lat, fmt.Errorf("page %d: %d %.200s", reqs, resp.StatusCode, body)
		}
		var env struct {
			More    bool              `json:"more"`
			Next    string            `json:"next"`
			Objects []json.RawMessage `json:"objects"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			return reqs, objs, lat, fmt.Errorf("page %d: %w", reqs, err)
		}
		objs += len(env.Objects)
		if !env.More {
			return reqs, objs, lat, nil
		}
		next = env.Next
	}
}
