package etcdtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Options configure Start.
type Options struct {
	// TLS, when set, makes etcd serve clients over TLS with these
	// certificates (peers stay plain-text on loopback).
	TLS *Certs
	// ClientCertAuth makes etcd demand a client certificate signed by the
	// CA of TLS (--client-cert-auth).
	ClientCertAuth bool
}

// Etcd is a running etcd process, stopped by the test's cleanup.
type Etcd struct {
	// Endpoint is the client host:port (127.0.0.1:port).
	Endpoint string
	// LogPath is the file holding etcd's output.
	LogPath string
}

// Binary returns the etcd binary (from PATH, else /usr/bin/etcd). Without
// one it fails the test when CI is set and skips it otherwise.
func Binary(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err == nil {
		return bin
	}
	if _, statErr := os.Stat("/usr/bin/etcd"); statErr == nil {
		return "/usr/bin/etcd"
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("etcd binary not found (install the Debian package etcd-server): %v", err)
	}
	t.Skipf("etcd binary not found; install the Debian package etcd-server to run this test: %v", err)
	return ""
}

// Start runs a single-member etcd on free loopback ports in a temporary
// directory and returns once it answers a request. It retries on a port
// taken between choosing and binding it.
func Start(t testing.TB, opts Options) *Etcd {
	t.Helper()
	bin := Binary(t)
	var lastErr error
	for range 3 {
		e, stop, err := tryStart(t.TempDir(), bin, opts)
		if err == nil {
			t.Cleanup(stop)
			return e
		}
		lastErr = err
	}
	t.Fatalf("etcdtest: could not start etcd: %v", lastErr)
	return nil
}

func tryStart(dir, bin string, opts Options) (*Etcd, func(), error) {
	client, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	peer, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	scheme := "http"
	if opts.TLS != nil {
		scheme = "https"
	}
	clientURL := scheme + "://127.0.0.1:" + client
	peerURL := "http://127.0.0.1:" + peer
	args := []string{
		"--name", "test",
		"--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", clientURL,
		"--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL,
		"--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "test=" + peerURL,
		"--initial-cluster-state", "new",
	}
	if opts.TLS != nil {
		args = append(args, "--cert-file", opts.TLS.ServerCert, "--key-file", opts.TLS.ServerKey)
		// etcd demands client certificates whenever it has a trusted CA.
		if opts.ClientCertAuth {
			args = append(args, "--client-cert-auth", "--trusted-ca-file", opts.TLS.CAFile)
		}
	}
	logPath := filepath.Join(dir, "etcd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, nil, fmt.Errorf("etcdtest: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("etcdtest: start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	e := &Etcd{Endpoint: "127.0.0.1:" + client, LogPath: logPath}
	tlsCfg, err := probeTLS(opts)
	if err != nil {
		stop()
		return nil, nil, err
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			return nil, nil, fmt.Errorf("etcd exited early (%v):\n%s", err, logTail(logPath))
		default:
		}
		err := ping(e.Endpoint, tlsCfg)
		if err == nil {
			return e, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, nil, fmt.Errorf("etcd not ready: %v\n%s", err, logTail(logPath))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// probeTLS is the client configuration Start uses to see etcd answer.
func probeTLS(opts Options) (*tls.Config, error) {
	if opts.TLS == nil {
		return nil, nil
	}
	caPEM, err := os.ReadFile(opts.TLS.CAFile)
	if err != nil {
		return nil, fmt.Errorf("etcdtest: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("etcdtest: no certificate in " + opts.TLS.CAFile)
	}
	cert, err := tls.LoadX509KeyPair(opts.TLS.ClientCert, opts.TLS.ClientKey)
	if err != nil {
		return nil, fmt.Errorf("etcdtest: %w", err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

func ping(endpoint string, tlsCfg *tls.Config) error {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{endpoint},
		DialTimeout: time.Second,
		TLS:         tlsCfg,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = cli.Get(ctx, "etcdtest-ping", clientv3.WithCountOnly())
	return err
}

// freePort asks the OS for an unused loopback port. Another process could
// take it before etcd binds it; Start retries on failure.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("etcdtest: free port: %w", err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port, nil
}

func logTail(path string) string {
	b, _ := os.ReadFile(path)
	s := string(b)
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return strings.TrimSpace(s)
}
