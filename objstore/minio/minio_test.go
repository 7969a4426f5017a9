package minio_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/objstore/minio"
	"github.com/strata-io/strata/objstore/objstoretest"
	"github.com/strata-io/strata/test/harness"
)

func TestAcceptanceRealMinio(t *testing.T) {
	srv := harness.StartMinioT(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.CreateBucket(ctx, "strata"); err != nil {
		t.Fatal(err)
	}
	b, err := minio.New(ctx, minio.Config{Endpoint: srv.Endpoint, Bucket: "strata", AccessKey: srv.AccessKey, SecretKey: minio.Secret(srv.SecretKey)})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("plain", func(t *testing.T) { objstoretest.Run(t, b) })
	t.Run("prefixed", func(t *testing.T) { objstoretest.Run(t, objstore.WithPrefix(b, "cluster/x")) })

	t.Run("MissingBucket", func(t *testing.T) {
		_, err := minio.New(ctx, minio.Config{Endpoint: srv.Endpoint, Bucket: "absent", AccessKey: srv.AccessKey, SecretKey: minio.Secret(srv.SecretKey)})
		if err == nil || !strings.Contains(err.Error(), `"absent"`) || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("BadCredentials", func(t *testing.T) {
		_, err := minio.New(ctx, minio.Config{Endpoint: srv.Endpoint, Bucket: "strata", AccessKey: srv.AccessKey, SecretKey: "wrong-secret"})
		if err == nil || !strings.Contains(err.Error(), `"strata"`) || !strings.Contains(err.Error(), "credentials rejected") {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "wrong-secret") {
			t.Fatal("error leaks the secret")
		}
	})
	t.Run("ServerDownIsTransient", func(t *testing.T) {
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
		_, err := b.Exists(ctx, "anything")
		if err == nil {
			t.Fatal("Exists succeeded against a stopped server")
		}
		if errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("a dead server looks like a missing object: %v", err)
		}
	})
}
