package metastore

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestExternalEtcdSuite runs the whole suite through the etcd:// code path
// against a real etcd process. Without an etcd binary on PATH it skips
// locally and fails in CI (where CI is set and the binary is installed).
func TestExternalEtcdSuite(t *testing.T) {
	bin, err := exec.LookPath("etcd")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("etcd binary not on PATH (install Debian package etcd-server): %v", err)
		}
		t.Skipf("etcd binary not on PATH; install etcd-server to run this test: %v", err)
	}
	endpoint := startEtcdProcess(t, bin)

	var n atomic.Int64
	unsafeChars := regexp.MustCompile(`[^A-Za-z0-9_-]+`)
	runSuite(t, func(t *testing.T) *Store {
		prefix := fmt.Sprintf("test-%d-%s", n.Add(1), unsafeChars.ReplaceAllString(t.Name(), "_"))
		s, err := Open(testCtx(t), "etcd://"+endpoint+"/"+prefix, "", quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		if s.Prefix() != "/"+prefix+"/" {
			t.Fatalf("prefix = %q", s.Prefix())
		}
		if s.maxTxnOps != defaultExternalMaxTxnOps {
			t.Fatalf("external maxTxnOps = %d, want etcd's default %d", s.maxTxnOps, defaultExternalMaxTxnOps)
		}
		return s
	})
}

// startEtcdProcess runs a single-member etcd on free loopback ports in a temp
// dir and returns its client host:port once it answers.
func startEtcdProcess(t *testing.T, bin string) string {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		endpoint, err := tryStartEtcd(t, bin)
		if err == nil {
			return endpoint
		}
		lastErr = err
	}
	t.Fatalf("could not start etcd: %v", lastErr)
	return ""
}

func tryStartEtcd(t *testing.T, bin string) (string, error) {
	dir := t.TempDir()
	client, peer := freePort(t), freePort(t)
	clientURL := "http://127.0.0.1:" + client
	peerURL := "http://127.0.0.1:" + peer
	logPath := filepath.Join(dir, "etcd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer logFile.Close()
	cmd := exec.Command(bin,
		"--name", "test",
		"--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", clientURL,
		"--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL,
		"--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "test="+peerURL,
		"--initial-cluster-state", "new",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	endpoint := "127.0.0.1:" + client
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			logs, _ := os.ReadFile(logPath)
			return "", fmt.Errorf("etcd exited early (%v):\n%s", err, tail(string(logs), 2000))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		s, err := Open(ctx, "etcd://"+endpoint+"/probe", "", quietLogger())
		cancel()
		if err == nil {
			_ = s.Close()
			t.Cleanup(stop)
			return endpoint, nil
		}
		if time.Now().After(deadline) {
			stop()
			logs, _ := os.ReadFile(logPath)
			return "", fmt.Errorf("etcd not ready: %v\n%s", err, tail(string(logs), 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freePort asks the OS for an unused loopback port. Another process could
// take it before etcd binds it; the caller retries on failure.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[strings.IndexByte(s[len(s)-n:], '\n')+len(s)-n+1:]
}
