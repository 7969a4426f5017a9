package metastore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestManifest runs the remote segment manifest tests against the embedded
// etcd server, one store shared by subtests that each use their own topic id.
func TestManifest(t *testing.T) {
	s := openEmbedded(t, t.TempDir())
	var n atomic.Int32
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *Store, [16]byte)
	}{
		{"CommitList", testManifestCommitList},
		{"Fence", testManifestFence},
		{"Overlap", testManifestOverlap},
		{"Concurrent", testManifestConcurrent},
		{"Delete", testManifestDelete},
		{"Watch", testManifestWatch},
		{"Relist", testManifestRelist},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, s, [16]byte{0xab, 15: byte(n.Add(1))}) })
	}
}

func seg(tid [16]byte, p int32, base, last int64) RemoteSegment {
	return RemoteSegment{
		TopicID: tid, Partition: p, BaseOffset: base, LastOffset: last, LeaderEpoch: 1,
		MaxTimestamp: 1000 + last, Size: 10 * (last - base + 1),
		Object: fmt.Sprintf("%x/%d/%020d-1-x.seg", tid, p, base),
	}
}

func bases(segs []RemoteSegment) []int64 {
	var out []int64
	for _, s := range segs {
		out = append(out, s.BaseOffset)
	}
	return out
}

func mustList(t *testing.T, s *Store, tid [16]byte, p int32) []RemoteSegment {
	t.Helper()
	segs, err := s.ListSegments(testCtx(t), tid, p)
	if err != nil {
		t.Fatal(err)
	}
	return segs
}

func testManifestCommitList(t *testing.T, s *Store, tid [16]byte) {
	ctx := testCtx(t)
	if got := mustList(t, s, tid, 1); len(got) != 0 {
		t.Fatalf("empty manifest lists %+v", got)
	}
	before := time.Now().UnixMilli()
	for _, b := range []int64{200, 0, 100} {
		if err := s.CommitSegment(ctx, seg(tid, 1, b, b+99), 1); err != nil {
			t.Fatal(err)
		}
	}
	fixed := seg(tid, 10, 5, 5)
	fixed.CommittedAt = 42
	if err := s.CommitSegment(ctx, fixed, 1); err != nil {
		t.Fatal(err)
	}
	got := mustList(t, s, tid, 1)
	if fmt.Sprint(bases(got)) != "[0 100 200]" {
		t.Fatalf("ListSegments bases = %v, want [0 100 200]", bases(got))
	}
	for _, g := range got {
		want := seg(tid, 1, g.BaseOffset, g.BaseOffset+99)
		if g.CommittedAt < before || g.CommittedAt > time.Now().UnixMilli() {
			t.Fatalf("CommittedAt %d not set to the commit time", g.CommittedAt)
		}
		want.CommittedAt = g.CommittedAt
		if g != want {
			t.Fatalf("listed %+v, committed %+v", g, want)
		}
	}
	// Partition 10 shares the "1" digit prefix but not the manifest.
	if p10 := mustList(t, s, tid, 10); len(p10) != 1 || p10[0] != fixed {
		t.Fatalf("partition 10 = %+v, want only %+v", p10, fixed)
	}
	if other := mustList(t, s, [16]byte{0xcd}, 1); len(other) != 0 {
		t.Fatalf("another topic sees %+v", other)
	}
	// Re-committing the same entry (a retry after a lost reply) succeeds.
	if err := s.CommitSegment(ctx, seg(tid, 1, 100, 199), 1); err != nil {
		t.Fatalf("idempotent re-commit: %v", err)
	}
	if got := mustList(t, s, tid, 1); len(got) != 3 {
		t.Fatalf("after re-commit: %v", bases(got))
	}
	for _, bad := range []RemoteSegment{
		{TopicID: tid, Partition: 1, BaseOffset: 500, LastOffset: 499, Object: "x"},
		{TopicID: tid, Partition: 1, BaseOffset: 500, LastOffset: 501},
		{TopicID: tid, Partition: -1, BaseOffset: 500, LastOffset: 501, Object: "x"},
		{TopicID: tid, Partition: 1, BaseOffset: -5, LastOffset: 501, Object: "x"},
	} {
		if err := s.CommitSegment(ctx, bad, 1); err == nil {
			t.Fatalf("invalid segment %+v committed", bad)
		}
	}
	if err := s.CommitSegment(ctx, seg(tid, 1, 900, 901), -1); err == nil {
		t.Fatal("negative committer epoch accepted")
	}
}

func testManifestFence(t *testing.T, s *Store, tid [16]byte) {
	ctx := testCtx(t)
	if _, err := s.PartitionEpoch(ctx, tid, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PartitionEpoch unset: %v, want ErrNotFound", err)
	}
	if err := s.SetPartitionEpoch(ctx, tid, 0, 5); err != nil {
		t.Fatal(err)
	}
	if e, err := s.PartitionEpoch(ctx, tid, 0); e != 5 || err != nil {
		t.Fatalf("PartitionEpoch = %d, %v; want 5", e, err)
	}
	if err := s.CommitSegment(ctx, seg(tid, 0, 0, 9), 4); !errors.Is(err, ErrFenced) {
		t.Fatalf("commit with epoch 4 < 5: %v, want ErrFenced", err)
	}
	if got := mustList(t, s, tid, 0); len(got) != 0 {
		t.Fatalf("fenced commit entered the manifest: %+v", got)
	}
	if err := s.CommitSegment(ctx, seg(tid, 0, 0, 9), 5); err != nil {
		t.Fatal(err)
	}
	// A newer leader's commit raises the stored epoch and fences the old one.
	if err := s.CommitSegment(ctx, seg(tid, 0, 10, 19), 7); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.PartitionEpoch(ctx, tid, 0); e != 7 {
		t.Fatalf("epoch after commit at 7 = %d", e)
	}
	if err := s.CommitSegment(ctx, seg(tid, 0, 20, 29), 5); !errors.Is(err, ErrFenced) {
		t.Fatalf("deposed leader's commit: %v, want ErrFenced", err)
	}
	if err := s.SetPartitionEpoch(ctx, tid, 0, 6); !errors.Is(err, ErrFenced) {
		t.Fatalf("lowering the epoch: %v, want ErrFenced", err)
	}
	if err := s.SetPartitionEpoch(ctx, tid, 0, 7); err != nil {
		t.Fatalf("same epoch again: %v", err)
	}
	if err := s.SetPartitionEpoch(ctx, tid, 0, 9); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitSegment(ctx, seg(tid, 0, 20, 29), 7); !errors.Is(err, ErrFenced) {
		t.Fatalf("commit after SetPartitionEpoch(9): %v, want ErrFenced", err)
	}
	// Epochs are per partition.
	if err := s.CommitSegment(ctx, seg(tid, 1, 0, 9), 0); err != nil {
		t.Fatalf("partition 1 fenced by partition 0's epoch: %v", err)
	}
	if got := mustList(t, s, tid, 0); fmt.Sprint(bases(got)) != "[0 10]" {
		t.Fatalf("manifest = %v, want [0 10]", bases(got))
	}
}

func testManifestOverlap(t *testing.T, s *Store, tid [16]byte) {
	ctx := testCtx(t)
	if err := s.CommitSegment(ctx, seg(tid, 0, 100, 199), 1); err != nil {
		t.Fatal(err)
	}
	other := seg(tid, 0, 100, 199)
	other.Object = "another-upload.seg"
	for _, bad := range []RemoteSegment{
		seg(tid, 0, 150, 250), seg(tid, 0, 50, 100), seg(tid, 0, 199, 199),
		seg(tid, 0, 0, 1000), seg(tid, 0, 120, 130), other,
	} {
		if err := s.CommitSegment(ctx, bad, 1); !errors.Is(err, ErrConflict) {
			t.Fatalf("overlapping [%d,%d] %q: %v, want ErrConflict", bad.BaseOffset, bad.LastOffset, bad.Object, err)
		}
	}
	for _, ok := range []RemoteSegment{seg(tid, 0, 0, 99), seg(tid, 0, 200, 299), seg(tid, 0, 400, 499)} {
		if err := s.CommitSegment(ctx, ok, 1); err != nil {
			t.Fatalf("adjacent [%d,%d]: %v", ok.BaseOffset, ok.LastOffset, err)
		}
	}
	// A gap can be filled exactly, but not past its ends.
	if err := s.CommitSegment(ctx, seg(tid, 0, 300, 400), 1); !errors.Is(err, ErrConflict) {
		t.Fatalf("overfilled gap: %v", err)
	}
	if err := s.CommitSegment(ctx, seg(tid, 0, 300, 399), 1); err != nil {
		t.Fatal(err)
	}
	if got := mustList(t, s, tid, 0); fmt.Sprint(bases(got)) != "[0 100 200 300 400]" {
		t.Fatalf("manifest = %v", bases(got))
	}
}

func testManifestConcurrent(t *testing.T, s *Store, tid [16]byte) {
	ctx := testCtx(t)
	// Disjoint commits racing on one partition all land (CAS retries).
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			if err := s.CommitSegment(ctx, seg(tid, 0, int64(i)*10, int64(i)*10+9), 1); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := mustList(t, s, tid, 0); len(got) != 12 {
		t.Fatalf("%d of 12 disjoint concurrent commits listed: %v", len(got), bases(got))
	}
	// Overlapping uploads of the same range: exactly one wins.
	var wins atomic.Int32
	for i := range 8 {
		wg.Go(func() {
			sg := seg(tid, 1, 0, 99)
			sg.Object = fmt.Sprintf("upload-%d.seg", i)
			err := s.CommitSegment(ctx, sg, 1)
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, ErrConflict):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || len(mustList(t, s, tid, 1)) != 1 {
		t.Fatalf("%d overlapping commits won, want exactly 1", wins.Load())
	}
}

func testManifestDelete(t *testing.T, s *Store, tid [16]byte) {
	ctx := testCtx(t)
	for _, b := range []int64{0, 100, 200} {
		for _, p := range []int32{0, 1} {
			if err := s.CommitSegment(ctx, seg(tid, p, b, b+99), 1); err != nil {
				t.Fatal(err)
			}
		}
	}
	del := func(upto int64) []RemoteSegment {
		t.Helper()
		out, err := s.DeleteSegments(ctx, tid, 0, upto)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := del(0); len(got) != 0 {
		t.Fatalf("DeleteSegments(0) removed %v", bases(got))
	}
	if got := del(99); len(got) != 0 {
		t.Fatalf("DeleteSegments(99) removed %v; segment [0,99] still holds offset 99", bases(got))
	}
	got := del(150)
	if len(got) != 1 || got[0].BaseOffset != 0 || got[0].Object != seg(tid, 0, 0, 99).Object {
		t.Fatalf("DeleteSegments(150) = %+v, want [0,99]", got)
	}
	if l := mustList(t, s, tid, 0); fmt.Sprint(bases(l)) != "[100 200]" {
		t.Fatalf("after delete: %v", bases(l))
	}
	if got := del(200); fmt.Sprint(bases(got)) != "[100]" {
		t.Fatalf("DeleteSegments(200) = %v", bases(got))
	}
	if got := del(1 << 40); fmt.Sprint(bases(got)) != "[200]" {
		t.Fatalf("DeleteSegments(big) = %v", bases(got))
	}
	if l := mustList(t, s, tid, 0); len(l) != 0 {
		t.Fatalf("after deleting all: %v", bases(l))
	}
	if l := mustList(t, s, tid, 1); len(l) != 3 {
		t.Fatalf("partition 1 lost entries: %v", bases(l))
	}
	if got := del(1 << 40); len(got) != 0 {
		t.Fatalf("delete on empty manifest = %v", got)
	}
}

type manifestEvent struct {
	seg     RemoteSegment
	deleted bool
}

func testManifestWatch(t *testing.T, s *Store, tid [16]byte) {
	ctx := testCtx(t)
	if err := s.CommitSegment(ctx, seg(tid, 0, 0, 99), 1); err != nil {
		t.Fatal(err)
	}
	events := make(chan manifestEvent, 100)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- s.WatchManifest(wctx, func(sg RemoteSegment, deleted bool) {
			if sg.TopicID == tid {
				events <- manifestEvent{sg, deleted}
			}
		})
	}()
	next := func() manifestEvent {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(10 * time.Second):
			t.Fatal("no manifest event within 10s")
			return manifestEvent{}
		}
	}
	listed := mustList(t, s, tid, 0)
	if ev := next(); ev.deleted || ev.seg != listed[0] {
		t.Fatalf("initial event %+v, want %+v", ev, listed[0])
	}
	if err := s.CommitSegment(ctx, seg(tid, 3, 100, 199), 1); err != nil {
		t.Fatal(err)
	}
	ev := next()
	if ev.deleted || ev.seg.Partition != 3 || ev.seg.BaseOffset != 100 || ev.seg.Object != seg(tid, 3, 100, 199).Object {
		t.Fatalf("commit event %+v", ev)
	}
	if _, err := s.DeleteSegments(ctx, tid, 0, 100); err != nil {
		t.Fatal(err)
	}
	if ev := next(); !ev.deleted || ev.seg != listed[0] {
		t.Fatalf("delete event %+v, want deleted %+v", ev, listed[0])
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("WatchManifest returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WatchManifest did not return after cancel")
	}
	select {
	case ev := <-events:
		t.Fatalf("unexpected extra event %+v", ev)
	default:
	}
}

// testManifestRelist checks the re-list after a broken watch: it reports
// only what changed and reports vanished entries as deleted.
func testManifestRelist(t *testing.T, s *Store, tid [16]byte) {
	ctx := testCtx(t)
	for _, b := range []int64{0, 100} {
		if err := s.CommitSegment(ctx, seg(tid, 0, b, b+99), 1); err != nil {
			t.Fatal(err)
		}
	}
	known := map[string]RemoteSegment{}
	var evs []manifestEvent
	record := func(sg RemoteSegment, deleted bool) {
		if sg.TopicID == tid {
			evs = append(evs, manifestEvent{sg, deleted})
		}
	}
	if _, err := s.relistManifest(ctx, known, record); err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("first listing reported %d entries, want 2", len(evs))
	}
	gone := seg(tid, 0, 0, 99)
	if _, err := s.DeleteSegments(ctx, tid, 0, 100); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitSegment(ctx, seg(tid, 0, 200, 299), 1); err != nil {
		t.Fatal(err)
	}
	evs = nil
	if _, err := s.relistManifest(ctx, known, record); err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || !evs[0].deleted || evs[0].seg.Object != gone.Object ||
		evs[1].deleted || evs[1].seg.BaseOffset != 200 {
		t.Fatalf("re-list reported %+v, want delete of [0,99] then commit of [200,299]", evs)
	}
}
