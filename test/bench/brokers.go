package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

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

// strataProc is a strata process on fixed ports, so it can be stopped and
// started again with other flags (a new cache directory, say) on the same
// data directory and address: the address stays what the embedded
// metastore has registered for the broker.
type strataProc struct {
	DataDir  string
	Addr     string // Kafka listener
	HTTPAddr string
	Env      []string

	b *harness.Broker
}

// newStrataProc picks free ports for a strata process with its data under
// dataDir; Start launches it.
func newStrataProc(dataDir string, env []string) (*strataProc, error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("strata data dir: %w", err)
	}
	kport, err := harness.FreePort()
	if err != nil {
		return nil, err
	}
	hport, err := harness.FreePort()
	if err != nil {
		return nil, err
	}
	return &strataProc{
		DataDir:  dataDir,
		Addr:     "127.0.0.1:" + strconv.Itoa(kport),
		HTTPAddr: "127.0.0.1:" + strconv.Itoa(hport),
		Env:      env,
	}, nil
}

// Start runs `strata serve` with extra flags appended to the fixed ones and
// waits until it answers. A running process is stopped first.
func (p *strataProc) Start(ctx context.Context, extra ...string) error {
	if p.b != nil && p.b.Running() {
		if err := p.Stop(); err != nil {
			return err
		}
	}
	bin, err := harness.BuildStrata()
	if err != nil {
		return fmt.Errorf("build strata: %w", err)
	}
	args := append([]string{"serve",
		"--node-id", "1",
		"--kafka-addr", p.Addr,
		"--advertise-kafka-addr", p.Addr,
		"--http-addr", p.HTTPAddr,
		"--data-dir", p.DataDir,
	}, extra...)
	b, err := harness.StartProcess(ctx, bin, args, p.Addr, harness.Options{DataDir: p.DataDir, Env: p.Env})
	if err != nil {
		return fmt.Errorf("start strata: %w", err)
	}
	p.b = b
	return nil
}

// Stop stops the process (SIGTERM, which also uploads active segments).
func (p *strataProc) Stop() error {
	if p.b == nil {
		return nil
	}
	b := p.b
	p.b = nil
	if err := b.Stop(); err != nil {
		return fmt.Errorf("stop strata: %w\n%s", err, b.LogTail(20))
	}
	return nil
}

// LogTail is the end of the broker's log (kept across restarts), for
// error notes.
func (p *strataProc) LogTail(n int) string {
	data, err := os.ReadFile(filepath.Join(p.DataDir, harness.LogFileName))
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
