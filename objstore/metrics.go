package objstore

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the object-store collectors, registered once per
// Registerer; Wrap instruments any number of buckets with them.
//
//	strata_objstore_operations_total{bucket,operation}
//	strata_objstore_operation_failures_total{bucket,operation,reason}
//	strata_objstore_operation_duration_seconds{bucket,operation}
//	strata_objstore_bytes_total{bucket,direction}    direction: upload|download
//
// reason is not_found, precondition_failed, invalid, transient, canceled
// or other. Durations of Get/GetRange end when the object is open, not
// when it has been read.
type Metrics struct {
	ops      *prometheus.CounterVec
	failures *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bytes    *prometheus.CounterVec
}

// NewMetrics registers the collectors on reg (nil: not registered). If
// reg already holds them (another NewMetrics on the same registry), those
// are reused.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_objstore_operations_total", Help: "Object store calls, by bucket and operation.",
		}, []string{"bucket", "operation"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_objstore_operation_failures_total", Help: "Object store calls that returned an error, by reason.",
		}, []string{"bucket", "operation", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "strata_objstore_operation_duration_seconds",
			Help:    "Object store call latency (for reads: until the object is open).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"bucket", "operation"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_objstore_bytes_total", Help: "Bytes uploaded and downloaded.",
		}, []string{"bucket", "direction"}),
	}
	if reg != nil {
		m.ops = register(reg, m.ops)
		m.failures = register(reg, m.failures)
		m.duration = register(reg, m.duration)
		m.bytes = register(reg, m.bytes)
	}
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a clashing collector of another type is a programming error
	}
	return c
}

// WithMetrics instruments b on reg under the bucket label name.
func WithMetrics(b Bucket, reg prometheus.Registerer, name string) Bucket {
	return NewMetrics(reg).Wrap(b, name)
}

// Wrap instruments b; name is the bucket label.
func (m *Metrics) Wrap(b Bucket, name string) Bucket {
	return &instrumented{b: b, m: m, name: name,
		up: m.bytes.WithLabelValues(name, "upload"), down: m.bytes.WithLabelValues(name, "download")}
}

func failureReason(err error) string {
	switch {
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrPreconditionFailed):
		return "precondition_failed"
	case errors.Is(err, ErrInvalidName), errors.Is(err, ErrInvalidRange):
		return "invalid"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	case IsRetryable(err):
		return "transient"
	}
	return "other"
}

type instrumented struct {
	b        Bucket
	m        *Metrics
	name     string
	up, down prometheus.Counter
}

// observe records one call that started at start.
func (i *instrumented) observe(op string, start time.Time, err error) {
	i.m.ops.WithLabelValues(i.name, op).Inc()
	i.m.duration.WithLabelValues(i.name, op).Observe(time.Since(start).Seconds())
	if err != nil {
		i.m.failures.WithLabelValues(i.name, op, failureReason(err)).Inc()
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// seekerSize returns the bytes left in rs from its position, leaving the
// position unchanged.
func seekerSize(rs io.ReadSeeker) (int64, bool) {
	cur, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, false
	}
	end, err := rs.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, false
	}
	if _, err := rs.Seek(cur, io.SeekStart); err != nil {
		return 0, false
	}
	return end - cur, true
}

// upload passes a seekable body through untouched (so the backend can send
// it without copying it again) and counts its size; other bodies are
// counted as they are read.
func (i *instrumented) upload(ctx context.Context, op, name string, r io.Reader, put func(context.Context, string, io.Reader) error) error {
	start := time.Now()
	var size func() int64
	if rs, ok := r.(io.ReadSeeker); ok {
		if n, ok := seekerSize(rs); ok {
			size = func() int64 { return n }
		}
	}
	if size == nil {
		cr := &countingReader{r: r}
		r, size = cr, func() int64 { return cr.n }
	}
	err := put(ctx, name, r)
	i.observe(op, start, err)
	if err == nil {
		i.up.Add(float64(size()))
	}
	return err
}

func (i *instrumented) Upload(ctx context.Context, name string, r io.Reader) error {
	return i.upload(ctx, "upload", name, r, i.b.Upload)
}

func (i *instrumented) UploadIfNotExists(ctx context.Context, name string, r io.Reader) error {
	return i.upload(ctx, "upload_if_not_exists", name, r, i.b.UploadIfNotExists)
}

// countingReadCloser adds what the caller reads to the download counter.
type countingReadCloser struct {
	io.ReadCloser
	c prometheus.Counter
}

func (c *countingReadCloser) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.c.Add(float64(n))
	return n, err
}

func (i *instrumented) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	start := time.Now()
	rc, err := i.b.Get(ctx, name)
	i.observe("get", start, err)
	if err != nil {
		return nil, err
	}
	return &countingReadCloser{ReadCloser: rc, c: i.down}, nil
}

func (i *instrumented) GetRange(ctx context.Context, name string, off, length int64) (io.ReadCloser, error) {
	start := time.Now()
	rc, err := i.b.GetRange(ctx, name, off, length)
	i.observe("get_range", start, err)
	if err != nil {
		return nil, err
	}
	return &countingReadCloser{ReadCloser: rc, c: i.down}, nil
}

func (i *instrumented) Exists(ctx context.Context, name string) (bool, error) {
	start := time.Now()
	ok, err := i.b.Exists(ctx, name)
	i.observe("exists", start, err)
	return ok, err
}

func (i *instrumented) Attributes(ctx context.Context, name string) (Attributes, error) {
	start := time.Now()
	a, err := i.b.Attributes(ctx, name)
	i.observe("attributes", start, err)
	return a, err
}

func (i *instrumented) Iter(ctx context.Context, prefix string, fn func(string) error) error {
	start := time.Now()
	err := i.b.Iter(ctx, prefix, fn)
	i.observe("iter", start, err)
	return err
}

func (i *instrumented) Delete(ctx context.Context, name string) error {
	start := time.Now()
	err := i.b.Delete(ctx, name)
	i.observe("delete", start, err)
	return err
}

func (i *instrumented) Close() error { return i.b.Close() }
