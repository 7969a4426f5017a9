package s3_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/objstore/objstoretest"
	"github.com/strata-io/strata/objstore/s3"
	"github.com/strata-io/strata/test/harness"
)

// The s3 backend is exercised against a real MinIO server (AWS itself is not
// reachable here): custom endpoint, path-style addressing, static keys.
func TestAcceptanceMinioViaS3(t *testing.T) {
	srv := harness.StartMinioT(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.CreateBucket(ctx, "strata"); err != nil {
		t.Fatal(err)
	}
	cfg := s3.Config{
		Bucket: "strata", Endpoint: srv.URL(), PathStyle: true, Region: "us-east-1",
		AccessKeyID: srv.AccessKey, SecretAccessKey: s3.Secret(srv.SecretKey),
	}
	b, err := s3.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("plain", func(t *testing.T) { objstoretest.Run(t, b) })
	t.Run("prefixed", func(t *testing.T) { objstoretest.Run(t, objstore.WithPrefix(b, "cluster/x")) })

	t.Run("MissingBucket", func(t *testing.T) {
		c := cfg
		c.Bucket = "absent"
		_, err := s3.New(ctx, c)
		if err == nil || !strings.Contains(err.Error(), `"absent"`) || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("BadCredentials", func(t *testing.T) {
		c := cfg
		c.SecretAccessKey = "wrong-secret"
		_, err := s3.New(ctx, c)
		if err == nil || !strings.Contains(err.Error(), `"strata"`) || !strings.Contains(err.Error(), "credentials rejected") {
			t.Fatalf("err = %v", err)
		}
	})
}
