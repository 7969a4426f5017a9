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
	key     chunkKey
	path    string
	size    int64
	advised bool // the kernel was asked to read it ahead
}

// fetchFunc fetches one chunk's bytes into a buffer with one reference,
// the caller's.
type fetchFunc func(ctx context.Context) (*chunkBuf, error)

// chunkCache is the chunk cache: the most recent chunks in memory
// (memChunks) and every chunk it has room for on disk, one file per chunk
// under dir, LRU by bytes. A fetched chunk is served from memory at once
// and written to disk by a single background writer (see diskwriter.go),
// so cold reads neither wait for nor pay for disk writes. A reader of a
// disk chunk opens its file and reads it with ReadAt; eviction unlinks
// files, which readers that already opened them can still read (POSIX), so
// entries need no pinning. Fetches of one chunk are shared (singleflight).
// Chunk buffers come from a pool and are counted (see chunkbuf.go).
type chunkCache struct {
	dir      string
	capacity int64
	m        *metrics
	mem      *memChunks
	fetches  *flight[chunkKey, *chunkBuf]
	bufs     *bufPool
	seq      atomic.Uint64

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

// chunkView is one chunk's bytes: a referenced buffer or an open cache
// file. close releases either.
type chunkView struct {
	buf *chunkBuf
	f   *os.File
}

// readAt fills p from the chunk at off.
func (v chunkView) readAt(p []byte, off int64) error {
	if v.f != nil {
		_, err := v.f.ReadAt(p, off)
		return err
	}
	data := v.buf.data
	if off+int64(len(p)) > int64(len(data)) {
		return fmt.Errorf("read of [%d,+%d) past the chunk's %d bytes", off, len(p), len(data))
	}
	copy(p, data[off:])
	return nil
}

func (v chunkView) close() {
	if v.f != nil {
		_ = v.f.Close()
	}
	if v.buf != nil {
		v.buf.release()
	}
}

// open returns the chunk from memory or disk, fetching it first (or
// waiting for the fetch in flight) on a miss; fetched says whether this
// call started a GET. count says whether the lookup counts toward the
// hit/miss metrics (read-ahead does not). The caller closes the view.
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
		if ok {
			c.lru.MoveToFront(el)
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
		f, err := os.Open(el.Value.(*chunkEntry).path)
		if err == nil {
			if count {
				c.m.cacheHits.Inc()
			}
			return chunkView{f: f}, false, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return chunkView{}, false, fmt.Errorf("remote: open cached chunk: %w", err)
		}
		// evicted between lookup and open: look again
	}
	if count {
		c.m.cacheMisses.Inc()
	}
	buf, started, err := c.fetches.do(ctx, root, k, func(ctx context.Context) (*chunkBuf, error) {
		buf, err := fetch(ctx)
		if err != nil {
			return nil, err
		}
		c.add(k, buf)
		return buf, nil
	})
	if err != nil {
		return chunkView{}, started, err
	}
	return chunkView{buf: buf}, started, nil
}

// add keeps a fetched chunk in memory and queues it for the disk (each
// taking its own reference).
func (c *chunkCache) add(k chunkKey, buf *chunkBuf) {
	c.mem.put(k, buf)
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

// prepare readies a chunk for a read soon: a chunk only on disk (written
// with direct I/O, so likely not in the page cache) is read ahead into the
// page cache by the kernel, once per entry. It reports whether the chunk
// is cached (in memory, on disk or on its way there) or being fetched.
func (c *chunkCache) prepare(k chunkKey) bool {
	if c.mem.contains(k) {
		return true
	}
	c.mu.Lock()
	el, ok := c.entries[k]
	_, pending := c.w.pendingData(k, false)
	var path string
	if ok && !pending && !el.Value.(*chunkEntry).advised {
		el.Value.(*chunkEntry).advised = true
		path = el.Value.(*chunkEntry).path
	}
	c.mu.Unlock()
	if path != "" {
		adviseWillNeed(path)
	}
	return ok || pending || c.fetches.running(k)
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
