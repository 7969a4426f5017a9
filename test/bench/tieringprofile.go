package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime/trace"
	"strings"
	"time"
)

// tierProfileEnv names a directory: when set, the tiering section takes a
// CPU profile of strata during the cold and the warm raw read pass
// (cold.pprof, warm.pprof there), starting with the pass and lasting
// tierProfileCold / tierProfileWarm (shorter than the passes at the default
// data set, so the profiles hold no idle time).
const (
	tierProfileEnv  = "STRATA_BENCH_TIER_PROFILE_DIR"
	tierProfileCold = 2 * time.Second
	tierProfileWarm = time.Second
)

// profilePass starts the CPU profile of the named read pass if asked for
// (only "cold" and "warm" are profiled); the returned func waits until it
// is written.
func (e *tieringEnv) profilePass(ctx context.Context, httpAddr, pass string) func() {
	dir := os.Getenv(tierProfileEnv)
	if dir == "" || httpAddr == "" || (pass != "cold" && pass != "warm") {
		return func() {}
	}
	name, d := "warm.pprof", tierProfileWarm
	if pass == "cold" {
		name, d = "cold.pprof", tierProfileCold
	}
	path := filepath.Join(dir, name)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := fetchProfile(ctx, httpAddr, d, path); err != nil {
			e.o.Log.Warn("tiering: profile", "path", path, "err", err)
			return
		}
		e.o.Log.Info("tiering: profile written", "path", path)
	}()
	return func() { <-done }
}

// traceLatency takes an execution trace of strata (latency.trace) over
// the first latency phase with a cold reader (and of the bench process
// over both), when
// tierProfileEnv is set; `go tool trace -pprof=sched` shows where
// goroutines waited to run.
func (e *tieringEnv) traceLatency(ctx context.Context, httpAddr string) func() {
	dir := os.Getenv(tierProfileEnv)
	if dir == "" || httpAddr == "" {
		return func() {}
	}
	path := filepath.Join(dir, "latency.trace")
	d := e.o.Load.LatencyDur
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := fetchDebug(ctx, httpAddr, "trace", d, path); err != nil {
			e.o.Log.Warn("tiering: trace", "path", path, "err", err)
		}
	}()
	// The bench process (the producer) too, over the same phase.
	cpath := filepath.Join(dir, "latency-client.trace")
	f, err := os.Create(cpath)
	if err == nil {
		err = trace.Start(f)
	}
	if err != nil {
		e.o.Log.Warn("tiering: client trace", "path", cpath, "err", err)
		return func() { <-done }
	}
	return func() {
		<-done
		trace.Stop()
		f.Close()
	}
}

// remoteDiag are strata's cold-read metrics logged (as deltas) after each
// read pass with -v, to tell where a slow pass spent its time.
var remoteDiag = []string{
	"strata_remote_chunk_cache_hits_total",
	"strata_remote_chunk_cache_misses_total",
	"strata_remote_chunk_memory_hits_total",
	"strata_remote_read_ahead_chunks_total",
	"strata_remote_chunk_cache_write_drops_total",
	"strata_remote_chunk_cache_write_skips_total",
	"strata_remote_get_duration_seconds_sum",
	"strata_remote_get_duration_seconds_count",
	"strata_remote_read_pool_wait_seconds_sum",
	"strata_remote_served_bytes_total",
}

// scrapeDiag reads remoteDiag (missing metrics read as 0).
func scrapeDiag(ctx context.Context, httpAddr string) []float64 {
	out := make([]float64, len(remoteDiag))
	for i, n := range remoteDiag {
		out[i], _ = scrapeCounter(ctx, httpAddr, n)
	}
	return out
}

// logDiag logs the change of remoteDiag between two scrapes.
func (e *tieringEnv) logDiag(pass string, before, after []float64) {
	args := []any{"pass", pass}
	for i, n := range remoteDiag {
		args = append(args, strings.TrimPrefix(n, "strata_remote_"), after[i]-before[i])
	}
	e.o.Log.Info("tiering: cold-read metrics", args...)
}
