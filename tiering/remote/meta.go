package remote

import (
	"bytes"
	"container/list"
	"context"
	"sync"

	"github.com/strata-io/strata/tiering/segment"
)

// segMeta is what a reader needs of an object besides its batches: the
// verified footer and the offset and time indexes.
type segMeta struct {
	footer segment.Footer
	index  []byte
	tindex []byte
}

func (m *segMeta) cost() int64 { return int64(len(m.index)+len(m.tindex)) + segment.FooterSize + 256 }

// metaTail is how much of an object's end the first GET asks for: the
// footer and, for all but very large segments, both indexes, so one GET
// usually loads everything.
const metaTail = 64 << 10

// metaCache is an in-memory LRU of segMeta by object name, bounded by
// bytes. Only verified metadata enters it.
type metaCache struct {
	capacity int64
	loads    *flight[string, *segMeta]

	mu      sync.Mutex
	entries map[string]*list.Element // of *metaEntry
	lru     *list.List
	used    int64
}

type metaEntry struct {
	object string
	meta   *segMeta
}

func newMetaCache(capacity int64, wg *sync.WaitGroup) *metaCache {
	return &metaCache{
		capacity: capacity, loads: newFlight[string, *segMeta](wg),
		entries: map[string]*list.Element{}, lru: list.New(),
	}
}

func (c *metaCache) get(object string) (*segMeta, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[object]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*metaEntry).meta, true
}

func (c *metaCache) put(object string, m *segMeta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[object]; ok {
		c.used -= el.Value.(*metaEntry).meta.cost()
		c.lru.Remove(el)
	}
	c.entries[object] = c.lru.PushFront(&metaEntry{object: object, meta: m})
	c.used += m.cost()
	for c.used > c.capacity && c.lru.Len() > 0 {
		el := c.lru.Back()
		e := el.Value.(*metaEntry)
		c.lru.Remove(el)
		delete(c.entries, e.object)
		c.used -= e.meta.cost()
	}
}

func (c *metaCache) drop(object string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[object]; ok {
		c.used -= el.Value.(*metaEntry).meta.cost()
		c.lru.Remove(el)
		delete(c.entries, object)
	}
}

// meta returns the segment's verified metadata, from the cache or loaded
// with one or two ranged GETs (shared by concurrent callers).
func (r *Reader) meta(ctx context.Context, seg Segment) (*segMeta, error) {
	if m, ok := r.metas.get(seg.Object); ok {
		r.m.indexHits.Inc()
		return m, nil
	}
	r.m.indexMisses.Inc()
	m, _, err := r.metas.loads.do(ctx, r.ctx, seg.Object, func(ctx context.Context) (*segMeta, error) {
		m, err := r.loadMeta(ctx, seg)
		if err == nil {
			r.metas.put(seg.Object, m)
		}
		return m, err
	})
	return m, err
}

func (r *Reader) loadMeta(ctx context.Context, seg Segment) (*segMeta, error) {
	if seg.Size < segment.FooterSize {
		return nil, corruptErr(seg.Object, "manifest size %d is smaller than a footer", seg.Size)
	}
	tailLen := min(seg.Size, metaTail)
	tailOff := seg.Size - tailLen
	tail, err := r.getRange(ctx, "meta", seg.Object, tailOff, tailLen)
	if err != nil {
		return nil, err
	}
	f, err := segment.ParseFooter(tail[len(tail)-segment.FooterSize:], seg.Size)
	if err != nil {
		return nil, objectErr(seg.Object, err)
	}
	if f.BaseOffset != seg.BaseOffset || f.LastOffset != seg.LastOffset {
		return nil, corruptErr(seg.Object, "footer offsets [%d,%d], manifest says [%d,%d]",
			f.BaseOffset, f.LastOffset, seg.BaseOffset, seg.LastOffset)
	}
	// The offset and time indexes are adjacent.
	from, to := f.OffsetIndex.Offset, f.TimeIndex.End()
	var sections []byte
	if from >= tailOff {
		sections = tail[from-tailOff : to-tailOff]
	} else if sections, err = r.getRange(ctx, "meta", seg.Object, from, to-from); err != nil {
		return nil, err
	}
	index := sections[:f.OffsetIndex.Size]
	tindex := sections[f.OffsetIndex.Size:]
	if err := segment.VerifySection(f.OffsetIndex, index); err != nil {
		return nil, objectErr(seg.Object, err)
	}
	if err := segment.VerifySection(f.TimeIndex, tindex); err != nil {
		return nil, objectErr(seg.Object, err)
	}
	return &segMeta{footer: f, index: bytes.Clone(index), tindex: bytes.Clone(tindex)}, nil
}
