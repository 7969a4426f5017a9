package remote

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// Chunk buffers are reused: filling a fresh multi-MiB buffer from the
// socket costs page faults and zeroing on every cold chunk. A chunkBuf
// counts its holders (readers with an open chunkView, the memory LRU, the
// disk-write queue, the disk writer while writing it, a fetch in flight
// for its waiters) and goes back to its pool only when the last one lets
// go, so a reused buffer is never one somebody still reads.

// chunkBuf is one chunk's bytes with a reference count.
type chunkBuf struct {
	data []byte
	refs atomic.Int32
	pool *bufPool // nil: not pooled (short last chunks, tests)

	// [vlo, vhi) of data is covered by record batches whose CRC-32C was
	// checked against these very bytes (see window.verify): a warm read
	// of them need not checksum them again. A buffer filled anew (a GET,
	// a load from the disk cache, a reuse from the pool) starts with
	// nothing checked, so a corrupt object or cache file is still caught.
	vmu      sync.Mutex
	vlo, vhi int64
}

// checked reports whether [lo, hi) of data is within the checked span.
func (b *chunkBuf) checked(lo, hi int64) bool {
	b.vmu.Lock()
	defer b.vmu.Unlock()
	return b.vlo < b.vhi && lo >= b.vlo && hi <= b.vhi
}

// markChecked adds [lo, hi) to the checked span when it touches it (else
// keeps the larger of the two: readers mostly go forward, so one span is
// enough).
func (b *chunkBuf) markChecked(lo, hi int64) {
	b.vmu.Lock()
	defer b.vmu.Unlock()
	switch {
	case b.vlo >= b.vhi, hi-lo > b.vhi-b.vlo && (hi < b.vlo || lo > b.vhi):
		b.vlo, b.vhi = lo, hi
	case lo <= b.vhi && hi >= b.vlo:
		b.vlo, b.vhi = min(b.vlo, lo), max(b.vhi, hi)
	}
}

// newChunkBuf wraps data (not pooled) with one reference.
func newChunkBuf(data []byte) *chunkBuf {
	b := &chunkBuf{data: data}
	b.refs.Store(1)
	return b
}

// retain adds n references; the caller must hold one already.
func (b *chunkBuf) retain(n int32) {
	if b.refs.Add(n) <= n {
		panic(fmt.Sprintf("remote: chunk buffer retained after its release (%d refs)", b.refs.Load()-n))
	}
}

// release drops one reference; the last returns the buffer to its pool.
func (b *chunkBuf) release() {
	switch n := b.refs.Add(-1); {
	case n < 0:
		panic("remote: chunk buffer released more often than retained")
	case n == 0 && b.pool != nil:
		b.pool.put(b)
	}
}

// poisonFreed makes tests overwrite buffers as they return to a pool, so
// a reader still using one would see garbage.
var poisonFreed atomic.Bool

// bufPool keeps up to max free buffers of one capacity.
type bufPool struct {
	capacity int
	max      int

	mu   sync.Mutex
	free []*chunkBuf

	reused atomic.Int64 // gets served from the free list (tests)
	live   atomic.Int64 // pooled buffers handed out and not yet returned (tests)
}

func newBufPool(capacity, maxFree int) *bufPool {
	return &bufPool{capacity: capacity, max: maxFree}
}

// get returns a buffer of n bytes (its capacity has room for the padding
// of a direct write) with one reference: from the pool when n is at least
// half the pool's capacity and fits it, else a new unpooled one.
func (p *bufPool) get(n int) *chunkBuf {
	if p == nil || p.max <= 0 || alignUp(n) > p.capacity || 2*n < p.capacity {
		return newChunkBuf(make([]byte, n, alignUp(n)))
	}
	p.mu.Lock()
	var b *chunkBuf
	if k := len(p.free); k > 0 {
		b = p.free[k-1]
		p.free[k-1] = nil
		p.free = p.free[:k-1]
	}
	p.mu.Unlock()
	if b == nil {
		b = &chunkBuf{data: make([]byte, p.capacity), pool: p}
	} else {
		p.reused.Add(1)
	}
	b.data = b.data[:n]
	b.refs.Store(1)
	b.vlo, b.vhi = 0, 0
	p.live.Add(1)
	return b
}

func (p *bufPool) put(b *chunkBuf) {
	p.live.Add(-1)
	if poisonFreed.Load() {
		full := b.data[:cap(b.data)]
		for i := range full {
			full[i] = 0xAA
		}
	}
	p.mu.Lock()
	if len(p.free) < p.max {
		p.free = append(p.free, b)
	}
	p.mu.Unlock()
}
