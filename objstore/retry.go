package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	"github.com/strata-io/strata/objstore/internal/spool"
)

// RetryOptions tune WithRetry. Zero fields take the defaults.
type RetryOptions struct {
	// MaxAttempts is the total number of tries per call (default 5).
	MaxAttempts int
	// BaseDelay is the backoff before the second try (default 100ms); it
	// doubles per try up to MaxDelay (default 5s). Each wait is drawn
	// uniformly from [0, backoff) ("full jitter"), so throttled clients
	// spread out instead of retrying in step.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// Sleep waits d or until ctx ends; tests inject a fake. Nil uses a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives one debug line per retry; nil discards.
	Logger *slog.Logger
}

func (o RetryOptions) withDefaults() RetryOptions {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = 100 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 5 * time.Second
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// IsRetryable reports whether a failed call may succeed if repeated:
// errors marked ErrTransient (throttling such as S3 503 SlowDown, 5xx,
// timeouts) and network failures. Answers that are definite (ErrNotFound,
// ErrPreconditionFailed, bad names or ranges) and cancellations are not.
func IsRetryable(err error) bool {
	switch {
	case err == nil,
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, ErrNotFound), errors.Is(err, ErrPreconditionFailed),
		errors.Is(err, ErrInvalidName), errors.Is(err, ErrInvalidRange):
		return false
	case errors.Is(err, ErrTransient),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// WithRetry returns b with every call retried on retryable errors
// (IsRetryable) with exponential backoff and full jitter. Upload bodies are
// spooled once (memory, or a temp file when large) so each try sends the
// same bytes. Get and GetRange retry opening the object, not a read that
// fails midway. Iter resumes after the last name it delivered, so fn never
// sees a name twice. Caveat for non-idempotent calls: if a try succeeds but
// its answer is lost, the retry of UploadIfNotExists reports
// ErrPreconditionFailed and that of Delete ErrNotFound.
func WithRetry(b Bucket, opts RetryOptions) Bucket {
	return &retrying{b: b, o: opts.withDefaults()}
}

type retrying struct {
	b Bucket
	o RetryOptions
}

// do runs fn until it succeeds, fails for good, or attempts run out.
func (r *retrying) do(ctx context.Context, op, name string, fn func() error) error {
	backoff := r.o.BaseDelay
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !IsRetryable(err) || ctx.Err() != nil {
			return err
		}
		if attempt >= r.o.MaxAttempts {
			return fmt.Errorf("objstore: %s %q: giving up after %d attempts: %w", op, name, attempt, err)
		}
		wait := rand.N(backoff) + 1
		r.o.Logger.DebugContext(ctx, "objstore: retrying", "op", op, "name", name, "attempt", attempt, "wait", wait, "err", err)
		if err := r.o.Sleep(ctx, wait); err != nil {
			return err
		}
		backoff = min(2*backoff, r.o.MaxDelay)
	}
}

func (r *retrying) upload(ctx context.Context, op, name string, body io.Reader, put func(context.Context, string, io.Reader) error) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	sp, err := spool.New(body)
	if err != nil {
		return fmt.Errorf("objstore: %s %q: %w", op, name, err)
	}
	defer sp.Close()
	return r.do(ctx, op, name, func() error {
		if err := sp.Rewind(); err != nil {
			return fmt.Errorf("objstore: %s %q: rewind body: %w", op, name, err)
		}
		return put(ctx, name, sp)
	})
}

func (r *retrying) Upload(ctx context.Context, name string, body io.Reader) error {
	return r.upload(ctx, "upload", name, body, r.b.Upload)
}

func (r *retrying) UploadIfNotExists(ctx context.Context, name string, body io.Reader) error {
	return r.upload(ctx, "conditional upload", name, body, r.b.UploadIfNotExists)
}

func (r *retrying) Get(ctx context.Context, name string) (rc io.ReadCloser, err error) {
	err = r.do(ctx, "get", name, func() (err error) { rc, err = r.b.Get(ctx, name); return err })
	return rc, err
}

func (r *retrying) GetRange(ctx context.Context, name string, off, length int64) (rc io.ReadCloser, err error) {
	err = r.do(ctx, "get range", name, func() (err error) { rc, err = r.b.GetRange(ctx, name, off, length); return err })
	return rc, err
}

func (r *retrying) Exists(ctx context.Context, name string) (ok bool, err error) {
	err = r.do(ctx, "exists", name, func() (err error) { ok, err = r.b.Exists(ctx, name); return err })
	return ok, err
}

func (r *retrying) Attributes(ctx context.Context, name string) (a Attributes, err error) {
	err = r.do(ctx, "attributes", name, func() (err error) { a, err = r.b.Attributes(ctx, name); return err })
	return a, err
}

// fnError carries an error from the caller's Iter callback, never retried.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

func (r *retrying) Iter(ctx context.Context, prefix string, fn func(string) error) error {
	var last string
	delivered := false
	err := r.do(ctx, "iter", prefix, func() error {
		return r.b.Iter(ctx, prefix, func(name string) error {
			if delivered && name <= last {
				return nil // seen before the retry
			}
			if err := fn(name); err != nil {
				return fnError{err}
			}
			last, delivered = name, true
			return nil
		})
	})
	var fe fnError
	if errors.As(err, &fe) {
		return fe.err
	}
	return err
}

func (r *retrying) Delete(ctx context.Context, name string) error {
	return r.do(ctx, "delete", name, func() error { return r.b.Delete(ctx, name) })
}

func (r *retrying) Close() error { return r.b.Close() }
