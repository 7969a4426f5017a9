package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ErrEtcdMissing is returned when no etcd server binary is installed.
var ErrEtcdMissing = errors.New("harness: etcd binary not found (install the Debian package etcd-server, or set ETCD_BIN)")

// EtcdBinary finds the etcd server: $ETCD_BIN if set (used as is), else
// $REPO/tools/bin/etcd, else etcd on $PATH.
func EtcdBinary() (string, error) { return findTool("ETCD_BIN", "etcd", ErrEtcdMissing) }

// EtcdCluster is a multi-member etcd cluster of real processes on loopback.
// Members are indexed from 0.
type EtcdCluster struct {
	Dir     string // holds one directory per member (data and etcd.log)
	bin     string
	members []*etcdMember
}

type etcdMember struct {
	name      string
	dir       string
	clientURL string
	peerURL   string
	args      []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartEtcdCluster starts members etcd processes that form one cluster, with
// data under dir, and waits until every member reports healthy. A port taken
// between picking and binding makes it retry with fresh ports (and a fresh
// subdirectory of dir).
func StartEtcdCluster(ctx context.Context, dir string, members int) (*EtcdCluster, error) {
	if members < 1 {
		return nil, fmt.Errorf("harness: etcd cluster of %d members", members)
	}
	bin, err := EtcdBinary()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := range 3 {
		c, err := tryStartEtcdCluster(ctx, bin, filepath.Join(dir, "etcd-"+strconv.Itoa(attempt)), members)
		if err == nil {
			return c, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func tryStartEtcdCluster(ctx context.Context, bin, dir string, n int) (*EtcdCluster, error) {
	c := &EtcdCluster{Dir: dir, bin: bin}
	var initial []string
	for i := range n {
		cp, err := FreePort()
		if err != nil {
			return nil, err
		}
		pp, err := FreePort()
		if err != nil {
			return nil, err
		}
		m := &etcdMember{
			name:      "m" + strconv.Itoa(i),
			dir:       filepath.Join(dir, "m"+strconv.Itoa(i)),
			clientURL: "http://127.0.0.1:" + strconv.Itoa(cp),
			peerURL:   "http://127.0.0.1:" + strconv.Itoa(pp),
		}
		initial = append(initial, m.name+"="+m.peerURL)
		c.members = append(c.members, m)
	}
	for _, m := range c.members {
		m.args = []string{
			"--name", m.name,
			"--data-dir", filepath.Join(m.dir, "data"),
			"--listen-client-urls", m.clientURL,
			"--advertise-client-urls", m.clientURL,
			"--listen-peer-urls", m.peerURL,
			"--initial-advertise-peer-urls", m.peerURL,
			"--initial-cluster", strings.Join(initial, ","),
			"--initial-cluster-state", "new",
			"--initial-cluster-token", "strata-" + filepath.Base(filepath.Dir(dir)) + "-" + filepath.Base(dir),
		}
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return nil, fmt.Errorf("harness: etcd member dir: %w", err)
		}
		if err := c.launch(m); err != nil {
			c.killAll()
			return nil, err
		}
	}
	// The members need each other for quorum: wait after starting them all.
	for i := range c.members {
		if err := c.WaitHealthy(ctx, i); err != nil {
			c.killAll()
			return nil, err
		}
	}
	return c, nil
}

func (c *EtcdCluster) launch(m *etcdMember) error {
	logFile, err := os.OpenFile(filepath.Join(m.dir, "etcd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("harness: etcd log: %w", err)
	}
	fmt.Fprintf(logFile, "=== harness: %s %s (%s)\n", c.bin, strings.Join(m.args, " "), time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(c.bin, m.args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("harness: start %s: %w", c.bin, err)
	}
	done := make(chan struct{})
	m.mu.Lock()
	m.cmd, m.done = cmd, done
	m.mu.Unlock()
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(logFile, "=== harness: etcd %d exited: %v\n", cmd.Process.Pid, errOrZero(err))
		logFile.Close()
		close(done)
	}()
	return nil
}

// Members is the number of members.
func (c *EtcdCluster) Members() int { return len(c.members) }

// Endpoints are the members' client host:port addresses.
func (c *EtcdCluster) Endpoints() []string {
	out := make([]string, len(c.members))
	for i, m := range c.members {
		out[i] = strings.TrimPrefix(m.clientURL, "http://")
	}
	return out
}

// Spec is the --metastore value for this cluster under prefix:
// "etcd://h:p,h:p,h:p/prefix".
func (c *EtcdCluster) Spec(prefix string) string {
	return "etcd://" + strings.Join(c.Endpoints(), ",") + "/" + strings.Trim(prefix, "/")
}

func (c *EtcdCluster) member(i int) (*etcdMember, error) {
	if i < 0 || i >= len(c.members) {
		return nil, fmt.Errorf("harness: etcd member %d of %d", i, len(c.members))
	}
	return c.members[i], nil
}

// Running reports whether member i's process is alive (paused counts).
func (c *EtcdCluster) Running(i int) bool {
	m, err := c.member(i)
	if err != nil {
		return false
	}
	m.mu.Lock()
	done := m.done
	m.mu.Unlock()
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

// signal sends sig to member i's process if it runs; it returns the exit
// channel (nil when the member is not running).
func (c *EtcdCluster) signal(i int, sig syscall.Signal) (<-chan struct{}, error) {
	m, err := c.member(i)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	cmd, done := m.cmd, m.done
	m.mu.Unlock()
	if cmd == nil {
		return nil, nil
	}
	select {
	case <-done:
		return nil, nil
	default:
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return nil, fmt.Errorf("harness: signal %v to etcd %d: %w", sig, cmd.Process.Pid, err)
	}
	return done, nil
}

// Kill SIGKILLs member i and waits for it to exit. Killing a stopped member
// is a no-op.
func (c *EtcdCluster) Kill(i int) error {
	done, err := c.signal(i, syscall.SIGKILL)
	if done != nil {
		<-done
	}
	return err
}

// Stop sends SIGTERM (and SIGCONT, in case it is paused) to member i and
// waits, SIGKILLing after StopTimeout. Stopping a stopped member is a no-op.
func (c *EtcdCluster) Stop(i int) error {
	done, err := c.signal(i, syscall.SIGTERM)
	if err != nil || done == nil {
		return err
	}
	_, _ = c.signal(i, syscall.SIGCONT)
	select {
	case <-done:
		return nil
	case <-time.After(StopTimeout):
		_ = c.Kill(i)
		return fmt.Errorf("harness: etcd member %d ignored SIGTERM for %s; killed", i, StopTimeout)
	}
}

// Pause freezes member i with SIGSTOP: its sockets stay open but it answers
// nothing, like a hung machine.
func (c *EtcdCluster) Pause(i int) error {
	done, err := c.signal(i, syscall.SIGSTOP)
	if err == nil && done == nil {
		return fmt.Errorf("harness: pause etcd member %d: not running", i)
	}
	return err
}

// Resume continues a paused member i with SIGCONT.
func (c *EtcdCluster) Resume(i int) error {
	done, err := c.signal(i, syscall.SIGCONT)
	if err == nil && done == nil {
		return fmt.Errorf("harness: resume etcd member %d: not running", i)
	}
	return err
}

// Restart stops member i if it runs, starts it again with the same name,
// ports and data, and waits until it is healthy (which needs a quorum).
func (c *EtcdCluster) Restart(ctx context.Context, i int) error {
	m, err := c.member(i)
	if err != nil {
		return err
	}
	if err := c.Stop(i); err != nil {
		return err
	}
	if err := c.launch(m); err != nil {
		return err
	}
	return c.WaitHealthy(ctx, i)
}

// WaitHealthy polls member i's /health until it reports healthy (it has a
// leader and can serve a read), the member exits, or ctx/ReadyTimeout ends.
func (c *EtcdCluster) WaitHealthy(ctx context.Context, i int) error {
	m, err := c.member(i)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	m.mu.Lock()
	done := m.done
	m.mu.Unlock()
	var last error
	for {
		if last = c.Healthy(ctx, i); last == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("harness: etcd member %d exited\n--- log tail ---\n%s", i, c.LogTail(i, 30))
		case <-ctx.Done():
			return fmt.Errorf("harness: etcd member %d not healthy: %w (last: %v)\n--- log tail ---\n%s", i, ctx.Err(), last, c.LogTail(i, 30))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Healthy asks member i's /health endpoint once.
func (c *EtcdCluster) Healthy(ctx context.Context, i int) error {
	m, err := c.member(i)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, m.clientURL+"/health", nil)
	if err != nil {
		return fmt.Errorf("harness: etcd health request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("harness: etcd health: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var h struct {
		Health string `json:"health"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return fmt.Errorf("harness: etcd health %s: %q: %w", resp.Status, body, err)
	}
	if h.Health != "true" {
		return fmt.Errorf("harness: etcd member %d unhealthy: %s", i, body)
	}
	return nil
}

// LogTail returns the last n lines of member i's log.
func (c *EtcdCluster) LogTail(i, n int) string {
	m, err := c.member(i)
	if err != nil {
		return err.Error()
	}
	data, err := os.ReadFile(filepath.Join(m.dir, "etcd.log"))
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Close stops every member (SIGTERM, then SIGKILL after StopTimeout).
func (c *EtcdCluster) Close() error {
	var errs []error
	for i := range c.members {
		errs = append(errs, c.Stop(i))
	}
	return errors.Join(errs...)
}

func (c *EtcdCluster) killAll() {
	for i := range c.members {
		_ = c.Kill(i)
	}
}

// RequireEtcd fails t when CI is set and no etcd binary is installed, and
// skips it otherwise.
func RequireEtcd(t testing.TB) {
	t.Helper()
	if _, err := EtcdBinary(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and etcd is missing: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
}

// StartEtcdClusterT starts a cluster of members for t under t.TempDir and
// stops it at cleanup, logging every member's log tail if t failed.
func StartEtcdClusterT(t testing.TB, members int) *EtcdCluster {
	t.Helper()
	RequireEtcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*ReadyTimeout)
	defer cancel()
	c, err := StartEtcdCluster(ctx, t.TempDir(), members)
	if err != nil {
		t.Fatalf("start etcd cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("stop etcd cluster: %v", err)
		}
		if t.Failed() {
			for i := range c.members {
				t.Logf("etcd member %d (%s) log tail:\n%s", i, c.members[i].clientURL, c.LogTail(i, 30))
			}
		}
	})
	return c
}
