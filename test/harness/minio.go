package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
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

	mc "github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Default MinIO root credentials used by StartMinio.
const (
	MinioAccessKey = "strata-test"
	MinioSecretKey = "strata-test-secret"
)

// ErrMinioMissing is returned when no minio binary is installed.
var ErrMinioMissing = errors.New("harness: minio binary not found (run .ci/tools/minio.sh to install it into tools/bin)")

// MinioBinary finds the MinIO server: $MINIO_BIN if set (used as is), else
// $REPO/tools/bin/minio, else minio on $PATH.
func MinioBinary() (string, error) { return findTool("MINIO_BIN", "minio", ErrMinioMissing) }

// Minio is a MinIO server process on loopback.
type Minio struct {
	Endpoint  string // host:port of the S3 API
	AccessKey string
	SecretKey string
	DataDir   string // holds data/ and minio.log

	bin     string
	console string
	env     []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// URL is the S3 endpoint as an http URL.
func (m *Minio) URL() string { return "http://" + m.Endpoint }

// StartMinio starts a MinIO server with its data under dataDir on a free
// loopback port and waits until it is ready. MinIO binds the port on
// 127.0.0.1 and on [::1], so the port is checked free on both. env is
// added to the server's environment (e.g. MINIO_KMS_SECRET_KEY).
func StartMinio(ctx context.Context, dataDir string, env ...string) (*Minio, error) {
	bin, err := MinioBinary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dataDir, "data"), 0o755); err != nil {
		return nil, fmt.Errorf("harness: minio data dir: %w", err)
	}
	var lastErr error
	for range 3 { // a port can be taken between picking and binding
		api, err := freeDualStackPort()
		if err != nil {
			return nil, err
		}
		console, err := freeDualStackPort()
		if err != nil {
			return nil, err
		}
		m := &Minio{
			Endpoint:  "127.0.0.1:" + strconv.Itoa(api),
			AccessKey: MinioAccessKey,
			SecretKey: MinioSecretKey,
			DataDir:   dataDir,
			bin:       bin,
			console:   "127.0.0.1:" + strconv.Itoa(console),
			env:       env,
		}
		if lastErr = m.launch(ctx); lastErr == nil {
			return m, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// StartMinioT starts MinIO for t and stops it at cleanup. Without the
// binary it fails the test when CI is set and skips it otherwise.
func StartMinioT(t testing.TB, env ...string) *Minio {
	t.Helper()
	if _, err := MinioBinary(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and MinIO is missing: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ReadyTimeout)
	defer cancel()
	m, err := StartMinio(ctx, t.TempDir(), env...)
	if err != nil {
		t.Fatalf("start minio: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Stop(); err != nil {
			t.Errorf("stop minio: %v", err)
		}
		if t.Failed() {
			t.Logf("minio %s log tail:\n%s", m.Endpoint, m.LogTail(40))
		}
	})
	return m
}

// launch starts the process on m's ports and waits for readiness.
func (m *Minio) launch(ctx context.Context) error {
	logPath := filepath.Join(m.DataDir, "minio.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("harness: minio log: %w", err)
	}
	args := []string{"server", "--quiet", "--address", m.Endpoint, "--console-address", m.console, filepath.Join(m.DataDir, "data")}
	fmt.Fprintf(logFile, "=== harness: %s %s (%s)\n", m.bin, strings.Join(args, " "), time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(m.bin, args...)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+m.AccessKey,
		"MINIO_ROOT_PASSWORD="+m.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=1",
	)
	cmd.Env = append(cmd.Env, m.env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("harness: start %s: %w", m.bin, err)
	}
	done := make(chan struct{})
	m.mu.Lock()
	m.cmd, m.done = cmd, done
	m.mu.Unlock()
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(logFile, "=== harness: minio %d exited: %v\n", cmd.Process.Pid, errOrZero(err))
		logFile.Close()
		close(done)
	}()
	if err := m.waitReady(ctx, done); err != nil {
		_ = m.kill()
		return fmt.Errorf("harness: minio not ready at %s: %w\n--- log tail ---\n%s", m.Endpoint, err, m.LogTail(30))
	}
	return nil
}

func (m *Minio) waitReady(ctx context.Context, done <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.URL()+"/minio/health/ready", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return errors.New("process exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Running reports whether the server process is alive.
func (m *Minio) Running() bool {
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

// Stop sends SIGTERM and waits (SIGKILL after StopTimeout). Stopping a
// stopped server is a no-op.
func (m *Minio) Stop() error {
	m.mu.Lock()
	cmd, done := m.cmd, m.done
	m.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("harness: sigterm minio %d: %w", cmd.Process.Pid, err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(StopTimeout):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return fmt.Errorf("harness: minio %d ignored SIGTERM for %s; killed", cmd.Process.Pid, StopTimeout)
	}
}

func (m *Minio) kill() error {
	m.mu.Lock()
	cmd, done := m.cmd, m.done
	m.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
	return nil
}

// Restart stops the server if it runs and starts it again on the same
// address and data (for outage tests).
func (m *Minio) Restart(ctx context.Context) error {
	if err := m.Stop(); err != nil {
		return err
	}
	return m.launch(ctx)
}

// LogTail returns the last n lines of the server's log.
func (m *Minio) LogTail(n int) string {
	data, err := os.ReadFile(filepath.Join(m.DataDir, "minio.log"))
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Client returns a minio-go client with the root credentials.
func (m *Minio) Client() (*mc.Client, error) {
	return mc.New(m.Endpoint, &mc.Options{Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, "")})
}

// CreateBucket makes a bucket.
func (m *Minio) CreateBucket(ctx context.Context, name string) error {
	cl, err := m.Client()
	if err != nil {
		return fmt.Errorf("harness: minio client: %w", err)
	}
	if err := cl.MakeBucket(ctx, name, mc.MakeBucketOptions{}); err != nil {
		return fmt.Errorf("harness: create bucket %q: %w", name, err)
	}
	return nil
}

// freeDualStackPort returns a port free on both 127.0.0.1 and [::1] (when
// the host has IPv6 loopback at all).
func freeDualStackPort() (int, error) {
	for range 20 {
		port, err := FreePort() // below the ephemeral range, see FreePort
		if err != nil {
			return 0, err
		}
		ln4, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		ln6, err := net.Listen("tcp6", "[::1]:"+strconv.Itoa(port))
		if err == nil {
			ln6.Close()
			ln4.Close()
			return port, nil
		}
		ln4.Close()
		if !errors.Is(err, syscall.EADDRINUSE) {
			return port, nil // no IPv6 loopback here: the IPv4 check is all we can do
		}
	}
	return 0, errors.New("harness: no port free on both 127.0.0.1 and [::1]")
}
