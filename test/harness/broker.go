package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ReadyTimeout bounds how long Start and Restart wait for the broker to answer.
const ReadyTimeout = 60 * time.Second

// StopTimeout is how long Stop waits after SIGTERM before it sends SIGKILL.
const StopTimeout = 30 * time.Second

// LogFileName is the file in the data directory that receives the broker's
// stdout and stderr (appended to across restarts).
const LogFileName = "broker.log"

// ErrNotRunning is returned by Pid-dependent operations on a stopped broker.
var ErrNotRunning = errors.New("harness: broker process not running")

// Options configure a broker process.
type Options struct {
	// DataDir is the broker's data directory. If empty, Start makes a temporary
	// one and leaves it behind for inspection (StartT uses t.TempDir instead).
	DataDir string
	// Args are appended to the harness's own flags (e.g. "--num-partitions", "3").
	Args []string
	// Env is appended to the inherited environment.
	Env []string
	// Stdout, if set, also receives the broker's stdout and stderr.
	Stdout io.Writer
}

// Broker is one running (or stopped) broker process.
type Broker struct {
	Addr     string // Kafka host:port
	HTTPAddr string // HTTP host:port, empty when the target has none
	DataDir  string
	Cmd      *exec.Cmd

	bin  string
	args []string
	opts Options

	mu      sync.Mutex
	done    chan struct{} // closed when the current process has exited
	exitErr error         // valid after done is closed
	stopped bool          // the current process was stopped/killed by us
	logFile *os.File
}

// StartProcess starts bin with args (used verbatim), waits until kafkaAddr
// answers a Kafka ApiVersions request, and returns the process handle. It
// works for any Kafka-compatible server binary. Output goes to
// DataDir/broker.log (and opts.Stdout).
func StartProcess(ctx context.Context, bin string, args []string, kafkaAddr string, opts Options) (*Broker, error) {
	if opts.DataDir == "" {
		dir, err := os.MkdirTemp("", "harness-data-*")
		if err != nil {
			return nil, fmt.Errorf("harness: temp data dir: %w", err)
		}
		opts.DataDir = dir
	}
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("harness: data dir: %w", err)
	}
	b := &Broker{Addr: kafkaAddr, DataDir: opts.DataDir, bin: bin, args: args, opts: opts}
	if err := b.launch(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// Start starts the broker under test (strata, or kfake when
// STRATA_TEST_TARGET=kfake) on free ports and waits until it is ready.
func Start(ctx context.Context, opts Options) (*Broker, error) {
	if Target() == TargetKfake {
		return StartKfake(ctx, opts)
	}
	bin, err := BuildStrata()
	if err != nil {
		return nil, err
	}
	if opts.DataDir == "" {
		dir, err := os.MkdirTemp("", "strata-data-*")
		if err != nil {
			return nil, fmt.Errorf("harness: temp data dir: %w", err)
		}
		opts.DataDir = dir
	}
	// A free port can be taken by another process between FreePort and the
	// broker's bind (tests run in parallel): retry on fresh ports then.
	for attempt := 1; ; attempt++ {
		b, err := startOnFreePorts(ctx, bin, opts)
		if err == nil || attempt == 3 || !bindRace(err, opts.DataDir) {
			return b, err
		}
	}
}

func startOnFreePorts(ctx context.Context, bin string, opts Options) (*Broker, error) {
	kport, err := FreePort()
	if err != nil {
		return nil, err
	}
	hport, err := FreePort()
	if err != nil {
		return nil, err
	}
	kafka := "127.0.0.1:" + strconv.Itoa(kport)
	httpAddr := "127.0.0.1:" + strconv.Itoa(hport)
	args := []string{"serve",
		"--node-id", "1",
		"--kafka-addr", kafka,
		"--advertise-kafka-addr", kafka,
		"--http-addr", httpAddr,
		"--data-dir", opts.DataDir,
	}
	args = append(args, opts.Args...)
	b := &Broker{Addr: kafka, HTTPAddr: httpAddr, DataDir: opts.DataDir, bin: bin, args: args, opts: opts}
	if err := b.launch(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// bindRace reports whether a failed start was a listener losing its port.
func bindRace(err error, dataDir string) bool {
	if strings.Contains(err.Error(), "address already in use") {
		return true
	}
	log, _ := os.ReadFile(filepath.Join(dataDir, LogFileName))
	tail := log[max(0, len(log)-4096):]
	return strings.Contains(string(tail), "address already in use")
}

// launch starts the process described by b and waits for readiness.
func (b *Broker) launch(ctx context.Context) error {
	logFile, err := os.OpenFile(filepath.Join(b.DataDir, LogFileName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("harness: open log: %w", err)
	}
	fmt.Fprintf(logFile, "=== harness: %s %s (%s)\n", b.bin, strings.Join(b.args, " "), time.Now().Format(time.RFC3339Nano))

	var out io.Writer = logFile
	if b.opts.Stdout != nil {
		out = io.MultiWriter(logFile, b.opts.Stdout)
	}
	cmd := exec.Command(b.bin, b.args...)
	cmd.Env = append(os.Environ(), b.opts.Env...)
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("harness: start %s: %w", b.bin, err)
	}
	done := make(chan struct{})
	b.mu.Lock()
	b.Cmd = cmd
	b.done = done
	b.exitErr = nil
	b.stopped = false
	b.logFile = logFile
	b.mu.Unlock()
	go func() {
		err := cmd.Wait()
		b.mu.Lock()
		b.exitErr = err
		b.mu.Unlock()
		fmt.Fprintf(logFile, "=== harness: process %d exited: %v\n", cmd.Process.Pid, errOrZero(err))
		logFile.Close()
		close(done)
	}()

	if err := waitReady(ctx, b.Addr, b.HTTPAddr, done); err != nil {
		_ = b.Kill()
		return fmt.Errorf("harness: %s not ready at %s: %w\n--- log tail ---\n%s", filepath.Base(b.bin), b.Addr, err, b.LogTail(40))
	}
	return nil
}

func errOrZero(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// Pid is the current process id (of the last started process).
func (b *Broker) Pid() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Cmd == nil || b.Cmd.Process == nil {
		return 0
	}
	return b.Cmd.Process.Pid
}

// Running reports whether the current process has not exited yet.
func (b *Broker) Running() bool {
	b.mu.Lock()
	done := b.done
	b.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL and waits for the process to exit.
func (b *Broker) Kill() error {
	b.mu.Lock()
	cmd, done := b.Cmd, b.done
	b.stopped = true
	b.mu.Unlock()
	if cmd == nil || done == nil {
		return ErrNotRunning
	}
	select {
	case <-done:
		return nil
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("harness: kill %d: %w", cmd.Process.Pid, err)
	}
	<-done
	return nil
}

// Stop sends SIGTERM and waits up to StopTimeout, then SIGKILLs. It returns an
// error if the process did not exit with status 0 by itself. Stopping a
// broker that was already stopped or killed by the harness returns nil; one
// that died on its own returns its exit error.
func (b *Broker) Stop() error {
	b.mu.Lock()
	cmd, done, wasStopped := b.Cmd, b.done, b.stopped
	b.stopped = true
	b.mu.Unlock()
	if cmd == nil || done == nil {
		return ErrNotRunning
	}
	select {
	case <-done:
		if wasStopped {
			return nil
		}
		return b.exitError("exited before Stop")
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("harness: sigterm %d: %w", cmd.Process.Pid, err)
	}
	select {
	case <-done:
		return b.exitError("after SIGTERM")
	case <-time.After(StopTimeout):
		// SIGQUIT first: the Go runtime writes every goroutine's stack to
		// the broker's log, so a hung shutdown can be diagnosed.
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
		}
		saved := filepath.Join(os.TempDir(), fmt.Sprintf("strata-hung-%d.log", cmd.Process.Pid))
		if data, err := os.ReadFile(filepath.Join(b.DataDir, LogFileName)); err == nil {
			_ = os.WriteFile(saved, data, 0o644)
		}
		return fmt.Errorf("harness: pid %d did not exit within %s of SIGTERM; killed (log with goroutine dump: %s)", cmd.Process.Pid, StopTimeout, saved)
	}
}

func (b *Broker) exitError(when string) error {
	b.mu.Lock()
	err := b.exitErr
	b.mu.Unlock()
	if err != nil {
		return fmt.Errorf("harness: broker %s: %w", when, err)
	}
	return nil
}

// Restart starts the broker again with the same binary, data directory, ports
// and arguments. A still-running process is stopped (SIGTERM) first.
func (b *Broker) Restart(ctx context.Context) error {
	if b.Running() {
		if err := b.Stop(); err != nil {
			return fmt.Errorf("harness: stop before restart: %w", err)
		}
	}
	return b.launch(ctx)
}

// LogTail returns the last n lines of the broker's log file.
func (b *Broker) LogTail(n int) string {
	data, err := os.ReadFile(filepath.Join(b.DataDir, LogFileName))
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
