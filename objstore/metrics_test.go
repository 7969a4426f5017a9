package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/objstore/mem"
	"github.com/strata-io/strata/objstore/objstoretest"
)

func objstoretestRun(t *testing.T, b objstore.Bucket) { objstoretest.Run(t, b) }

func TestMetrics(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewPedanticRegistry()
	m := objstore.NewMetrics(reg)
	b := m.Wrap(mem.New(), "tier")

	if err := b.Upload(ctx, "k", bytes.NewReader([]byte("12345"))); err != nil {
		t.Fatal(err)
	}
	rc, err := b.GetRange(ctx, "k", 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if _, err := b.Get(ctx, "missing"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatal(err)
	}
	// An unseekable body is counted as read.
	if err := b.Upload(ctx, "k2", io.MultiReader(strings.NewReader("678"))); err != nil {
		t.Fatal(err)
	}
	if err := b.UploadIfNotExists(ctx, "k", bytes.NewReader([]byte("x"))); !errors.Is(err, objstore.ErrPreconditionFailed) {
		t.Fatal(err)
	}

	expect := `
# HELP strata_objstore_bytes_total Bytes uploaded and downloaded.
# TYPE strata_objstore_bytes_total counter
strata_objstore_bytes_total{bucket="tier",direction="download"} 3
strata_objstore_bytes_total{bucket="tier",direction="upload"} 8
# HELP strata_objstore_operation_failures_total Object store calls that returned an error, by reason.
# TYPE strata_objstore_operation_failures_total counter
strata_objstore_operation_failures_total{bucket="tier",operation="get",reason="not_found"} 1
strata_objstore_operation_failures_total{bucket="tier",operation="upload_if_not_exists",reason="precondition_failed"} 1
# HELP strata_objstore_operations_total Object store calls, by bucket and operation.
# TYPE strata_objstore_operations_total counter
strata_objstore_operations_total{bucket="tier",operation="get"} 1
strata_objstore_operations_total{bucket="tier",operation="get_range"} 1
strata_objstore_operations_total{bucket="tier",operation="upload"} 2
strata_objstore_operations_total{bucket="tier",operation="upload_if_not_exists"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(expect),
		"strata_objstore_bytes_total", "strata_objstore_operation_failures_total", "strata_objstore_operations_total"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(reg, "strata_objstore_operation_duration_seconds"); n != 4 {
		t.Fatalf("%d latency series, want 4 (one per operation)", n)
	}

	// A second wrapper on the same registry reuses the collectors.
	b2 := objstore.WithMetrics(mem.New(), reg, "other")
	if _, err := b2.Exists(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(mustCounter(t, reg, "other")); got != 1 {
		t.Fatalf("second bucket's exists count = %v", got)
	}
}

func mustCounter(t *testing.T, reg *prometheus.Registry, bucket string) prometheus.Collector {
	t.Helper()
	// Re-registering yields the existing vector; pick the series.
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strata_objstore_operations_total", Help: "Object store calls, by bucket and operation."}, []string{"bucket", "operation"})
	var are prometheus.AlreadyRegisteredError
	if err := reg.Register(vec); !errors.As(err, &are) {
		t.Fatalf("register: %v", err)
	}
	return are.ExistingCollector.(*prometheus.CounterVec).WithLabelValues(bucket, "exists")
}

func TestMetricsAcceptance(t *testing.T) {
	objstoretestRun(t, objstore.WithMetrics(mem.New(), prometheus.NewRegistry(), "mem"))
}

// seekCheck records whether uploads reach the backend seekable.
type seekCheck struct {
	objstore.Bucket
	seekable []bool
}

func (s *seekCheck) Upload(ctx context.Context, name string, r io.Reader) error {
	_, ok := r.(io.ReadSeeker)
	s.seekable = append(s.seekable, ok)
	return s.Bucket.Upload(ctx, name, r)
}

// The wrappers Open stacks keep an upload body seekable all the way down,
// so a backend never copies a large segment body a second time.
func TestWrappersKeepBodySeekable(t *testing.T) {
	sc := &seekCheck{Bucket: mem.New()}
	b := objstore.WithRetry(objstore.WithMetrics(objstore.WithPrefix(sc, "p"), prometheus.NewRegistry(), "x"), objstore.RetryOptions{})
	for _, body := range []io.Reader{strings.NewReader("seekable"), io.MultiReader(strings.NewReader("plain"))} {
		if err := b.Upload(context.Background(), "k", body); err != nil {
			t.Fatal(err)
		}
	}
	if len(sc.seekable) != 2 || !sc.seekable[0] || !sc.seekable[1] {
		t.Fatalf("backend saw seekable bodies: %v", sc.seekable)
	}
}
