package main

import (
	"context"
	"os"
	"path/filepath"
	"time"
)

// tierProfileEnv names a directory: when set, the tiering section takes a
// CPU profile of strata during the cold and the warm read pass
// (cold.pprof, warm.pprof there), starting with the pass and lasting
// tierProfileCold / tierProfileWarm (shorter than the passes at the default
// data set, so the profiles hold no idle time).
const (
	tierProfileEnv  = "STRATA_BENCH_TIER_PROFILE_DIR"
	tierProfileCold = 2 * time.Second
	tierProfileWarm = time.Second
)

// profilePass starts the CPU profile of one read pass if asked for; the
// returned func waits until it is written.
func (e *tieringEnv) profilePass(ctx context.Context, httpAddr string, cold bool) func() {
	dir := os.Getenv(tierProfileEnv)
	if dir == "" || httpAddr == "" {
		return func() {}
	}
	name, d := "warm.pprof", tierProfileWarm
	if cold {
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
