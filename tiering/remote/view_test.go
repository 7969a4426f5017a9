package remote

import (
	"context"
	"testing"
)

// blockingManifest's ListSegments returns a fixed listing after release is
// closed, so the test can apply watch events while it is in flight.
type blockingManifest struct {
	listing []Segment
	started chan struct{}
	release chan struct{}
}

func (m *blockingManifest) ListSegments(ctx context.Context, _ [16]byte, _ int32) ([]Segment, error) {
	close(m.started)
	<-m.release
	return m.listing, nil
}

func (m *blockingManifest) WatchManifest(ctx context.Context, fn func(Segment, bool)) error {
	<-ctx.Done()
	return nil
}

func TestViewMergesWatchEventsDuringListing(t *testing.T) {
	seg := func(base int64, obj string) Segment {
		return Segment{TopicID: testTopic, BaseOffset: base, LastOffset: base + 9, Object: obj}
	}
	// The listing is stale: it still has segment 0 (deleted meanwhile) and
	// the old object of segment 10 (replaced meanwhile), and lacks 30.
	m := &blockingManifest{
		listing: []Segment{seg(0, "a"), seg(10, "b-old"), seg(20, "c")},
		started: make(chan struct{}), release: make(chan struct{}),
	}
	v := newView()
	k := partKey{testTopic, 0}
	done := make(chan []Segment)
	go func() {
		s, err := v.load(context.Background(), m, k)
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()
	<-m.started
	v.apply(seg(0, "a"), false)
	v.apply(seg(0, "a"), true)
	v.apply(seg(10, "b-new"), false)
	v.apply(seg(30, "d"), false)
	close(m.release)
	got := <-done
	want := []Segment{seg(10, "b-new"), seg(20, "c"), seg(30, "d")}
	if len(got) != len(want) {
		t.Fatalf("view = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("view = %+v, want %+v", got, want)
		}
	}
	// Loaded once: later loads do not list again.
	if s, err := v.load(context.Background(), m, k); err != nil || len(s) != 3 {
		t.Fatalf("second load = %v, %v", s, err)
	}
	// A delete naming another object than the current entry is stale.
	v.apply(seg(10, "b-old"), true)
	if s := v.segments(k); len(s) != 3 {
		t.Fatalf("stale delete removed an entry: %+v", s)
	}
}

func TestFind(t *testing.T) {
	segs := []Segment{{BaseOffset: 10, LastOffset: 19}, {BaseOffset: 20, LastOffset: 29}, {BaseOffset: 40, LastOffset: 49}}
	for _, c := range []struct {
		off  int64
		base int64 // -1: not found
	}{{9, -1}, {10, 10}, {19, 10}, {20, 20}, {29, 20}, {30, 40}, {45, 40}, {49, 40}, {50, -1}} {
		s, ok := find(segs, c.off)
		if ok != (c.base >= 0) || ok && s.BaseOffset != c.base {
			t.Errorf("find(%d) = %d, %v; want %d", c.off, s.BaseOffset, ok, c.base)
		}
	}
	if _, ok := find(nil, 0); ok {
		t.Error("find in an empty manifest succeeded")
	}
}
