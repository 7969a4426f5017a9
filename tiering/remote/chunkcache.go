package remote

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

type chunkKey struct {
	object string
	index  int64
}

type chunkEntry struct {
	key  chunkKey
	path string
	size int64
}

// fetchFunc fetches one chunk's bytes into a buffer with one reference,
// the caller's.
type fetchFunc func(ctx context.Context) (*chunkBuf, error)

// chunkCache is the chunk cache: the most recent chunks in memory
// (memChunks) and every chunk it has room for on disk, one file per chunk
// under dir, LRU by bytes. A fetched chunk is served from memory at once
// and written to disk by a single background writer (see diskwriter.go),
// so cold reads neither wait for nor pay for disk writes. A chunk only on
// disk is read back whole into memory (see load) and served from there;
// eviction unlinks files, and a load that finds its file gone looks again.
// Fetches and loads of one chunk are shared (singleflight).
// Chunk buffers come from a pool and are counted (see chunkbuf.go).
type chunkCache struct {
	dir      string
	capacity int64
	m        *metrics
	mem      *memChunks
	fetches  *flight[chunkKey, *chunkBuf]
	bufs     *bufPool
	seq      atomic.Uint64
	// memOnly, if set and true, keeps fetched chunks out of the disk tier
	// (see Config.Busy): the disk is the producers' while they are busy.
	memOnly func() bool

	mu      sync.Mutex
	entries map[chunkKey]*list.Element // of *chunkEntry
	lru     *list.List                 // front = most recently used
	used    int64
	w       diskWriter // guarded by mu
}

const chunkSuffix = ".chunk"

func newChunkCache(ctx context.Context, dir string, chunkSize, capacity, memBytes, pendingBytes int64, m *metrics, wg *sync.WaitGroup) (*chunkCache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("remote: chunk cache dir: %w", err)
	}
	// Start empty: a previous run's chunks have no index, and a crash may
	// have left partial temp files.
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("remote: chunk cache dir: %w", err)
	}
	for _, de := range des {
		if n := de.Name(); !de.IsDir() && (strings.HasSuffix(n, chunkSuffix) || strings.HasPrefix(n, "tmp-")) {
			if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("remote: clear chunk cache: %w", err)
			}
		}
	}
	m.cacheBytes.Set(0)
	c := &chunkCache{
		dir: dir, capacity: capacity, m: m, mem: newMemChunks(memBytes),
		fetches: newFlight[chunkKey, *chunkBuf](wg),
		bufs:    newBufPool(alignUp(int(chunkSize)), maxFreeBufs(chunkSize)),
		entries: map[chunkKey]*list.Element{}, lru: list.New(),
	}
	c.fetches.share = (*chunkBuf).retain
	c.fetches.drop = (*chunkBuf).release
	c.w.init(pendingBytes)
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.writeLoop(ctx)
	}()
	return c, nil
}

// maxFreeBufs is how many free chunk buffers the pool keeps: up to
// freeBufBytes of them.
func maxFreeBufs(chunkSize int64) int {
	return int(min(64, max(4, freeBufBytes/chunkSize)))
}

// freeBufBytes bounds the free chunk buffers kept for reuse.
const freeBufBytes = 64 << 20

func (c *chunkCache) path(k chunkKey) string {
	h := sha256.Sum256([]byte(k.object))
	return filepath.Join(c.dir, fmt.Sprintf("%s-%d%s", hex.EncodeToString(h[:16]), k.index, chunkSuffix))
}

// chunkView is one chunk's bytes in a referenced buffer; close releases it.
type chunkView struct {
	buf *chunkBuf
}

// readAt fills p from the chunk at off.
func (v chunkView) readAt(p []byte, off int64) error {
	data := v.buf.data
	if off+int64(len(p)) > int64(len(data)) {
		return fmt.Errorf("read of [%d,+%d) past the chunk's %d bytes", off, len(p), len(data))
	}
	copy(p, data[off:])
	return nil
}

func (v chunkView) close() {
	if v.buf != nil {
		v.buf.release()
	}
}

// open returns the chunk from memory, loading it from disk or fetching it
// first (or waiting for the load or fetch in flight) when it is not in
// memory; fetched says whether this call started a GET. count says
// whether the lookup counts toward the hit/miss metrics (read-ahead does
// not). The caller closes the view.
func (c *chunkCache) open(ctx, root context.Context, k chunkKey, fetch fetchFunc, count bool) (v chunkView, fetched bool, err error) {
	for attempt := 0; attempt < 3; attempt++ {
		if buf, ok := c.mem.get(k); ok {
			if count {
				c.m.cacheHits.Inc()
				c.m.memHits.Inc()
			}
			return chunkView{buf: buf}, false, nil
		}
		c.mu.Lock()
		buf, pending := c.w.pendingData(k, true)
		el, ok := c.entries[k]
		var e chunkEntry
		if ok {
			c.lru.MoveToFront(el)
			e = *el.Value.(*chunkEntry)
		}
		c.mu.Unlock()
		if pending {
			if count {
				c.m.cacheHits.Inc()
				c.m.memHits.Inc()
			}
			return chunkView{buf: buf}, false, nil
		}
		if !ok {
			break
		}
		buf, _, err := c.fetches.do(ctx, root, k, func(context.Context) (*chunkBuf, error) {
			return c.load(k, e)
		})
		if err == nil {
			if count {
				c.m.cacheHits.Inc()
			}
			return chunkView{buf: buf}, false, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return chunkView{}, false, fmt.Errorf("remote: read cached chunk: %w", err)
		}
		// evicted between lookup and read: look again
	}
	if count {
		c.m.cacheMisses.Inc()
	}
	for try := 0; ; try++ {
		buf, started, err := c.fetches.do(ctx, root, k, func(ctx context.Context) (*chunkBuf, error) {
			buf, err := fetch(ctx)
			if err != nil {
				return nil, err
			}
			c.add(k, buf)
			return buf, nil
		})
		if err != nil && !started && try < 3 && errors.Is(err, fs.ErrNotExist) {
			// Joined another reader's disk load of this chunk (fetches and
			// loads share flights) whose file was evicted: fetch it.
			continue
		}
		if err != nil {
			return chunkView{}, started, err
		}
		return chunkView{buf: buf}, started, nil
	}
}

// load reads a chunk from its disk file into a pooled buffer (direct I/O
// where possible: the file was written that way, so it is not in the page
// cache, and large direct reads run at the device's speed where buffered
// ones go at the kernel's read-ahead pace) and keeps it in memory, so
// read-ahead of cached chunks works as it does for fetched ones.
func (c *chunkCache) load(k chunkKey, e chunkEntry) (*chunkBuf, error) {
	buf := c.bufs.get(int(e.size))
	if err := readChunkFile(e.path, buf.data); err != nil {
		buf.release()
		return nil, err
	}
	c.mem.put(k, buf)
	return buf, nil
}

// add keeps a fetched chunk in memory and queues it for the disk (each
// taking its own reference).
func (c *chunkCache) add(k chunkKey, buf *chunkBuf) {
	c.mem.put(k, buf)
	if c.memOnly != nil && c.memOnly() {
		c.m.cacheWriteSkips.Inc()
		return
	}
	c.mu.Lock()
	queued := c.w.enqueue(k, buf)
	c.mu.Unlock()
	if !queued {
		c.m.cacheWriteDrops.Inc()
	}
}

// commit adds a chunk written to path to the disk index, evicting the
// least recently used chunks over capacity.
func (c *chunkCache) commitLocked(k chunkKey, path string, size int64) {
	if el, ok := c.entries[k]; ok { // replaced an invalidated-then-refilled entry
		c.removeLocked(el, false)
	}
	c.entries[k] = c.lru.PushFront(&chunkEntry{key: k, path: path, size: size})
	c.used += size
	for c.used > c.capacity && c.lru.Len() > 1 {
		c.removeLocked(c.lru.Back(), true)
		c.m.cacheEvictions.Inc()
	}
	c.m.cacheBytes.Set(float64(c.used))
}

func (c *chunkCache) removeLocked(el *list.Element, unlink bool) {
	e := el.Value.(*chunkEntry)
	c.lru.Remove(el)
	delete(c.entries, e.key)
	c.used -= e.size
	if unlink {
		_ = os.Remove(e.path)
	}
}

// contains reports whether the chunk is cached (in memory, on disk or on
// its way there) or being fetched.
func (c *chunkCache) contains(k chunkKey) bool {
	if c.mem.contains(k) {
		return true
	}
	c.mu.Lock()
	_, ok := c.entries[k]
	_, pending := c.w.pendingData(k, false)
	c.mu.Unlock()
	return ok || pending || c.fetches.running(k)
}

// inMemory reports whether the chunk is in memory (or on its way there:
// queued for the disk, loading or being fetched), so a read-ahead need
// not start anything for it.
func (c *chunkCache) inMemory(k chunkKey) bool {
	if c.mem.contains(k) {
		return true
	}
	c.mu.Lock()
	_, pending := c.w.pendingData(k, false)
	c.mu.Unlock()
	return pending || c.fetches.running(k)
}

// invalidateObject drops every cached chunk of object, in memory, on disk
// and queued for the disk.
func (c *chunkCache) invalidateObject(object string) {
	c.mem.dropObject(object)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.w.dropObject(object)
	for k, el := range c.entries {
		if k.object == object {
			c.removeLocked(el, true)
		}
	}
	c.m.cacheBytes.Set(float64(c.used))
}

// stats returns the bytes and chunk count on disk.
func (c *chunkCache) stats() (bytes int64, chunks int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, c.lru.Len()
}
