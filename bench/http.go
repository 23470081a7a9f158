package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Client is an HTTP client for loopback load: enough idle connections
// that every worker keeps its own.
func Client(workers int) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConns: workers * 2, MaxIdleConnsPerHost: workers * 2}}
}

// LoadResult is what a bounded run of requests did.
type LoadResult struct {
	Done, Failed int
	Elapsed      time.Duration
	Latency      Stats
	FirstError   string
	// RSS of the server process (KiB), when its pid was given: the
	// largest sampled during the run and the kernel's high-water mark.
	RSSMaxKiB, HWMKiB int64
}

// PerSecond is the rate of successful operations.
func (r *LoadResult) PerSecond() float64 { return float64(r.Done) / r.Elapsed.Seconds() }

// run calls op from workers goroutines until count operations were made
// or limit has passed, whichever is first, sampling the RSS of pid.
func run(ctx context.Context, workers, count int, limit time.Duration, pid int, op func(ctx context.Context, worker, i int) error) *LoadResult {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	res := &LoadResult{}
	var mu sync.Mutex
	var lat []time.Duration
	next := 0
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next >= count || ctx.Err() != nil {
			return 0, false
		}
		next++
		return next - 1, true
	}
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		if pid <= 0 {
			return
		}
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, _, err := ProcessMemory(pid); err == nil && rss > res.RSSMaxKiB {
				res.RSSMaxKiB = rss
			}
			select {
			case <-stopSampling:
				return
			case <-t.C:
			}
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i, ok := take()
				if !ok {
					return
				}
				t0 := time.Now()
				err := op(ctx, w, i)
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					if ctx.Err() == nil {
						res.Failed++
						if res.FirstError == "" {
							res.FirstError = err.Error()
						}
					}
				} else {
					res.Done++
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	close(stopSampling)
	<-sampled
	if pid > 0 {
		_, res.HWMKiB, _ = ProcessMemory(pid)
	}
	res.Latency = Summarise(lat)
	return res
}

// call sends one request and decodes a JSON answer into out (if not nil);
// any status but want is an error naming the status and body.
func call(ctx context.Context, c *http.Client, method, url, token string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, strings.TrimSpace(string(b[:min(len(b), 300)])))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Intake submits count reports through the API as a ministry liaison
// (token): each is POST /api/v1/reports (a ministry's own report, the
// route that reaches NISC in one submission) then POST …/submit, which
// numbers the case, notifies and audits. One operation is both requests.
func Intake(ctx context.Context, c *http.Client, baseURL, token string, workers, count int, limit time.Duration, pid int) *LoadResult {
	return run(ctx, workers, count, limit, pid, func(ctx context.Context, w, i int) error {
		start := map[string]any{
			"route": "ministry_origin", "operator_name": fmt.Sprintf("負荷試験事業者%d", i%500), "channel": "phone", "taken_by": "負荷 試験",
			"form": map[string]any{
				"tlp": []string{"amber", "green", "red", "white"}[i%4], "importance": "advisory", "event_class": "intrusion",
				"causes": []string{"vulnerability"}, "sector": "electricity", "affected_system": "VPN装置",
				"description":   fmt.Sprintf("負荷試験%d：VPN装置の脆弱性を突いた不正アクセスにより、保守用セグメントへの侵入を確認した。", i),
				"system_status": "partial", "outlook": "completed", "press": "none",
				"timeline": []map[string]string{{"at": "09:10", "event": "不審なログインを検知"}},
			},
		}
		var started struct {
			Draft struct {
				ID int64 `json:"id"`
			} `json:"draft"`
		}
		if err := call(ctx, c, "POST", baseURL+"/api/v1/reports", token, start, http.StatusCreated, &started); err != nil {
			return err
		}
		var submitted struct {
			CaseNumber string `json:"case_number"`
		}
		if err := call(ctx, c, "POST", fmt.Sprintf("%s/api/v1/reports/drafts/%d/submit", baseURL, started.Draft.ID), token, map[string]any{},
			http.StatusOK, &submitted); err != nil {
			return err
		}
		if submitted.CaseNumber == "" {
			return fmt.Errorf("submission %d was not numbered", i)
		}
		return nil
	})
}

// Reads are the GETs of the read load: list pages with filters and
// searches, as the UI and API clients make them.
var Reads = []string{
	"/api/v1/cases?sector=finance&limit=50",
	"/api/v1/cases?q=%E4%BE%B5%E5%85%A5&limit=50", // 侵入
	"/api/v1/cases?limit=50",
	"/api/v1/cases?sector=electricity&limit=50",
	"/api/v1/cases?q=%E3%83%A9%E3%83%B3%E3%82%B5%E3%83%A0%E3%82%A6%E3%82%A7%E3%82%A2&limit=50", // ランサムウェア
	"/api/v1/cases?event_class=intrusion&limit=50",
}

// ReadLoad sends the Reads round-robin, each worker as one of tokens in
// turn, until count requests or limit.
func ReadLoad(ctx context.Context, c *http.Client, baseURL string, tokens []string, workers, count int, limit time.Duration, pid int) *LoadResult {
	return run(ctx, workers, count, limit, pid, func(ctx context.Context, w, i int) error {
		return call(ctx, c, "GET", baseURL+Reads[i%len(Reads)], tokens[(i/len(Reads))%len(tokens)], nil, http.StatusOK, nil)
	})
}

// ProcessMemory reads a process's resident set and its high-water mark
// (KiB) from /proc.
func ProcessMemory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm, nil
}
