package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/objstore/objstoretest"
	"github.com/strata-io/strata/test/harness"
)

func TestOpenRejectsBadURLs(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ url, want string }{
		{"s3:///prefix?region=x", "no bucket"},
		{"s3://b/p?regoin=x", `unknown parameter "regoin"`},
		{"s3://b/p?region=a&region=b", "given 2 times"},
		{"s3://b/p?sse=rot13", "unknown server-side encryption"},
		{"s3://b/p?kms-key-id=k", "kms-key-id needs sse=kms"},
		{"s3://b/p?endpoint=127.0.0.1:9000", "must be http(s)://host"},
		{"s3://b/p?endpoint=http://h:1&path-style=maybe", "not a boolean"},
		{"s3://user:pw@b/p", "no user info"},
		{"gs://b/p?x=1", `unknown parameter "x"`},
		{"gs:///p", "no bucket"},
		{"minio:///b/p", "no host:port"},
		{"minio://h:9000/", "no bucket"},
		{"minio://h:9000/b?secure=nah", "not a boolean"},
		{"minio://h:9000/b?tls=1", `unknown parameter "tls"`},
		{"azure://x/y", "unknown scheme"},
	} {
		_, err := objstore.Open(ctx, tc.url)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) err = %v, want it to mention %q", tc.url, err, tc.want)
		}
	}
	// The user-info check runs before anything could print the password.
	if _, err := objstore.Open(ctx, "s3://user:hunter2@b/p"); err != nil && strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks the password: %v", err)
	}
}

// startMinio starts MinIO with bucket "strata" and the keys in the environment.
func startMinio(t *testing.T) *harness.Minio {
	srv := harness.StartMinioT(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.CreateBucket(ctx, "strata"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "AWS_PROFILE", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	return srv
}

func TestOpenMinio(t *testing.T) {
	srv := startMinio(t)
	ctx := context.Background()
	urls := map[string]string{
		"minio": "minio://" + srv.Endpoint + "/strata/cluster-a?secure=false",
		// The example: endpoint implies path-style; region given.
		"s3": "s3://strata/cluster-b?endpoint=" + url.QueryEscape(srv.URL()) + "&region=us-east-1",
	}
	for name, u := range urls {
		t.Run(name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			b, err := objstore.OpenWith(ctx, u, objstore.OpenOptions{Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			objstoretest.Run(t, b)

			// Objects land under the URL's prefix in the bucket.
			if err := b.Upload(ctx, "probe", bytes.NewReader([]byte("p"))); err != nil {
				t.Fatal(err)
			}
			cl, err := srv.Client()
			if err != nil {
				t.Fatal(err)
			}
			prefix := map[string]string{"minio": "cluster-a", "s3": "cluster-b"}[name]
			if _, err := cl.StatObject(ctx, "strata", prefix+"/probe", minioStatOpts()); err != nil {
				t.Fatalf("object not under %s/ in the bucket: %v", prefix, err)
			}
			if n := testutil.CollectAndCount(reg, "strata_objstore_operations_total"); n == 0 {
				t.Fatal("OpenWith with a Registerer recorded no metrics")
			}
		})
	}

	// The minio:// keys may also come from MINIO_ROOT_USER/PASSWORD.
	t.Run("minio root keys", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		t.Setenv("MINIO_ROOT_USER", srv.AccessKey)
		t.Setenv("MINIO_ROOT_PASSWORD", srv.SecretKey)
		b, err := objstore.Open(ctx, urls["minio"])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Exists(ctx, "probe"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOpenMinioFailsClearly(t *testing.T) {
	srv := startMinio(t)
	ctx := context.Background()
	ep := url.QueryEscape(srv.URL())
	missing := []string{
		"minio://" + srv.Endpoint + "/no-such-bucket/p?secure=false",
		"s3://no-such-bucket/p?endpoint=" + ep,
	}
	for _, u := range missing {
		_, err := objstore.Open(ctx, u)
		if err == nil || !strings.Contains(err.Error(), `"no-such-bucket"`) || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("Open(%s): err = %v, want it to name the bucket and say it does not exist", u, err)
		}
	}

	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
	bad := []string{
		"minio://" + srv.Endpoint + "/strata/p?secure=false",
		"s3://strata/p?endpoint=" + ep,
	}
	for _, u := range bad {
		_, err := objstore.Open(ctx, u)
		if err == nil || !strings.Contains(err.Error(), `"strata"`) || !strings.Contains(err.Error(), "credentials rejected") {
			t.Errorf("Open(%s): err = %v, want it to name the bucket and say the credentials were rejected", u, err)
		}
		if err != nil && strings.Contains(err.Error(), "not-the-secret") {
			t.Errorf("error leaks the secret: %v", err)
		}
	}

	// A server that is down: Open fails naming the bucket (after retries
	// would be pointless at start; the check is a single try).
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	_, err := objstore.Open(ctx, bad[0])
	if err == nil || !strings.Contains(err.Error(), `"strata"`) {
		t.Errorf("Open with MinIO down: %v", err)
	}
	if err != nil && !objstore.IsRetryable(errors.Unwrap(err)) && !objstore.IsRetryable(err) {
		t.Errorf("connection refused should be retryable: %v", err)
	}
}

// Real GCS is unreachable here; gs:// is opened against the fake-gcs-server
// emulator through STORAGE_EMULATOR_HOST, which the storage client honours.
func TestOpenGCSEmulator(t *testing.T) {
	// With STORAGE_EMULATOR_HOST the client reads objects by XML-API paths
	// (host/bucket/object), which the emulator serves only for its public host.
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	host := "127.0.0.1:" + strconv.Itoa(port)
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: uint16(port), PublicHost: host})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "strata"})
	t.Setenv("STORAGE_EMULATOR_HOST", host)
	ctx := context.Background()

	b, err := objstore.Open(ctx, "gs://strata/tier")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	objstoretest.Run(t, b)
	if err := b.Upload(ctx, "probe", bytes.NewReader([]byte("gcs"))); err != nil {
		t.Fatal(err)
	}
	obj, err := srv.GetObject("strata", "tier/probe")
	if err != nil || string(obj.Content) != "gcs" {
		t.Fatalf("object not under tier/: %v", err)
	}

	_, err = objstore.Open(ctx, "gs://absent/x")
	if err == nil || !strings.Contains(err.Error(), `"absent"`) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing GCS bucket: %v", err)
	}
}
