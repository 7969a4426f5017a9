package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/objstore/mem"
)

// flaky is a bucket that fails the next calls with queued errors, then
// behaves like the mem bucket underneath.
type flaky struct {
	objstore.Bucket
	mu    sync.Mutex
	errs  []error
	calls int
}

func (f *flaky) next() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if len(f.errs) == 0 {
		return nil
	}
	err := f.errs[0]
	f.errs = f.errs[1:]
	return err
}

func (f *flaky) Upload(ctx context.Context, name string, r io.Reader) error {
	if err := f.next(); err != nil {
		_, _ = io.Copy(io.Discard, r) // a failed try consumes the body
		return err
	}
	return f.Bucket.Upload(ctx, name, r)
}

func (f *flaky) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := f.next(); err != nil {
		return nil, err
	}
	return f.Bucket.Get(ctx, name)
}

func (f *flaky) UploadIfNotExists(ctx context.Context, name string, r io.Reader) error {
	if err := f.next(); err != nil {
		return err
	}
	return f.Bucket.UploadIfNotExists(ctx, name, r)
}

// slowDown is what the S3 backend returns for a 503 SlowDown answer.
var slowDown = fmt.Errorf("objstore/s3: upload s3://b/k: %w: api error SlowDown: Please reduce your request rate", objstore.ErrTransient)

type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func retryOpts(s *sleeps) objstore.RetryOptions {
	return objstore.RetryOptions{MaxAttempts: 4, BaseDelay: 100 * time.Millisecond, MaxDelay: 250 * time.Millisecond, Sleep: s.sleep}
}

func TestRetrySlowDownThenSuccess(t *testing.T) {
	ctx := context.Background()
	f := &flaky{Bucket: mem.New(), errs: []error{slowDown, slowDown, slowDown}}
	var s sleeps
	b := objstore.WithRetry(f, retryOpts(&s))
	// A plain (unseekable) reader: every try must send the same bytes.
	body := io.MultiReader(bytes.NewReader([]byte("payload")))
	if err := b.Upload(ctx, "k", body); err != nil {
		t.Fatalf("Upload after 3 SlowDowns: %v", err)
	}
	if f.calls != 4 {
		t.Fatalf("calls = %d, want 4", f.calls)
	}
	rc, err := f.Bucket.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(rc); string(got) != "payload" {
		t.Fatalf("stored %q", got)
	}
	// Full jitter within an exponential backoff capped at MaxDelay.
	caps := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond}
	if len(s.d) != 3 {
		t.Fatalf("slept %v, want 3 waits", s.d)
	}
	for i, d := range s.d {
		if d <= 0 || d > caps[i] {
			t.Errorf("wait %d = %v, want in (0, %v]", i, d, caps[i])
		}
	}
}

func TestRetryJitterSpreads(t *testing.T) {
	var s sleeps
	for range 50 {
		f := &flaky{Bucket: mem.New(), errs: []error{slowDown}}
		_, _ = objstore.WithRetry(f, retryOpts(&s)).Get(context.Background(), "missing")
	}
	slices.Sort(s.d)
	if len(s.d) != 50 || s.d[0] == s.d[len(s.d)-1] {
		t.Fatalf("50 first waits are not spread by jitter: %v .. %v", s.d[0], s.d[len(s.d)-1])
	}
}

func TestRetryPermanentErrorsNotRetried(t *testing.T) {
	ctx := context.Background()
	perm := errors.New("access denied")
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"plain", perm},
		{"not found", fmt.Errorf("x: %w", objstore.ErrNotFound)},
		{"precondition", fmt.Errorf("x: %w", objstore.ErrPreconditionFailed)},
		{"canceled", context.Canceled},
	} {
		f := &flaky{Bucket: mem.New(), errs: []error{tc.err, tc.err}}
		var s sleeps
		_, err := objstore.WithRetry(f, retryOpts(&s)).Get(ctx, "k")
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if f.calls != 1 || len(s.d) != 0 {
			t.Errorf("%s: %d calls, %d sleeps; want 1 call, no retry", tc.name, f.calls, len(s.d))
		}
	}
}

func TestRetryGivesUp(t *testing.T) {
	f := &flaky{Bucket: mem.New(), errs: []error{slowDown, slowDown, slowDown, slowDown, slowDown}}
	var s sleeps
	err := objstore.WithRetry(f, retryOpts(&s)).UploadIfNotExists(context.Background(), "k", bytes.NewReader([]byte("x")))
	if !errors.Is(err, objstore.ErrTransient) || f.calls != 4 {
		t.Fatalf("err = %v after %d calls, want ErrTransient after 4", err, f.calls)
	}
	if ok, _ := f.Bucket.Exists(context.Background(), "k"); ok {
		t.Fatal("object written although every try failed")
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &flaky{Bucket: mem.New(), errs: []error{slowDown, slowDown, slowDown}}
	opts := objstore.RetryOptions{MaxAttempts: 10, BaseDelay: time.Hour}
	done := make(chan error, 1)
	go func() { _, err := objstore.WithRetry(f, opts).Get(ctx, "k"); done <- err }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("retry kept sleeping after the context was canceled")
	}
}

func TestIsRetryable(t *testing.T) {
	yes := []error{
		slowDown,
		&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED},
		fmt.Errorf("read: %w", syscall.ECONNRESET),
		io.ErrUnexpectedEOF,
	}
	no := []error{nil, errors.New("x"), objstore.ErrNotFound, objstore.ErrInvalidName, context.DeadlineExceeded,
		fmt.Errorf("%w: %w", objstore.ErrTransient, context.Canceled)}
	for _, e := range yes {
		if !objstore.IsRetryable(e) {
			t.Errorf("IsRetryable(%v) = false", e)
		}
	}
	for _, e := range no {
		if objstore.IsRetryable(e) {
			t.Errorf("IsRetryable(%v) = true", e)
		}
	}
}

// iterFlaky fails Iter once after delivering some names.
type iterFlaky struct {
	objstore.Bucket
	failed bool
}

func (f *iterFlaky) Iter(ctx context.Context, prefix string, fn func(string) error) error {
	n := 0
	return f.Bucket.Iter(ctx, prefix, func(name string) error {
		if n == 2 && !f.failed {
			f.failed = true
			return fmt.Errorf("list page 2: %w", objstore.ErrTransient)
		}
		n++
		return fn(name)
	})
}

func TestRetryIterResumesWithoutDuplicates(t *testing.T) {
	ctx := context.Background()
	m := mem.New()
	want := []string{"a", "b", "c", "d", "e"}
	for _, n := range want {
		if err := m.Upload(ctx, n, bytes.NewReader(nil)); err != nil {
			t.Fatal(err)
		}
	}
	var s sleeps
	b := objstore.WithRetry(&iterFlaky{Bucket: m}, retryOpts(&s))
	var got []string
	if err := b.Iter(ctx, "", func(n string) error { got = append(got, n); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) || len(s.d) != 1 {
		t.Fatalf("Iter = %v with %d retries, want %v after 1", got, len(s.d), want)
	}
	// An error from fn itself is returned as is and not retried.
	stop := fmt.Errorf("stop: %w", objstore.ErrTransient)
	calls := 0
	err := b.Iter(ctx, "", func(string) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Fatalf("fn error: %v after %d calls", err, calls)
	}
}

func TestRetryAcceptance(t *testing.T) {
	objstoretestRun(t, objstore.WithRetry(mem.New(), objstore.RetryOptions{}))
}
