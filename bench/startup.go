package bench

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"syscall"
	"time"
)

// Startup starts the server (exe with args, e.g. kyoyu serve --db …) runs
// times and times each start until baseURL/readyz answers 200; it also
// reads the server's RSS once ready (KiB, the largest of the runs).
func Startup(ctx context.Context, exe string, args []string, baseURL string, runs int) (Stats, int64, error) {
	var ds []time.Duration
	var rssMax int64
	c := &http.Client{Timeout: time.Second}
	for range runs {
		cmd := exec.CommandContext(ctx, exe, args...)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return Stats{}, 0, err
		}
		ready := false
		for time.Since(start) < 5*time.Minute {
			resp, err := c.Get(baseURL + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ready = true
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		d := time.Since(start)
		if rss, _, err := ProcessMemory(cmd.Process.Pid); err == nil {
			rssMax = max(rssMax, rss)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if !ready {
			return Stats{}, 0, fmt.Errorf("the server did not become ready within five minutes")
		}
		ds = append(ds, d)
	}
	return Summarise(ds), rssMax, nil
}
