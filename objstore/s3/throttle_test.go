package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/objstore/s3"
	"github.com/strata-io/strata/test/harness"
)

// throttler answers the first n requests with S3's 503 SlowDown and
// forwards the rest to the real server.
type throttler struct {
	n, seen atomic.Int32
	next    http.Handler
}

func (th *throttler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if th.seen.Add(1) <= th.n.Load() {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
		return
	}
	th.next.ServeHTTP(w, r)
}

// A real SlowDown answer is marked transient by the backend and retried by
// objstore.WithRetry until MinIO (behind the throttling proxy) serves it.
func TestSlowDownRetriedAgainstMinio(t *testing.T) {
	srv := harness.StartMinioT(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.CreateBucket(ctx, "strata"); err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(srv.URL())
	th := &throttler{next: httputil.NewSingleHostReverseProxy(target)}
	proxy := httptest.NewServer(th)
	defer proxy.Close()

	raw, err := s3.New(ctx, s3.Config{
		Bucket: "strata", Endpoint: proxy.URL, PathStyle: true, Region: "us-east-1",
		AccessKeyID: srv.AccessKey, SecretAccessKey: s3.Secret(srv.SecretKey),
	})
	if err != nil {
		t.Fatal(err)
	}

	// Without the wrapper a SlowDown surfaces as ErrTransient.
	th.n.Store(th.seen.Load() + 1)
	err = raw.Upload(ctx, "k", bytes.NewReader([]byte("v")))
	if !errors.Is(err, objstore.ErrTransient) || !s3.IsTransient(err) {
		t.Fatalf("raw upload under SlowDown: %v, want ErrTransient", err)
	}

	b := objstore.WithRetry(raw, objstore.RetryOptions{MaxAttempts: 5, BaseDelay: time.Millisecond})
	th.n.Store(th.seen.Load() + 3)
	before := th.seen.Load()
	if err := b.Upload(ctx, "k", io.MultiReader(bytes.NewReader([]byte("after slowdown")))); err != nil {
		t.Fatalf("upload with retries: %v", err)
	}
	if got := th.seen.Load() - before; got != 4 {
		t.Fatalf("%d requests for one upload, want 3 throttled + 1", got)
	}
	th.n.Store(th.seen.Load() + 2)
	rc, err := b.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if string(data) != "after slowdown" {
		t.Fatalf("read %q", data)
	}

	// A permanent error (missing object) is not retried.
	before = th.seen.Load()
	if _, err := b.Get(ctx, "missing"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatal(err)
	}
	if got := th.seen.Load() - before; got != 1 {
		t.Fatalf("missing object took %d requests, want 1", got)
	}
}
