package harness

import (
	"bytes"
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

// ErrToxiproxyMissing is returned when no toxiproxy server is installed.
var ErrToxiproxyMissing = errors.New("harness: toxiproxy-server not found (run .ci/tools/toxiproxy.sh to install it into tools/bin)")

// ToxiproxyBinary finds the toxiproxy server: $TOXIPROXY_BIN if set, else
// $REPO/tools/bin/toxiproxy-server, else toxiproxy-server on $PATH.
func ToxiproxyBinary() (string, error) {
	return findTool("TOXIPROXY_BIN", "toxiproxy-server", ErrToxiproxyMissing)
}

// Toxiproxy is a toxiproxy server process; its HTTP API (on APIAddr) makes
// TCP proxies and adds faults ("toxics") to them.
type Toxiproxy struct {
	APIAddr string // host:port of the HTTP API
	Dir     string // holds toxiproxy.log

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Toxic is one fault on a proxy, as toxiproxy's API takes it: Type is
// latency, bandwidth, slow_close, timeout, reset_peer, slicer or
// limit_data; Stream is upstream or downstream (default downstream);
// Attributes are the type's (latency: "latency" and "jitter" in ms).
type Toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream,omitempty"`
	Toxicity   float64        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

// StartToxiproxy starts a toxiproxy server on a free loopback port with its
// log under dir and waits until its API answers.
func StartToxiproxy(ctx context.Context, dir string) (*Toxiproxy, error) {
	bin, err := ToxiproxyBinary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("harness: toxiproxy dir: %w", err)
	}
	var lastErr error
	for range 3 {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		x := &Toxiproxy{APIAddr: "127.0.0.1:" + strconv.Itoa(port), Dir: dir}
		if lastErr = x.launch(ctx, bin, port); lastErr == nil {
			return x, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func (x *Toxiproxy) launch(ctx context.Context, bin string, port int) error {
	logFile, err := os.OpenFile(filepath.Join(x.Dir, "toxiproxy.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("harness: toxiproxy log: %w", err)
	}
	cmd := exec.Command(bin, "-host", "127.0.0.1", "-port", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("harness: start %s: %w", bin, err)
	}
	done := make(chan struct{})
	x.mu.Lock()
	x.cmd, x.done = cmd, done
	x.mu.Unlock()
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(logFile, "=== harness: toxiproxy %d exited: %v\n", cmd.Process.Pid, errOrZero(err))
		logFile.Close()
		close(done)
	}()
	rctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	for {
		if _, err := x.call(rctx, http.MethodGet, "/version", nil, nil); err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("harness: toxiproxy exited during startup\n%s", x.LogTail(20))
		case <-rctx.Done():
			_ = x.Stop()
			return fmt.Errorf("harness: toxiproxy not ready at %s: %w\n%s", x.APIAddr, rctx.Err(), x.LogTail(20))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// call does one API request with an optional JSON body, decoding a JSON
// answer into out when out is non-nil.
func (x *Toxiproxy) call(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("harness: toxiproxy request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+x.APIAddr+path, rd)
	if err != nil {
		return 0, fmt.Errorf("harness: toxiproxy request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("harness: toxiproxy %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("harness: toxiproxy %s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(data)))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("harness: toxiproxy %s %s: decode %q: %w", method, path, data, err)
		}
	}
	return resp.StatusCode, nil
}

// CreateProxy makes a proxy named name listening on listen (host:port; port
// 0 picks one) and forwarding to upstream; it returns the listen address.
func (x *Toxiproxy) CreateProxy(ctx context.Context, name, listen, upstream string) (string, error) {
	var out struct {
		Listen string `json:"listen"`
	}
	in := map[string]any{"name": name, "listen": listen, "upstream": upstream, "enabled": true}
	if _, err := x.call(ctx, http.MethodPost, "/proxies", in, &out); err != nil {
		return "", err
	}
	return out.Listen, nil
}

// SetEnabled turns a proxy off (closing its connections and refusing new
// ones: a cut link) or on again.
func (x *Toxiproxy) SetEnabled(ctx context.Context, name string, enabled bool) error {
	_, err := x.call(ctx, http.MethodPost, "/proxies/"+name, map[string]any{"enabled": enabled}, nil)
	return err
}

// DeleteProxy removes a proxy.
func (x *Toxiproxy) DeleteProxy(ctx context.Context, name string) error {
	_, err := x.call(ctx, http.MethodDelete, "/proxies/"+name, nil, nil)
	return err
}

// AddToxic adds a fault to proxy.
func (x *Toxiproxy) AddToxic(ctx context.Context, proxy string, tx Toxic) error {
	if tx.Toxicity == 0 {
		tx.Toxicity = 1
	}
	_, err := x.call(ctx, http.MethodPost, "/proxies/"+proxy+"/toxics", tx, nil)
	return err
}

// RemoveToxic removes the fault named name from proxy.
func (x *Toxiproxy) RemoveToxic(ctx context.Context, proxy, name string) error {
	_, err := x.call(ctx, http.MethodDelete, "/proxies/"+proxy+"/toxics/"+name, nil, nil)
	return err
}

// Toxics lists proxy's faults.
func (x *Toxiproxy) Toxics(ctx context.Context, proxy string) ([]Toxic, error) {
	var out []Toxic
	_, err := x.call(ctx, http.MethodGet, "/proxies/"+proxy+"/toxics", nil, &out)
	return out, err
}

// Stop ends the server (SIGTERM, SIGKILL after StopTimeout).
func (x *Toxiproxy) Stop() error {
	x.mu.Lock()
	cmd, done := x.cmd, x.done
	x.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return nil
	case <-time.After(StopTimeout):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return fmt.Errorf("harness: toxiproxy %d ignored SIGTERM; killed", cmd.Process.Pid)
	}
}

// LogTail returns the last n lines of the server's log.
func (x *Toxiproxy) LogTail(n int) string {
	data, err := os.ReadFile(filepath.Join(x.Dir, "toxiproxy.log"))
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// StartToxiproxyT starts toxiproxy for t and stops it at cleanup. Without
// the binary it fails the test when CI is set and skips it otherwise.
func StartToxiproxyT(t testing.TB) *Toxiproxy {
	t.Helper()
	if _, err := ToxiproxyBinary(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and toxiproxy is missing: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ReadyTimeout)
	defer cancel()
	x, err := StartToxiproxy(ctx, t.TempDir())
	if err != nil {
		t.Fatalf("start toxiproxy: %v", err)
	}
	t.Cleanup(func() {
		if err := x.Stop(); err != nil {
			t.Errorf("stop toxiproxy: %v", err)
		}
		if t.Failed() {
			t.Logf("toxiproxy log tail:\n%s", x.LogTail(30))
		}
	})
	return x
}
