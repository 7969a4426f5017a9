package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func TestBufPoolReuse(t *testing.T) {
	p := newBufPool(alignUp(8192), 2)
	a := p.get(8192)
	if len(a.data) != 8192 || cap(a.data) < alignUp(8192) || a.pool != p {
		t.Fatalf("get(8192): len %d cap %d pooled %v", len(a.data), cap(a.data), a.pool != nil)
	}
	a.retain(1)
	a.release()
	if len(p.free) != 0 {
		t.Fatal("a buffer with a reference left went back to the pool")
	}
	a.release()
	if len(p.free) != 1 || p.live.Load() != 0 {
		t.Fatalf("after the last release: %d free, %d live", len(p.free), p.live.Load())
	}
	b := p.get(6000) // shorter, still at least half: reuses a
	if b != a || len(b.data) != 6000 || p.reused.Load() != 1 {
		t.Fatalf("get(6000) did not reuse the free buffer (reused %d)", p.reused.Load())
	}
	if s := p.get(100); s.pool != nil { // small: not pooled
		t.Fatal("a buffer far below the pool's size was pooled")
	}
	if s := p.get(alignUp(8192) + 1); s.pool != nil {
		t.Fatal("a buffer over the pool's size was pooled")
	}
	b.release()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("a release past zero did not panic")
			}
		}()
		b.release()
	}()
}

// Many readers, read-ahead, readers giving up mid-fetch, a memory LRU and
// disk cache far smaller than the data (constant eviction), a short disk
// write queue and invalidations, with freed buffers poisoned: every byte
// served must match the source objects, buffers must be reused, and at the
// end only the memory LRU holds pooled buffers.
func TestChunkBufHammer(t *testing.T) {
	poisonFreed.Store(true)
	t.Cleanup(func() { poisonFreed.Store(false) })
	var segs []builtSegment
	base := int64(0)
	for range 3 {
		s := buildSegment(t, 0, base, 150, 2048, varied)
		segs = append(segs, s)
		base = s.seg.LastOffset + 1
	}
	const cs = 8192
	fx := newFixture(t, Config{
		ChunkSize: cs, CacheBytes: 6 * cs, MemCacheBytes: 3 * cs, CacheWriteQueueBytes: 2 * cs,
		ReadAheadChunks: 4, MaxConcurrentReads: 6,
	}, segs...)
	last := segs[len(segs)-1].seg.LastOffset

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // invalidations, as after a bad cached copy
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(3 * time.Millisecond):
			}
			fx.r.chunks.invalidateObject(segs[i%len(segs)].seg.Object)
		}
	}()
	var readers sync.WaitGroup
	for g := range 8 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			off := rng.Int64N(last + 1)
			for range 120 {
				if rng.IntN(4) == 0 { // jump elsewhere; else read on sequentially
					off = rng.Int64N(last + 1)
				}
				maxBytes := 1000 + rng.IntN(6*cs)
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				timed := rng.IntN(6) == 0
				if timed { // a reader that may give up mid-fetch
					ctx, cancel = context.WithTimeout(ctx, time.Duration(rng.IntN(300))*time.Microsecond)
				}
				got, err := fx.r.Read(ctx, testTopic, 0, off, maxBytes)
				cancel()
				if err != nil {
					if errors.Is(err, context.DeadlineExceeded) {
						continue
					}
					errs <- fmt.Errorf("Read(%d, %d): %w", off, maxBytes, err)
					return
				}
				want := expectedSpan(segs, off, maxBytes)
				if timed && len(got) > 0 && bytes.HasPrefix(want, got) {
					want = got // its deadline may end it at a segment's end
				}
				if !bytes.Equal(got, want) {
					errs <- fmt.Errorf("Read(%d, %d): %d bytes differ from the source's %d", off, maxBytes, len(got), len(want))
					return
				}
				if off = lastOffset(got) + 1; off > last {
					off = 0
				}
			}
		}()
	}
	readers.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	pool := fx.r.chunks.bufs
	if pool.reused.Load() == 0 {
		t.Fatal("no chunk buffer was reused")
	}
	// Once read-ahead and the disk writer are done, the memory LRU holds
	// the only references.
	var inMem int64
	waitFor(t, func() bool {
		fx.r.chunks.mu.Lock()
		idle := fx.r.chunks.w.idle()
		fx.r.chunks.mu.Unlock()
		inMem = 0
		onlyMem := true
		fx.r.chunks.mem.mu.Lock()
		for _, el := range fx.r.chunks.mem.entries {
			if b := el.Value.(*memChunk).buf; b.pool != nil {
				inMem++
				onlyMem = onlyMem && b.refs.Load() == 1
			}
		}
		fx.r.chunks.mem.mu.Unlock()
		return idle && onlyMem && len(fx.r.ahead) == 0 && pool.live.Load() == inMem
	})
	t.Logf("%d buffer reuses, %d pooled buffers live at the end", pool.reused.Load(), inMem)
}
