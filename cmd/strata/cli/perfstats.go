package cli

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// maxLatencySamples bounds the latency samples kept for percentiles; as in
// kafka-producer-perf-test, every k-th record is sampled so that at most this
// many are kept.
const maxLatencySamples = 500_000

const mib = 1024 * 1024

// perfStats accumulates acknowledged produce records and their latencies.
type perfStats struct {
	mu       sync.Mutex
	start    time.Time
	count    int64
	bytes    int64
	totalLat time.Duration
	maxLat   time.Duration
	samples  []time.Duration
	sampling int64

	window windowStats
}

type windowStats struct {
	start    time.Time
	count    int64
	bytes    int64
	totalLat time.Duration
	maxLat   time.Duration
}

func newPerfStats(numRecords int64, now time.Time) *perfStats {
	sampling := numRecords / maxLatencySamples
	if sampling < 1 {
		sampling = 1
	}
	return &perfStats{start: now, sampling: sampling, window: windowStats{start: now},
		samples: make([]time.Duration, 0, min(numRecords, maxLatencySamples)+1)}
}

// record notes one acknowledged record; iter is its send index.
func (s *perfStats) record(iter int64, lat time.Duration, size int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	s.bytes += int64(size)
	s.totalLat += lat
	s.maxLat = max(s.maxLat, lat)
	if iter%s.sampling == 0 {
		s.samples = append(s.samples, lat)
	}
	w := &s.window
	w.count++
	w.bytes += int64(size)
	w.totalLat += lat
	w.maxLat = max(w.maxLat, lat)
}

// progress returns a line for the window since the last call and starts a new one.
func (s *perfStats) progress(now time.Time) string {
	s.mu.Lock()
	w := s.window
	s.window = windowStats{start: now}
	s.mu.Unlock()
	secs := now.Sub(w.start).Seconds()
	return fmt.Sprintf("%d records sent, %.1f records/sec (%.2f MB/s), %.2f ms avg latency, %.2f ms max latency.",
		w.count, rate(float64(w.count), secs), rate(float64(w.bytes)/mib, secs), avgMs(w.totalLat, w.count), ms(w.maxLat))
}

// perfReport is the final result of a produce perf run.
type perfReport struct {
	Records       int64   `json:"records"`
	Bytes         int64   `json:"bytes"`
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	AvgLatencyMs  float64 `json:"avg_latency_ms"`
	MaxLatencyMs  float64 `json:"max_latency_ms"`
	P50Ms         float64 `json:"p50_ms"`
	P95Ms         float64 `json:"p95_ms"`
	P99Ms         float64 `json:"p99_ms"`
	P999Ms        float64 `json:"p999_ms"`
	Errors        int64   `json:"errors"`
}

func (s *perfStats) report(end time.Time) perfReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	secs := end.Sub(s.start).Seconds()
	sorted := slices.Clone(s.samples)
	slices.Sort(sorted)
	return perfReport{
		Records: s.count, Bytes: s.bytes, Seconds: secs,
		RecordsPerSec: rate(float64(s.count), secs), MBPerSec: rate(float64(s.bytes)/mib, secs),
		AvgLatencyMs: avgMs(s.totalLat, s.count), MaxLatencyMs: ms(s.maxLat),
		P50Ms: ms(percentile(sorted, 0.5)), P95Ms: ms(percentile(sorted, 0.95)),
		P99Ms: ms(percentile(sorted, 0.99)), P999Ms: ms(percentile(sorted, 0.999)),
	}
}

func (r perfReport) String() string {
	return fmt.Sprintf("%d records sent, %.1f records/sec (%.2f MB/s), %.2f ms avg latency, %.2f ms max latency, %.2f ms p50, %.2f ms p95, %.2f ms p99, %.2f ms p999.",
		r.Records, r.RecordsPerSec, r.MBPerSec, r.AvgLatencyMs, r.MaxLatencyMs, r.P50Ms, r.P95Ms, r.P99Ms, r.P999Ms)
}

// percentile returns the q-quantile (0..1) of sorted, by nearest rank.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)))
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func rate(n, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return n / secs
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func avgMs(total time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return ms(total) / float64(n)
}
