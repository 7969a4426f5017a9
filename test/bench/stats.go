package main

import (
	"slices"
	"sync/atomic"
	"time"
)

// latencies collects per-record latencies from concurrent producer
// callbacks into a preallocated slice, so recording never allocates or locks.
type latencies struct {
	buf     []time.Duration
	n       atomic.Int64
	dropped atomic.Int64
}

func newLatencies(capacity int) *latencies {
	return &latencies{buf: make([]time.Duration, capacity)}
}

// add records one latency; samples beyond the capacity are counted as
// dropped rather than grown into, to keep the hot path allocation-free.
func (l *latencies) add(d time.Duration) {
	i := l.n.Add(1) - 1
	if i >= int64(len(l.buf)) {
		l.dropped.Add(1)
		return
	}
	l.buf[i] = d
}

// sorted returns the recorded samples in ascending order. Call it only after
// every producer callback has run.
func (l *latencies) sorted() []time.Duration {
	n := min(l.n.Load(), int64(len(l.buf)))
	s := slices.Clone(l.buf[:n])
	slices.Sort(s)
	return s
}

// percentile returns the nearest-rank q-quantile (0 < q <= 1) of sorted
// samples, or 0 for no samples.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted))+0.999999999) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

// mbps converts bytes over a duration into MB/s (1 MB = 10^6 bytes).
func mbps(bytes int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(bytes) / 1e6 / d.Seconds()
}
