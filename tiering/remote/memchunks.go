package remote

import (
	"container/list"
	"sync"
)

// memChunks is a small in-memory LRU (by bytes) of the most recently
// fetched or read chunks. A freshly fetched chunk is served from here while
// the chunk cache writes it to disk in the background, so a cold read never
// waits for (or pays CPU on the fetch path for) a disk write, and never
// reads back a chunk it has just fetched. Each entry holds a reference to
// its buffer, released on eviction; get gives the caller its own.
type memChunks struct {
	capacity int64

	mu      sync.Mutex
	entries map[chunkKey]*list.Element // of *memChunk
	lru     *list.List                 // front = most recently used
	used    int64
}

type memChunk struct {
	key chunkKey
	buf *chunkBuf
}

func newMemChunks(capacity int64) *memChunks {
	return &memChunks{capacity: capacity, entries: map[chunkKey]*list.Element{}, lru: list.New()}
}

// get returns the chunk's buffer, with a reference for the caller, if it
// is held.
func (c *memChunks) get(k chunkKey) (*chunkBuf, bool) {
	if c.capacity <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	b := el.Value.(*memChunk).buf
	b.retain(1)
	return b, true
}

// put adds (or replaces) a chunk, taking a reference to b (the caller
// holds one), evicting the least recently used ones over capacity. A chunk
// larger than the capacity is not kept.
func (c *memChunks) put(k chunkKey, b *chunkBuf) {
	if int64(len(b.data)) > c.capacity {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		c.removeLocked(el)
	}
	b.retain(1)
	c.entries[k] = c.lru.PushFront(&memChunk{key: k, buf: b})
	c.used += int64(len(b.data))
	for c.used > c.capacity {
		c.removeLocked(c.lru.Back())
	}
}

func (c *memChunks) removeLocked(el *list.Element) {
	e := el.Value.(*memChunk)
	c.lru.Remove(el)
	delete(c.entries, e.key)
	c.used -= int64(len(e.buf.data))
	e.buf.release()
}

// dropObject forgets every chunk of object.
func (c *memChunks) dropObject(object string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, el := range c.entries {
		if k.object == object {
			c.removeLocked(el)
		}
	}
}

// contains reports whether the chunk is held.
func (c *memChunks) contains(k chunkKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.entries[k]
	return ok
}

// stats returns the held bytes and chunk count.
func (c *memChunks) stats() (bytes int64, chunks int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, c.lru.Len()
}
