// Package bench measures Kyoyu at national size: the access-controlled
// case list and Japanese search against the store, report intake and
// read load through the HTTP API from a separate process, the server's
// memory under that load, and its start-up time. It reports figures; it
// never judges them (targets are in docs/PERFORMANCE.md), so nothing here
// fails on a slow machine.
package bench

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Stats summarise repeated timings.
type Stats struct {
	N                                    int
	Min, Median, P95, P99, Max, Mean, SD time.Duration
}

// Summarise computes the order statistics of ds (nearest rank).
func Summarise(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[max(0, min(len(s)-1, i))]
	}
	var sum float64
	for _, d := range s {
		sum += float64(d)
	}
	mean := sum / float64(len(s))
	var sq float64
	for _, d := range s {
		sq += (float64(d) - mean) * (float64(d) - mean)
	}
	return Stats{N: len(s), Min: s[0], Median: rank(0.5), P95: rank(0.95), P99: rank(0.99), Max: s[len(s)-1],
		Mean: time.Duration(mean), SD: time.Duration(math.Sqrt(sq / float64(len(s))))}
}

// ms writes a duration in milliseconds with one decimal.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

// Row formats stats as a Markdown table row after a label.
func (s Stats) Row(label string) string {
	return fmt.Sprintf("| %s | %d | %s | %s | %s | %s | %s |", label, s.N, ms(s.Min), ms(s.Median), ms(s.P95), ms(s.P99), ms(s.Max))
}

// Header is the Markdown table header Row fits under.
const Header = "| scenario | runs | min ms | median ms | p95 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|---:|"
