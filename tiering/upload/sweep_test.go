package upload

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-io/strata/broker/partlog"
	"github.com/strata-io/strata/metastore"
	"github.com/strata-io/strata/tiering/segment"
)

// TestSweepUntrackedPartitions: Sweep collects old orphans of partitions
// the uploader does not track (a leadership that moved away, a deleted
// topic), keeps their committed and young objects, and leaves tracked
// partitions to their own loops.
func TestSweepUntrackedPartitions(t *testing.T) {
	ctx := context.Background()
	ev := &events{}
	bucket := newFSBucket(t, ev)
	man := newFakeManifest(ev)
	p := newPartition(t, 2, partlog.Config{})
	cfg := testConfig()
	cfg.Registerer = prometheus.NewRegistry()
	cfg.SweepInterval = -1
	u := New(cfg, bucket, man, testLogger(t))
	defer u.Close()
	u.Track(p)

	put := func(topic [16]byte, part int32, base int64, age time.Duration) string {
		t.Helper()
		name := segment.Name(segment.ObjectName{TopicID: topic, Partition: part, BaseOffset: base, LeaderEpoch: 1, ID: segment.NewID()})
		bucket.putAged(t, name, age)
		return name
	}
	moved := [16]byte{0xcd, 9}   // a partition led elsewhere now
	deleted := [16]byte{0xef, 4} // a deleted topic: nothing in the manifest
	committed := put(moved, 0, 0, 3*time.Hour)
	if err := man.CommitSegment(ctx, metastore.RemoteSegment{TopicID: moved, Partition: 0, BaseOffset: 0, LastOffset: 9, Size: 1, Object: committed}, 1); err != nil {
		t.Fatal(err)
	}
	movedOrphan := put(moved, 0, 10, 2*time.Hour)
	movedYoung := put(moved, 0, 20, time.Minute)
	deletedOld := put(deleted, 3, 0, 5*time.Hour)
	trackedOrphan := put(p.topic, p.part, 100, 2*time.Hour)
	foreign := "notes/readme.txt"
	if err := bucket.Upload(ctx, foreign, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}

	n, err := u.Sweep(ctx)
	if err != nil || n != 2 {
		t.Fatalf("swept %d: %v", n, err)
	}
	want := []string{committed, movedYoung, trackedOrphan, foreign}
	slices.Sort(want)
	if got := objects(t, bucket); !slices.Equal(got, want) {
		t.Fatalf("objects after sweep %v, want %v (deleted %s, %s)", got, want, movedOrphan, deletedOld)
	}
	// Once untracked, the partition's orphan goes too.
	u.Untrack(p)
	if n, err := u.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("second sweep %d: %v", n, err)
	}
}

// TestSweepLoopRuns: the uploader sweeps on its own every SweepInterval.
func TestSweepLoopRuns(t *testing.T) {
	ev := &events{}
	bucket := newFSBucket(t, ev)
	name := segment.Name(segment.ObjectName{TopicID: [16]byte{1}, Partition: 0, BaseOffset: 0, LeaderEpoch: 1, ID: segment.NewID()})
	bucket.putAged(t, name, 2*time.Hour)
	cfg := testConfig()
	cfg.SweepInterval = 10 * time.Millisecond
	u := New(cfg, bucket, newFakeManifest(ev), testLogger(t))
	defer u.Close()
	waitFor(t, "the orphan swept", func() bool { return len(objects(t, bucket)) == 0 })
}

// TestSweepDeletedTopic: with Config.Topics, Sweep removes what a deleted
// topic left: a manifest entry an upload committed after the topic's
// entries were deleted, and every object, young ones included. Existing
// topics keep their young and committed objects.
func TestSweepDeletedTopic(t *testing.T) {
	ctx := context.Background()
	ev := &events{}
	bucket := newFSBucket(t, ev)
	man := newFakeManifest(ev)
	alive, gone := [16]byte{0xa1}, [16]byte{0xde, 1}
	cfg := testConfig()
	cfg.Registerer = prometheus.NewRegistry()
	cfg.SweepInterval = -1
	cfg.Topics = func(context.Context) (map[[16]byte]bool, error) { return map[[16]byte]bool{alive: true}, nil }
	u := New(cfg, bucket, man, testLogger(t))
	defer u.Close()

	put := func(topic [16]byte, base int64, commit bool) string {
		t.Helper()
		name := segment.Name(segment.ObjectName{TopicID: topic, Partition: 0, BaseOffset: base, LeaderEpoch: 1, ID: segment.NewID()})
		if err := bucket.Upload(ctx, name, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
		if commit {
			seg := metastore.RemoteSegment{TopicID: topic, Partition: 0, BaseOffset: base, LastOffset: base + 9, Size: 1, Object: name}
			if err := man.CommitSegment(ctx, seg, 1); err != nil {
				t.Fatal(err)
			}
		}
		return name
	}
	aliveCommitted, aliveYoung := put(alive, 0, true), put(alive, 10, false)
	put(gone, 0, true) // committed late, after the topic was deleted
	put(gone, 10, false)

	if n, err := u.Sweep(ctx); err != nil || n != 2 {
		t.Fatalf("swept %d: %v", n, err)
	}
	want := []string{aliveCommitted, aliveYoung}
	slices.Sort(want)
	if got := objects(t, bucket); !slices.Equal(got, want) {
		t.Fatalf("objects after sweep %v, want %v", got, want)
	}
	if segs, err := man.ListSegments(ctx, gone, 0); err != nil || len(segs) != 0 {
		t.Fatalf("manifest of the deleted topic after sweep: %v, %v", segs, err)
	}
	if segs, err := man.ListSegments(ctx, alive, 0); err != nil || len(segs) != 1 {
		t.Fatalf("manifest of the live topic after sweep: %v, %v", segs, err)
	}
}
