package upload

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/strata-io/strata/broker/partlog"
	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/objstore/mem"
	"github.com/strata-io/strata/tiering/segment"
)

func TestGarbageCollectsOldOrphans(t *testing.T) {
	ctx := context.Background()
	ev := &events{}
	bucket := newFSBucket(t, ev)
	man := newFakeManifest(ev)
	p := newPartition(t, 2, partlog.Config{})
	appendN(t, p, 3, 1)
	cfg := testConfig()
	cfg.Registerer = prometheus.NewRegistry()
	u := New(cfg, bucket, man, testLogger(t))
	defer u.Close()
	u.Track(p)
	waitFor(t, "commit", func() bool { return len(man.list(p)) == 1 })
	u.Untrack(p)
	committed := man.list(p)[0].Object

	put := func(name string, age time.Duration) { bucket.putAged(t, name, age) }
	segName := func(base int64) string {
		return segment.Name(segment.ObjectName{TopicID: p.topic, Partition: p.part, BaseOffset: base, LeaderEpoch: 3, ID: segment.NewID()})
	}
	oldOrphan, youngOrphan := segName(100), segName(200)
	put(oldOrphan, 2*time.Hour)
	put(youngOrphan, 10*time.Minute)
	foreign := segment.PartitionPrefix(p.topic, p.part) + "notes.txt"
	put(foreign, 5*time.Hour)
	// The committed object is old too, but the manifest holds it.
	bucket.age(t, committed, 3*time.Hour)
	n, err := u.collectGarbage(ctx, p, testLogger(t))
	if err != nil || n != 1 {
		t.Fatalf("collected %d: %v", n, err)
	}
	objs := objects(t, bucket)
	want := []string{committed, youngOrphan, foreign}
	slices.Sort(want)
	if !slices.Equal(objs, want) {
		t.Fatalf("objects after gc %v, want %v", objs, want)
	}
	if got := testutil.ToFloat64(u.m.orphans); got != 1 {
		t.Fatalf("orphan metric %v", got)
	}
}

func TestRemoteRetentionManifestFirst(t *testing.T) {
	ctx := context.Background()
	ev := &events{}
	bucket := &faultyBucket{Bucket: mem.New(), ev: ev}
	man := newFakeManifest(ev)
	now := time.Now()
	// Keep everything locally so remote retention alone moves the log start.
	p := newPartition(t, 2, partlog.Config{RetentionMs: int64(time.Hour / time.Millisecond), LocalRetentionMs: -1})
	old := now.Add(-2 * time.Hour).UnixMilli()
	appendN(t, p, 4, old)             // segments 0-1, 2-3: expired
	appendN(t, p, 3, now.UnixMilli()) // 4-5 sealed, 6 active
	cfg := testConfig()
	cfg.Registerer = prometheus.NewRegistry()
	cfg.RetentionInterval = time.Hour // only the explicit passes below
	u := New(cfg, bucket, man, testLogger(t))
	defer u.Close()
	u.Track(p)
	waitFor(t, "three commits", func() bool { return len(man.list(p)) == 3 })
	u.Untrack(p)
	before := man.list(p)

	if err := u.applyRetention(ctx, p, testLogger(t)); err != nil {
		t.Fatal(err)
	}
	if segs := man.list(p); len(segs) != 1 || segs[0].BaseOffset != 4 {
		t.Fatalf("manifest after retention %+v", segs)
	}
	if p.log.LogStartOffset() != 4 || p.log.LocalLogStartOffset() != 4 {
		t.Fatalf("log start %d, local %d", p.log.LogStartOffset(), p.log.LocalLogStartOffset())
	}
	if objs := objects(t, bucket); len(objs) != 1 || objs[0] != before[2].Object {
		t.Fatalf("objects %v", objs)
	}
	// Manifest entries go before any object.
	var order []string
	for _, e := range ev.list() {
		if strings.HasPrefix(e, "manifest-delete") || strings.HasPrefix(e, "object-delete") {
			order = append(order, e)
		}
	}
	want := []string{
		"manifest-delete " + before[0].Object, "manifest-delete " + before[1].Object,
		"object-delete " + before[0].Object, "object-delete " + before[1].Object,
	}
	if !slices.Equal(order, want) {
		t.Fatalf("delete order %v, want %v", order, want)
	}

	// DeleteRecords past a remote segment removes it remotely too.
	appendN(t, p, 2, now.UnixMilli()) // 6-7 sealed (not uploaded), 8 active
	if _, err := p.log.DeleteRecords(6); err != nil {
		t.Fatal(err)
	}
	if err := u.applyRetention(ctx, p, testLogger(t)); err != nil {
		t.Fatal(err)
	}
	if segs := man.list(p); len(segs) != 0 {
		t.Fatalf("segment below the log start still in the manifest: %+v", segs)
	}
	if objs := objects(t, bucket); len(objs) != 0 {
		t.Fatalf("objects %v", objs)
	}
	if p.log.LogStartOffset() != 6 {
		t.Fatalf("log start %d", p.log.LogStartOffset())
	}
}

func TestRemoteRetentionBytes(t *testing.T) {
	ctx := context.Background()
	ev := &events{}
	bucket := &faultyBucket{Bucket: mem.New(), ev: ev}
	man := newFakeManifest(ev)
	p := newPartition(t, 2, partlog.Config{LocalRetentionMs: -1})
	appendN(t, p, 9, time.Now().UnixMilli()) // 4 sealed segments + active with 1
	cfg := testConfig()
	cfg.Registerer = prometheus.NewRegistry()
	cfg.RetentionInterval = time.Hour
	u := New(cfg, bucket, man, testLogger(t))
	defer u.Close()
	u.Track(p)
	waitFor(t, "four commits", func() bool { return len(man.list(p)) == 4 })
	u.Untrack(p)
	segs := man.list(p)
	// Keep what the two newest segments plus the local active need.
	limit := segs[2].Size + segs[3].Size + batchSize
	p.log.SetConfig(withRetentionBytes(p.log.Config(), limit))
	if err := u.applyRetention(ctx, p, testLogger(t)); err != nil {
		t.Fatal(err)
	}
	left := man.list(p)
	if len(left) != 2 || left[0].BaseOffset != 4 || p.log.LogStartOffset() != 4 {
		t.Fatalf("after bytes retention: %+v, log start %d", left, p.log.LogStartOffset())
	}
}

func withRetentionBytes(c partlog.Config, n int64) partlog.Config {
	c.RetentionBytes = n
	return c
}

func TestFlushUploadsActiveSegment(t *testing.T) {
	ev := &events{}
	bucket := &faultyBucket{Bucket: mem.New(), ev: ev}
	man := newFakeManifest(ev)
	var parts []*testPartition
	u := New(testConfig(), bucket, man, testLogger(t))
	defer u.Close()
	for i := 0; i < 3; i++ {
		p := newPartition(t, 100, partlog.Config{})
		p.part = int32(i)
		appendN(t, p, 5+i, 1) // all in the active segment
		parts = append(parts, p)
		u.Track(p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i, p := range parts {
		segs := man.list(p)
		if len(segs) != 1 || segs[0].BaseOffset != 0 || segs[0].LastOffset != int64(4+i) {
			t.Fatalf("partition %d manifest %+v", i, segs)
		}
		if p.log.UnuploadedBytes() != 0 {
			t.Fatalf("partition %d still has %d bytes to upload", i, p.log.UnuploadedBytes())
		}
	}
	if u.Backlog() != 0 {
		t.Fatalf("backlog %d after flush", u.Backlog())
	}
	// With the store down, Flush gives up when ctx ends and says why.
	bucket.down.Store(true)
	appendN(t, parts[0], 1, 1)
	short, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if err := u.Flush(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("flush with the store down: %v", err)
	}
}

func TestIdleRoll(t *testing.T) {
	ev := &events{}
	man := newFakeManifest(ev)
	cfg := testConfig()
	cfg.IdleRollAfter = 30 * time.Millisecond
	u := New(cfg, &faultyBucket{Bucket: mem.New(), ev: ev}, man, testLogger(t))
	defer u.Close()
	p := newPartition(t, 100, partlog.Config{})
	u.Track(p)
	appendN(t, p, 3, 1)
	waitFor(t, "idle segment uploaded", func() bool { return len(man.list(p)) == 1 })
	if s := man.list(p)[0]; s.LastOffset != 2 {
		t.Fatalf("segment %+v", s)
	}
}

func TestBacklogBoundAndOutage(t *testing.T) {
	ev := &events{}
	bucket := &faultyBucket{Bucket: mem.New(), ev: ev}
	bucket.down.Store(true)
	man := newFakeManifest(ev)
	cfg := testConfig()
	cfg.MaxLocalBacklogBytes = 5 * batchSize
	cfg.IdleRollAfter = 20 * time.Millisecond
	cfg.Registerer = prometheus.NewRegistry()
	u := New(cfg, bucket, man, testLogger(t))
	defer u.Close()
	p := newPartition(t, 2, partlog.Config{LocalRetentionBytes: 1})
	u.Track(p)
	for i := 0; i < 5; i++ {
		if !u.Accepting(p) {
			t.Fatalf("not accepting at %d bytes", p.log.UnuploadedBytes())
		}
		appendN(t, p, 1, 1)
	}
	if !u.Accepting(p) || u.Backlog() != 5*batchSize {
		t.Fatalf("accepting %v, backlog %d at the bound", u.Accepting(p), u.Backlog())
	}
	appendN(t, p, 1, 1)
	if u.Accepting(p) {
		t.Fatal("still accepting past the bound")
	}
	waitFor(t, "failed uploads", func() bool { return testutil.ToFloat64(u.m.failures.WithLabelValues("upload")) >= 3 })
	if len(man.list(p)) != 0 {
		t.Fatal("committed while the store is down")
	}
	// Local retention cannot delete anything that is not uploaded.
	if _, err := p.log.ApplyRetention(time.Now()); err != nil || p.log.LocalLogStartOffset() != 0 {
		t.Fatalf("local retention during outage: local start %d, %v", p.log.LocalLogStartOffset(), err)
	}
	// The store returns: uploads catch up and produce is accepted again.
	bucket.down.Store(false)
	waitFor(t, "catch-up", func() bool { return len(man.list(p)) == 3 })
	if !u.Accepting(p) {
		t.Fatalf("not accepting after catch-up: %d bytes", p.log.UnuploadedBytes())
	}
	if got := gaugeValue(t, cfg.Registerer.(*prometheus.Registry), "strata_tiering_upload_backlog_bytes"); got != 0 {
		t.Fatalf("backlog gauge %v with an empty active segment", got)
	}
	// Every acknowledged record is in the manifest.
	if segs := man.list(p); segs[2].LastOffset != 5 {
		t.Fatalf("manifest %+v", segs)
	}
}

// gaugeValue reads a gauge's value from reg.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("gauge %s not registered", name)
	return 0
}

var _ objstore.Bucket = (*faultyBucket)(nil)

func TestLoopAppliesRetention(t *testing.T) {
	ev := &events{}
	bucket := &faultyBucket{Bucket: mem.New(), ev: ev}
	man := newFakeManifest(ev)
	p := newPartition(t, 2, partlog.Config{RetentionMs: int64(time.Hour / time.Millisecond), LocalRetentionMs: -1})
	appendN(t, p, 4, time.Now().Add(-2*time.Hour).UnixMilli()) // two expired segments
	appendN(t, p, 1, time.Now().UnixMilli())
	cfg := testConfig()
	cfg.RetentionInterval = 10 * time.Millisecond
	u := New(cfg, bucket, man, testLogger(t))
	defer u.Close()
	u.Track(p)
	waitFor(t, "log start moved by remote retention", func() bool { return p.log.LogStartOffset() == 4 })
	waitFor(t, "objects deleted", func() bool { return len(objects(t, bucket)) == 0 })
	if segs := man.list(p); len(segs) != 0 {
		t.Fatalf("manifest %+v", segs)
	}
}
