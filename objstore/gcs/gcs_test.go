package gcs_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/objstore/gcs"
	"github.com/strata-io/strata/objstore/objstoretest"
)

// Real GCS is not reachable from this environment (no network, no
// credentials), so the backend runs against fake-gcs-server, an in-process
// emulator of the GCS JSON API, through the real cloud.google.com/go/storage
// client.
func newEmulator(t *testing.T, buckets ...string) *fakestorage.Server {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1"})
	if err != nil {
		t.Fatalf("start GCS emulator: %v", err)
	}
	t.Cleanup(srv.Stop)
	for _, b := range buckets {
		srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: b})
	}
	return srv
}

func TestAcceptanceEmulator(t *testing.T) {
	srv := newEmulator(t, "strata")
	b, err := gcs.NewWithClient(context.Background(), srv.Client(), "strata")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("plain", func(t *testing.T) { objstoretest.Run(t, b) })
	t.Run("prefixed", func(t *testing.T) { objstoretest.Run(t, objstore.WithPrefix(b, "cluster/x")) })
}

func TestMissingBucket(t *testing.T) {
	srv := newEmulator(t)
	_, err := gcs.NewWithClient(context.Background(), srv.Client(), "no-such-bucket")
	if err == nil || !strings.Contains(err.Error(), `"no-such-bucket"`) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("err = %v, want one naming the bucket and saying it does not exist", err)
	}
	if errors.Is(err, objstore.ErrNotFound) {
		t.Fatal("a missing bucket must not look like a missing object")
	}
}
