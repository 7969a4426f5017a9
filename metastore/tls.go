package metastore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// tlsFiles names the PEM files of WithTLS.
type tlsFiles struct {
	caFile, certFile, keyFile string
}

func (f tlsFiles) set() bool { return f.caFile != "" || f.certFile != "" || f.keyFile != "" }

// WithTLS makes Open talk TLS to an external etcd (an etcd:// spec). caFile is
// a PEM bundle of the CAs that sign the etcd servers' certificates; it is
// required. certFile and keyFile are a PEM client certificate and its key,
// for etcd run with --client-cert-auth; give both or neither. Passing TLS
// files with the embedded metastore is an error: the embedded server listens
// on loopback only, without TLS. Empty strings everywhere mean no TLS, so
// flag values can be passed through unconditionally.
func WithTLS(caFile, certFile, keyFile string) Option {
	return func(o *options) { o.tls = tlsFiles{caFile: caFile, certFile: certFile, keyFile: keyFile} }
}

// clientTLSConfig reads the files and builds the client configuration. Every
// error names the file at fault.
func (f tlsFiles) clientTLSConfig() (*tls.Config, error) {
	if f.caFile == "" {
		return nil, errors.New("metastore: TLS needs a CA file to verify etcd's certificate (--metastore-ca-file)")
	}
	if (f.certFile == "") != (f.keyFile == "") {
		return nil, fmt.Errorf("metastore: TLS client certificate needs both a cert file and a key file (got cert %q, key %q)", f.certFile, f.keyFile)
	}
	caPEM, err := os.ReadFile(f.caFile)
	if err != nil {
		return nil, fmt.Errorf("metastore: read TLS CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("metastore: TLS CA file %s: no PEM certificate found", f.caFile)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if f.certFile != "" {
		cert, err := loadKeyPair(f.certFile, f.keyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// loadKeyPair is tls.LoadX509KeyPair with errors that say which file is bad.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("metastore: read TLS cert file: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("metastore: read TLS key file: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("metastore: TLS cert file %s with key file %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// explainTLSFailure is called when the first request to etcd failed. The
// etcd client retries a failed handshake until the deadline and then reports
// only that; one direct handshake to the first endpoint finds the reason
// (unknown CA, name mismatch, rejected client certificate, plain-text
// server). With cfg nil (no TLS configured) it checks whether the server
// speaks TLS, the usual reason a plain-text client gets no answer. It returns
// nil when it learns nothing.
func explainTLSFailure(ctx context.Context, endpoint string, cfg *tls.Config) error {
	// The caller's deadline may be what just expired.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	host, _, err := net.SplitHostPort(endpoint)
	if err != nil {
		return nil
	}
	plain := cfg == nil
	var c *tls.Config
	if plain {
		// Only asking whether a TLS server is there, not trusting it.
		c = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // probe only, no data sent
	} else {
		c = cfg.Clone()
	}
	if c.ServerName == "" {
		c.ServerName = host
	}
	// etcd serves gRPC over HTTP/2; offering h2 satisfies servers that check ALPN.
	c.NextProtos = []string{"h2"}
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: c}
	conn, err := d.DialContext(ctx, "tcp", endpoint)
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return nil // nothing listening: not a TLS problem
	}
	if err == nil {
		defer conn.Close()
		// With TLS 1.3 the server checks the client certificate after the
		// client considers the handshake done; a rejection arrives on the
		// first read.
		_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		var one [1]byte
		_, err = conn.Read(one[:])
		if err != nil && !strings.Contains(err.Error(), "remote error") {
			err = nil
		}
	}
	switch {
	case plain && (err == nil || strings.Contains(err.Error(), "remote error")):
		return fmt.Errorf("etcd at %s speaks TLS: give a CA file (--metastore-ca-file) and, if it wants one, a client certificate", endpoint)
	case plain:
		return nil
	case err != nil && strings.Contains(err.Error(), "remote error"):
		return fmt.Errorf("etcd at %s rejected the TLS connection (client certificate missing or not trusted?): %w", endpoint, err)
	case err != nil:
		return fmt.Errorf("TLS handshake with etcd at %s: %w", endpoint, err)
	}
	return nil
}
