package upload

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/strata-io/strata/broker/partlog"
	"github.com/strata-io/strata/objstore/mem"
	"github.com/strata-io/strata/tiering/segment"
)

func TestUploadCommitAndLocalRetention(t *testing.T) {
	ev := &events{}
	bucket := &faultyBucket{Bucket: mem.New(), ev: ev}
	man := newFakeManifest(ev)
	p := newPartition(t, 4, partlog.Config{LocalRetentionBytes: 4 * batchSize})
	appendN(t, p, 14, time.Now().UnixMilli()) // sealed 0-3, 4-7, 8-11; active 12-13
	reg := prometheus.NewRegistry()
	cfg := testConfig()
	cfg.Registerer = reg
	u := New(cfg, bucket, man, testLogger(t))
	u.Track(p)
	u.Track(p) // no-op
	waitFor(t, "three segments committed", func() bool { return len(man.list(p)) == 3 })
	u.Close()

	segs := man.list(p)
	for i, s := range segs {
		if s.BaseOffset != int64(4*i) || s.LastOffset != int64(4*i+3) || s.LeaderEpoch != 3 {
			t.Fatalf("segment %d: %+v", i, s)
		}
		n, err := segment.ParseName(s.Object)
		if err != nil || n.BaseOffset != s.BaseOffset || n.LeaderEpoch != 3 || n.TopicID != p.topic || n.Partition != 7 {
			t.Fatalf("object name %q: %+v %v", s.Object, n, err)
		}
		rc, err := bucket.Get(context.Background(), s.Object)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		foot, err := segment.VerifyObject(context.Background(), bytes.NewReader(data), int64(len(data)))
		if err != nil || foot.RecordCount != 4 || int64(len(data)) != s.Size || foot.MaxTimestamp != s.MaxTimestamp {
			t.Fatalf("object %s: %+v, %d bytes: %v", s.Object, foot, len(data), err)
		}
	}
	if got := p.log.UploadedOffset(); got != 11 {
		t.Fatalf("uploaded offset %d", got)
	}
	if got := testutil.ToFloat64(u.m.segments); got != 3 {
		t.Fatalf("uploaded segments metric %v", got)
	}
	if got := testutil.ToFloat64(u.m.uploaded); got != float64(segs[0].Size+segs[1].Size+segs[2].Size) {
		t.Fatalf("uploaded bytes metric %v", got)
	}
	if n := testutil.CollectAndCount(reg, "strata_tiering_upload_duration_seconds"); n != 1 {
		t.Fatalf("latency histogram: %d series", n)
	}
	// Local retention may now drop uploaded segments, keeping >= 4 batches.
	if _, err := p.log.ApplyRetention(time.Now()); err != nil {
		t.Fatal(err)
	}
	if p.log.LocalLogStartOffset() != 8 || p.log.LogStartOffset() != 0 {
		t.Fatalf("local start %d, start %d", p.log.LocalLogStartOffset(), p.log.LogStartOffset())
	}

	// A restarted broker (fresh uploader, upload marks lost) re-reads the
	// manifest and uploads nothing twice.
	cfgLog := p.log.Config()
	if err := p.log.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := partlog.Open(p.dir, cfgLog, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if l2.UploadedOffset() != -1 || l2.LocalLogStartOffset() != 8 || l2.LogStartOffset() != 0 {
		t.Fatalf("reopened: uploaded %d, local start %d", l2.UploadedOffset(), l2.LocalLogStartOffset())
	}
	p2 := &testPartition{topic: p.topic, part: p.part, log: l2}
	p2.epoch.Store(3)
	uploads := bucket.uploads.Load()
	u2 := New(testConfig(), bucket, man, testLogger(t))
	u2.Track(p2)
	if err := u2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	u2.Close()
	segs = man.list(p)
	if len(segs) != 4 || segs[3].BaseOffset != 12 || segs[3].LastOffset != 13 {
		t.Fatalf("after flush: %+v", segs)
	}
	if n := bucket.uploads.Load() - uploads; n != 1 {
		t.Fatalf("%d uploads after restart, want 1 (the flushed active segment)", n)
	}
}

func TestFencedUploadIsDeleted(t *testing.T) {
	ev := &events{}
	bucket := &faultyBucket{Bucket: mem.New(), ev: ev}
	man := newFakeManifest(ev)
	p := newPartition(t, 2, partlog.Config{})
	man.setEpoch(p, 5) // a newer leader exists; we are at 3
	appendN(t, p, 3, 1)
	cfg := testConfig()
	cfg.Registerer = prometheus.NewRegistry()
	u := New(cfg, bucket, man, testLogger(t))
	defer u.Close()
	u.Track(p)
	waitFor(t, "two fenced attempts", func() bool { return testutil.ToFloat64(u.m.failures.WithLabelValues("fenced")) >= 2 })
	u.Untrack(p)
	if objs := objects(t, bucket); len(objs) != 0 {
		t.Fatalf("fenced uploads left objects: %v", objs)
	}
	if len(man.list(p)) != 0 || p.log.UploadedOffset() != -1 {
		t.Fatalf("fenced upload committed or marked: %v, %d", man.list(p), p.log.UploadedOffset())
	}
	// Each fenced object was uploaded, then deleted.
	evs := ev.list()
	if len(evs) < 2 || !strings.HasPrefix(evs[0], "upload ") || evs[1] != "object-delete "+strings.TrimPrefix(evs[0], "upload ") {
		t.Fatalf("events %v", evs)
	}
	// Elected again with a newer epoch: the upload goes through.
	p.epoch.Store(6)
	u.Track(p)
	waitFor(t, "commit at epoch 6", func() bool { return len(man.list(p)) == 1 })
	if s := man.list(p)[0]; s.LeaderEpoch != 6 || !strings.Contains(s.Object, "-6-") {
		t.Fatalf("committed %+v", s)
	}
	if objs := objects(t, bucket); len(objs) != 1 {
		t.Fatalf("objects %v", objs)
	}
}

func TestRetryAfterBucketAndManifestErrors(t *testing.T) {
	ev := &events{}
	bucket := newFSBucket(t, ev)
	bucket.failUploads.Store(3)
	man := newFakeManifest(ev)
	man.failN = 2 // transient commit errors are retried without re-uploading
	p := newPartition(t, 2, partlog.Config{})
	appendN(t, p, 3, 1)
	cfg := testConfig()
	cfg.Registerer = prometheus.NewRegistry()
	u := New(cfg, bucket, man, testLogger(t))
	defer u.Close()
	u.Track(p)
	waitFor(t, "commit after failures", func() bool { return len(man.list(p)) == 1 })
	if got := testutil.ToFloat64(u.m.failures.WithLabelValues("upload")); got != 3 {
		t.Fatalf("upload failures %v, want 3", got)
	}
	if got := bucket.uploads.Load(); got != 4 {
		t.Fatalf("%d upload attempts, want 4", got)
	}
	if objs := objects(t, bucket); len(objs) != 1 || objs[0] != man.list(p)[0].Object {
		t.Fatalf("objects %v", objs)
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	lo, hi := 10*time.Millisecond, time.Second
	for attempt, want := range []time.Duration{10, 20, 40, 80} {
		want *= time.Millisecond
		for i := 0; i < 50; i++ {
			if d := backoff(lo, hi, attempt); d < want/2 || d > want {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
	if d := backoff(lo, hi, 40); d < hi/2 || d > hi {
		t.Fatalf("capped backoff %v", d)
	}
}

// gateBucket blocks uploads until released and records the peak number in
// flight.
type gateBucket struct {
	*faultyBucket
	mu       sync.Mutex
	inFlight int
	peak     int
	release  chan struct{}
}

func (b *gateBucket) Upload(ctx context.Context, name string, r io.Reader) error {
	b.mu.Lock()
	b.inFlight++
	b.peak = max(b.peak, b.inFlight)
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.inFlight--
		b.mu.Unlock()
	}()
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return b.faultyBucket.Upload(ctx, name, r)
}

func TestBoundedConcurrency(t *testing.T) {
	ev := &events{}
	b := &gateBucket{faultyBucket: &faultyBucket{Bucket: mem.New(), ev: ev}, release: make(chan struct{})}
	man := newFakeManifest(ev)
	cfg := testConfig()
	cfg.Concurrency = 2
	u := New(cfg, b, man, testLogger(t))
	defer u.Close()
	var parts []*testPartition
	for i := 0; i < 5; i++ {
		p := newPartition(t, 1, partlog.Config{})
		p.part = int32(i)
		appendN(t, p, 2, 1) // one sealed segment each
		parts = append(parts, p)
		u.Track(p)
	}
	waitFor(t, "two uploads in flight", func() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.inFlight == 2 })
	time.Sleep(50 * time.Millisecond) // give a third upload the chance to start if the bound were broken
	close(b.release)
	for _, p := range parts {
		waitFor(t, "commit", func() bool { return len(man.list(p)) == 1 })
	}
	if b.peak != 2 {
		t.Fatalf("peak concurrent uploads %d, want 2", b.peak)
	}
}
