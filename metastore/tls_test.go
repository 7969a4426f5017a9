package metastore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-io/strata/metastore/etcdtest"
)

// TestTLSOptionErrors checks that bad TLS settings fail Open before any
// connection attempt, with an error naming the file at fault.
func TestTLSOptionErrors(t *testing.T) {
	dir := t.TempDir()
	certs, err := etcdtest.WriteCerts(dir, "good")
	if err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	// No etcd listens here; every case must fail on its settings, not on
	// the connection.
	const spec = "etcd://127.0.0.1:1/x"
	cases := []struct {
		name          string
		spec          string
		ca, cert, key string
		want          []string
	}{
		{"embedded", "embedded", certs.CAFile, "", "", []string{"embedded", "etcd://"}},
		{"no CA", spec, "", certs.ClientCert, certs.ClientKey, []string{"CA file", "--metastore-ca-file"}},
		{"missing CA", spec, missing, "", "", []string{missing, "no such file"}},
		{"CA not PEM", spec, garbage, "", "", []string{garbage, "no PEM certificate"}},
		{"cert without key", spec, certs.CAFile, certs.ClientCert, "", []string{"both a cert file and a key file"}},
		{"key without cert", spec, certs.CAFile, "", certs.ClientKey, []string{"both a cert file and a key file"}},
		{"missing cert", spec, certs.CAFile, missing, certs.ClientKey, []string{"cert file", missing}},
		{"missing key", spec, certs.CAFile, certs.ClientCert, missing, []string{"key file", missing}},
		{"cert not PEM", spec, certs.CAFile, garbage, certs.ClientKey, []string{garbage, certs.ClientKey}},
		{"key of another cert", spec, certs.CAFile, certs.ClientCert, certs.ServerKey, []string{certs.ClientCert, certs.ServerKey, "does not match"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			s, err := Open(ctx, tc.spec, t.TempDir(), quietLogger(), WithTLS(tc.ca, tc.cert, tc.key))
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %s: settings errors must not wait for a connection", d)
			}
		})
	}
}

// TestWithTLSEmptyIsPlain: empty file names (unset flags) mean no TLS, so the
// embedded metastore still opens.
func TestWithTLSEmptyIsPlain(t *testing.T) {
	s, err := Open(testCtx(t), "embedded", t.TempDir(), quietLogger(), WithTLS("", "", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.ClusterID(testCtx(t)); err != nil {
		t.Fatal(err)
	}
}

// TestExternalEtcdTLS runs the suite against a real etcd serving clients
// over TLS and demanding client certificates, and checks the failures a
// misconfigured broker meets are reported clearly.
func TestExternalEtcdTLS(t *testing.T) {
	dir := t.TempDir()
	certs, err := etcdtest.WriteCerts(dir, "cluster")
	if err != nil {
		t.Fatal(err)
	}
	other, err := etcdtest.WriteCerts(dir, "other")
	if err != nil {
		t.Fatal(err)
	}
	etcd := etcdtest.Start(t, etcdtest.Options{TLS: &certs, ClientCertAuth: true})
	base := "etcd://" + etcd.Endpoint + "/"

	t.Run("Suite", func(t *testing.T) {
		var n atomic.Int64
		unsafeChars := regexp.MustCompile(`[^A-Za-z0-9_-]+`)
		runSuite(t, func(t *testing.T) *Store {
			prefix := fmt.Sprintf("tls-%d-%s", n.Add(1), unsafeChars.ReplaceAllString(t.Name(), "_"))
			s, err := Open(testCtx(t), base+prefix, "", quietLogger(), WithTLS(certs.CAFile, certs.ClientCert, certs.ClientKey))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		})
	})

	// Each failure case waits out its context: keep it short, run them together.
	openFails := func(t *testing.T, opts ...Option) error {
		t.Helper()
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s, err := Open(ctx, base+"fail", "", quietLogger(), opts...)
		if err == nil {
			s.Close()
			t.Fatal("Open succeeded")
		}
		t.Logf("error: %v", err)
		return err
	}
	t.Run("NoTLS", func(t *testing.T) {
		err := openFails(t)
		if !strings.Contains(err.Error(), "speaks TLS") || !strings.Contains(err.Error(), "--metastore-ca-file") {
			t.Fatalf("error %q does not say that etcd wants TLS", err)
		}
	})
	t.Run("WrongCA", func(t *testing.T) {
		err := openFails(t, WithTLS(other.CAFile, certs.ClientCert, certs.ClientKey))
		if !strings.Contains(err.Error(), "certificate signed by unknown authority") {
			t.Fatalf("error %q does not name the certificate problem", err)
		}
	})
	t.Run("NoClientCert", func(t *testing.T) {
		err := openFails(t, WithTLS(certs.CAFile, "", ""))
		if !strings.Contains(err.Error(), "rejected the TLS connection") {
			t.Fatalf("error %q does not say the server rejected the client", err)
		}
	})
	t.Run("UntrustedClientCert", func(t *testing.T) {
		err := openFails(t, WithTLS(certs.CAFile, other.ClientCert, other.ClientKey))
		if !strings.Contains(err.Error(), "rejected the TLS connection") {
			t.Fatalf("error %q does not say the server rejected the client", err)
		}
	})
}

// TestExternalEtcdTLSServerOnly: etcd without --client-cert-auth needs only
// the CA.
func TestExternalEtcdTLSServerOnly(t *testing.T) {
	certs, err := etcdtest.WriteCerts(t.TempDir(), "cluster")
	if err != nil {
		t.Fatal(err)
	}
	etcd := etcdtest.Start(t, etcdtest.Options{TLS: &certs})
	ctx := testCtx(t)
	s, err := Open(ctx, "etcd://"+etcd.Endpoint+"/server-only", "", quietLogger(), WithTLS(certs.CAFile, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	testTopics(t, s)
}
