package remote

import (
	"context"
	"slices"
	"sync"
)

// Segment is one committed remote segment. Its fields match
// metastore.RemoteSegment, so a value of either type converts to the other.
type Segment struct {
	TopicID      [16]byte
	Partition    int32
	BaseOffset   int64
	LastOffset   int64
	LeaderEpoch  int32 // epoch of the leader that uploaded it
	MaxTimestamp int64
	Size         int64  // object size in bytes
	Object       string // object name in the bucket
	CommittedAt  int64  // unix milliseconds
}

// Manifest is the part of the remote segment manifest the Reader uses; the
// broker adapts *metastore.Store to it (see package remote/metamanifest).
type Manifest interface {
	// ListSegments returns a partition's segments sorted by base offset.
	ListSegments(ctx context.Context, topicID [16]byte, partition int32) ([]Segment, error)
	// WatchManifest reports every committed segment, then every commit and
	// deletion, until ctx is done. Calls to fn are sequential.
	WatchManifest(ctx context.Context, fn func(seg Segment, deleted bool)) error
}

type partKey struct {
	topic     [16]byte
	partition int32
}

// partView is the in-memory manifest of one partition. Entries are keyed
// by base offset, as in the manifest, so a re-upload replaces its entry.
type partView struct {
	byBase  map[int64]Segment
	sorted  []Segment // rebuilt on change; never mutated once published
	loaded  bool
	loading chan struct{}  // closed when the running listing ends
	touched map[int64]bool // bases changed by the watch while listing
}

// view is the in-memory manifest of every partition the Reader has seen.
type view struct {
	mu    sync.Mutex
	parts map[partKey]*partView
}

func newView() *view { return &view{parts: map[partKey]*partView{}} }

func (v *view) part(k partKey) *partView {
	p := v.parts[k]
	if p == nil {
		p = &partView{byBase: map[int64]Segment{}}
		v.parts[k] = p
	}
	return p
}

func (p *partView) rebuild() {
	s := make([]Segment, 0, len(p.byBase))
	for _, seg := range p.byBase {
		s = append(s, seg)
	}
	slices.SortFunc(s, func(a, b Segment) int {
		switch {
		case a.BaseOffset < b.BaseOffset:
			return -1
		case a.BaseOffset > b.BaseOffset:
			return 1
		}
		return 0
	})
	p.sorted = s
}

// apply records one watch event.
func (v *view) apply(seg Segment, deleted bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	p := v.part(partKey{seg.TopicID, seg.Partition})
	if p.touched != nil {
		p.touched[seg.BaseOffset] = true
	}
	if deleted {
		if cur, ok := p.byBase[seg.BaseOffset]; !ok || cur.Object != seg.Object {
			return
		}
		delete(p.byBase, seg.BaseOffset)
	} else {
		p.byBase[seg.BaseOffset] = seg
	}
	p.rebuild()
}

// relistAll marks every partition for a fresh listing on its next load. A
// new watch reports only what exists when it starts, not deletions of
// segments the view learnt from an earlier listing or watch; the next
// listing drops those.
func (v *view) relistAll() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, p := range v.parts {
		p.loaded = false
	}
}

// segments returns the partition's known segments (shared; do not modify).
func (v *view) segments(k partKey) []Segment {
	v.mu.Lock()
	defer v.mu.Unlock()
	if p := v.parts[k]; p != nil {
		return p.sorted
	}
	return nil
}

// load lists the partition once (concurrent callers share the listing) and
// merges the result with what the watch reported meanwhile.
func (v *view) load(ctx context.Context, m Manifest, k partKey) ([]Segment, error) {
	for {
		v.mu.Lock()
		p := v.part(k)
		if p.loaded {
			s := p.sorted
			v.mu.Unlock()
			return s, nil
		}
		if wait := p.loading; wait != nil {
			v.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		done := make(chan struct{})
		p.loading, p.touched = done, map[int64]bool{}
		v.mu.Unlock()

		segs, err := m.ListSegments(ctx, k.topic, k.partition)

		v.mu.Lock()
		if err == nil {
			merged := make(map[int64]Segment, len(segs))
			for _, s := range segs {
				if !p.touched[s.BaseOffset] {
					merged[s.BaseOffset] = s
				}
			}
			for base := range p.touched {
				if s, ok := p.byBase[base]; ok {
					merged[base] = s
				}
			}
			p.byBase = merged
			p.rebuild()
			p.loaded = true
		}
		p.loading, p.touched = nil, nil
		close(done)
		s := p.sorted
		v.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// find returns the segment holding offset or, if offset falls in a gap
// between segments, the first segment after it. ok is false when offset is
// below the first or above the last segment.
func find(segs []Segment, offset int64) (Segment, bool) {
	if len(segs) == 0 || offset < segs[0].BaseOffset {
		return Segment{}, false
	}
	// Last segment with BaseOffset <= offset.
	i, _ := slices.BinarySearchFunc(segs, offset, func(s Segment, o int64) int {
		if s.BaseOffset <= o {
			return -1
		}
		return 1
	})
	i--
	for ; i < len(segs); i++ {
		if segs[i].LastOffset >= offset {
			return segs[i], true
		}
	}
	return Segment{}, false
}
