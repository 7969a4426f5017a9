package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/strata-io/strata/test/harness"
)

// startStrata starts `strata serve` (built by the harness, or STRATA_BIN)
// with its data directory under root.
func startStrata(ctx context.Context, root string) (*harness.Broker, target, error) {
	// harness.Start runs kfake instead when STRATA_TEST_TARGET=kfake; the
	// bench always wants the real thing here.
	if err := os.Unsetenv("STRATA_TEST_TARGET"); err != nil {
		return nil, target{}, fmt.Errorf("unset STRATA_TEST_TARGET: %w", err)
	}
	dir := filepath.Join(root, "strata")
	// harness.Start (unlike StartProcess) does not create a given DataDir.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, target{}, fmt.Errorf("strata data dir: %w", err)
	}
	b, err := harness.Start(ctx, harness.Options{DataDir: dir})
	if err != nil {
		return nil, target{}, fmt.Errorf("start strata: %w", err)
	}
	return b, target{Name: "strata", Addr: b.Addr, HTTPAddr: b.HTTPAddr, Pid: b.Pid()}, nil
}

// startKfake starts the kfakeserver reference broker in memory-only mode
// (no -data-dir, so it never touches the disk) with 16-partition defaults.
// Its DataDir under root only holds its log file.
func startKfake(ctx context.Context, root string, partitions int32) (*harness.Broker, target, error) {
	bin, err := harness.BuildKfakeServer()
	if err != nil {
		return nil, target{}, fmt.Errorf("build kfakeserver: %w", err)
	}
	port, err := harness.FreePort()
	if err != nil {
		return nil, target{}, fmt.Errorf("free port: %w", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"-addr", addr, "-partitions", strconv.Itoa(int(partitions))}
	b, err := harness.StartProcess(ctx, bin, args, addr, harness.Options{DataDir: filepath.Join(root, "kfake")})
	if err != nil {
		return nil, target{}, fmt.Errorf("start kfake: %w", err)
	}
	return b, target{Name: "kfake", Addr: b.Addr, Pid: b.Pid()}, nil
}
