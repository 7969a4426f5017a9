package upload

import (
	"bytes"
	"context"
	"io"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/strata-io/strata/broker/partlog"
	"github.com/strata-io/strata/metastore"
	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/objstore/mem"
	"github.com/strata-io/strata/tiering/segment"
)

// preCommit puts segments [base,last] committed by a previous leader at
// epoch 2 into the manifest (the objects need not exist for the uploader).
func preCommit(t *testing.T, man *fakeManifest, p Partition, ranges ...[2]int64) {
	t.Helper()
	for _, r := range ranges {
		name := segment.Name(segment.ObjectName{TopicID: p.TopicID(), Partition: p.Partition(), BaseOffset: r[0], LeaderEpoch: 2, ID: segment.NewID()})
		if err := man.CommitSegment(context.Background(), metastore.RemoteSegment{
			TopicID: p.TopicID(), Partition: p.Partition(), BaseOffset: r[0], LastOffset: r[1],
			LeaderEpoch: 2, Size: 1, Object: name,
		}, 2); err != nil {
			t.Fatal(err)
		}
	}
}

// readObject fetches and verifies an object, returning its log section and
// footer.
func readObject(t *testing.T, b objstore.Bucket, name string) ([]byte, segment.Footer) {
	t.Helper()
	rc, err := b.Get(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	foot, err := segment.VerifyObject(context.Background(), bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("object %s: %v", name, err)
	}
	return data[:foot.Log.Size], foot
}

// TestNewLeaderUploadsFromRemoteEnd: a previous leader committed offsets
// 0-14 in segments cut elsewhere than ours ([0,9], [10,19]). The new leader
// marks [0,9] uploaded, uploads only 15-19 of its second segment (an object
// built from the segment file's byte range starting at batch 15, with
// rebased indexes), then goes on normally; no commit conflicts.
func TestNewLeaderUploadsFromRemoteEnd(t *testing.T) {
	ev := &events{}
	bucket := &faultyBucket{Bucket: mem.New(), ev: ev}
	man := newFakeManifest(ev)
	p := newPartition(t, 10, partlog.Config{IndexIntervalBytes: 1, LocalRetentionBytes: batchSize})
	appendN(t, p, 25, time.Now().UnixMilli()) // sealed 0-9, 10-19; active 20-24
	preCommit(t, man, p, [2]int64{0, 6}, [2]int64{7, 14})
	sealed := p.log.SealedSegments()
	if len(sealed) != 2 || sealed[1].BaseOffset != 10 {
		t.Fatalf("sealed segments %+v", sealed)
	}
	segFile, err := os.ReadFile(sealed[1].Path)
	if err != nil {
		t.Fatal(err)
	}

	u := New(testConfig(), bucket, man, testLogger(t))
	defer u.Close()
	u.Track(p)
	waitFor(t, "the straddling segment's tail committed", func() bool { return len(man.list(p)) == 3 })
	if err := u.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	segs := man.list(p)
	if len(segs) != 4 {
		t.Fatalf("manifest %+v", segs)
	}
	for i, want := range [][2]int64{{0, 6}, {7, 14}, {15, 19}, {20, 24}} {
		if segs[i].BaseOffset != want[0] || segs[i].LastOffset != want[1] {
			t.Fatalf("manifest entry %d is [%d,%d], want %v", i, segs[i].BaseOffset, segs[i].LastOffset, want)
		}
	}
	if man.commits != 2+2 {
		t.Fatalf("%d commits, want 4 (2 pre-committed, 2 uploads): conflicts happened", man.commits)
	}
	tail := segs[2]
	if n, err := segment.ParseName(tail.Object); err != nil || n.BaseOffset != 15 || n.LeaderEpoch != 3 {
		t.Fatalf("tail object name %q: %+v %v", tail.Object, n, err)
	}
	logSec, foot := readObject(t, bucket, tail.Object)
	if foot.BaseOffset != 15 || foot.LastOffset != 19 || foot.RecordCount != 5 || foot.BatchCount != 5 {
		t.Fatalf("tail footer %+v", foot)
	}
	if !bytes.Equal(logSec, segFile[5*batchSize:]) {
		t.Fatal("tail object's log section is not the segment file from batch 15 on")
	}
	// The rebased index points at batch boundaries of the object.
	rc, _ := bucket.Get(context.Background(), tail.Object)
	data, _ := io.ReadAll(rc)
	rc.Close()
	idx, err := segment.ReadSection(context.Background(), segment.ReaderAtRange(bytes.NewReader(data)), foot.OffsetIndex)
	if err != nil || len(idx) == 0 {
		t.Fatalf("offset index: %d bytes, %v", len(idx), err)
	}
	for o := int64(15); o <= 19; o++ {
		if pos, err := foot.Lookup(idx, o); err != nil || pos != (o-15)*batchSize {
			t.Fatalf("Lookup(%d) = %d, %v; want %d", o, pos, err, (o-15)*batchSize)
		}
	}
	if got := p.log.UploadedOffset(); got != 24 {
		t.Fatalf("uploaded offset %d, want 24", got)
	}
	// Both sealed segments are now wholly uploaded: local retention drops them.
	if _, err := p.log.ApplyRetention(time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := p.log.LocalLogStartOffset(); got < 20 {
		t.Fatalf("local log start %d: uploaded segments kept", got)
	}
}

// TestRemoteEndInsideABatch covers logs that disagree with the remote log
// on batch boundaries (it cannot happen while both leaders hold the same
// batches): the upload starts at the next batch boundary, and a segment
// whose only batch above the end holds it is skipped, not retried forever.
func TestRemoteEndInsideABatch(t *testing.T) {
	for _, tc := range []struct {
		name string
		// remoteLast picks the previous leader's last offset from our
		// first sealed segment.
		remoteLast func(s partlog.SealedSegment) int64
		// wantFirst is the base of our first upload.
		wantFirst func(s partlog.SealedSegment) int64
	}{
		{"middle", func(s partlog.SealedSegment) int64 { return s.BaseOffset + 4 }, func(s partlog.SealedSegment) int64 { return s.BaseOffset + 6 }},
		{"last batch", func(s partlog.SealedSegment) int64 { return s.LastOffset - 1 }, func(s partlog.SealedSegment) int64 { return s.LastOffset + 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := &events{}
			bucket := &faultyBucket{Bucket: mem.New(), ev: ev}
			man := newFakeManifest(ev)
			p := newPartition(t, 10, partlog.Config{})
			for range 12 {
				if _, err := p.log.Append(recordBatch(3, time.Now().UnixMilli(), 100), 3); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.log.Roll(); err != nil {
				t.Fatal(err)
			}
			sealed := p.log.SealedSegments()
			if len(sealed) < 2 || sealed[0].LastOffset < 8 {
				t.Fatalf("sealed segments %+v", sealed)
			}
			first := sealed[0]
			preCommit(t, man, p, [2]int64{0, tc.remoteLast(first)})
			u := New(testConfig(), bucket, man, testLogger(t))
			defer u.Close()
			u.Track(p)
			if err := u.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			segs := man.list(p)
			if len(segs) < 2 || segs[1].BaseOffset != tc.wantFirst(first) {
				t.Fatalf("manifest %+v, want the first upload at %d", segs, tc.wantFirst(first))
			}
			if last := segs[len(segs)-1].LastOffset; last != 35 || p.log.UploadedOffset() != 35 {
				t.Fatalf("remote log ends at %d, uploaded offset %d; want 35", last, p.log.UploadedOffset())
			}
			for _, s := range segs[1:] {
				if _, foot := readObject(t, bucket, s.Object); foot.BaseOffset != s.BaseOffset || foot.LastOffset != s.LastOffset {
					t.Fatalf("object %s footer [%d,%d], manifest [%d,%d]", s.Object, foot.BaseOffset, foot.LastOffset, s.BaseOffset, s.LastOffset)
				}
			}
			if got := testutil.ToFloat64(u.m.failures.WithLabelValues("straddle")); got != 1 {
				t.Fatalf("straddle failures metric %v, want 1", got)
			}
			if man.commits != len(segs) {
				t.Fatalf("%d commits for %d entries: conflicts happened", man.commits, len(segs))
			}
		})
	}
}

// hwPartition is a replicated partition with a high watermark.
type hwPartition struct {
	*testPartition
	hw atomic.Int64
}

func (p *hwPartition) HighWatermark() int64 { return p.hw.Load() }

// TestUploadsStayBelowHighWatermark: a sealed segment holding offsets at or
// above the high watermark is not uploaded (a new leader may not have
// them) until the high watermark passes it; Flush does not wait for it.
func TestUploadsStayBelowHighWatermark(t *testing.T) {
	ev := &events{}
	bucket := &faultyBucket{Bucket: mem.New(), ev: ev}
	man := newFakeManifest(ev)
	p := &hwPartition{testPartition: newPartition(t, 4, partlog.Config{})}
	appendN(t, p.testPartition, 12, time.Now().UnixMilli()) // sealed 0-3, 4-7; active 8-11
	p.hw.Store(6)
	u := New(testConfig(), bucket, man, testLogger(t))
	defer u.Close()
	u.Track(p)
	waitFor(t, "segment 0-3 committed", func() bool { return len(man.list(p)) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := u.Flush(ctx); err != nil {
		t.Fatalf("flush waited for segments above the high watermark: %v", err)
	}
	if segs := man.list(p); len(segs) != 1 || p.log.UploadedOffset() != 3 {
		t.Fatalf("manifest %+v, uploaded %d: data above the high watermark went out", segs, p.log.UploadedOffset())
	}
	p.hw.Store(12)
	waitFor(t, "the rest committed", func() bool { return len(man.list(p)) == 3 })
	if got := p.log.UploadedOffset(); got != 11 {
		t.Fatalf("uploaded offset %d", got)
	}
}
