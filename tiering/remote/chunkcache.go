package remote

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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

// fetchFunc writes one chunk to w.
type fetchFunc func(ctx context.Context, w io.Writer) error

// chunkCache is the on-disk chunk cache: one file per chunk under dir, LRU
// by bytes. A reader opens a chunk's file and reads it with ReadAt;
// eviction unlinks files, which readers that already opened them can still
// read (POSIX), so entries need no pinning. Fetches of one chunk are
// shared (singleflight).
type chunkCache struct {
	dir      string
	capacity int64
	m        *metrics
	fetches  *flight[chunkKey, struct{}]
	seq      atomic.Uint64

	mu      sync.Mutex
	entries map[chunkKey]*list.Element // of *chunkEntry
	lru     *list.List                 // front = most recently used
	used    int64
}

const chunkSuffix = ".chunk"

func newChunkCache(dir string, capacity int64, m *metrics, wg *sync.WaitGroup) (*chunkCache, error) {
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
	return &chunkCache{
		dir: dir, capacity: capacity, m: m,
		fetches: newFlight[chunkKey, struct{}](wg),
		entries: map[chunkKey]*list.Element{}, lru: list.New(),
	}, nil
}

func (c *chunkCache) path(k chunkKey) string {
	h := sha256.Sum256([]byte(k.object))
	return filepath.Join(c.dir, fmt.Sprintf("%s-%d%s", hex.EncodeToString(h[:16]), k.index, chunkSuffix))
}

// open returns the cached chunk's file, fetching it first (or waiting for
// the fetch in flight) on a miss; fetched says whether this call started a
// GET. count says whether the lookup counts toward the hit/miss metrics
// (read-ahead does not).
func (c *chunkCache) open(ctx, root context.Context, k chunkKey, fetch fetchFunc, count bool) (f *os.File, fetched bool, err error) {
	missed := false
	for attempt := 0; attempt < 5; attempt++ {
		c.mu.Lock()
		el, ok := c.entries[k]
		if ok {
			c.lru.MoveToFront(el)
		}
		c.mu.Unlock()
		if ok {
			f, err := os.Open(el.Value.(*chunkEntry).path)
			if err == nil {
				if count && !missed {
					c.m.cacheHits.Inc()
				}
				return f, fetched, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return nil, fetched, fmt.Errorf("remote: open cached chunk: %w", err)
			}
			continue // evicted between lookup and open
		}
		if count && !missed {
			c.m.cacheMisses.Inc()
		}
		missed = true
		_, started, err := c.fetches.do(ctx, root, k, func(ctx context.Context) (struct{}, error) {
			return struct{}{}, c.fill(ctx, k, fetch)
		})
		fetched = fetched || started
		if err != nil {
			return nil, fetched, err
		}
	}
	return nil, fetched, fmt.Errorf("remote: chunk %d of %q evicted repeatedly before it could be read (cache too small for the load)", k.index, k.object)
}

// fill fetches a chunk into a temporary file, renames it into place and
// adds it to the cache, evicting the least recently used chunks over
// capacity.
func (c *chunkCache) fill(ctx context.Context, k chunkKey, fetch fetchFunc) error {
	tmp := filepath.Join(c.dir, fmt.Sprintf("tmp-%d", c.seq.Add(1)))
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("remote: chunk cache: %w", err)
	}
	err = fetch(ctx, f)
	var size int64
	if err == nil {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil {
			size = st.Size()
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("remote: chunk cache: %w", cerr)
	}
	path := c.path(k)
	if err == nil {
		if err = os.Rename(tmp, path); err != nil {
			err = fmt.Errorf("remote: chunk cache: %w", err)
		}
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
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
	return nil
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

// contains reports whether the chunk is cached or being fetched.
func (c *chunkCache) contains(k chunkKey) bool {
	c.mu.Lock()
	_, ok := c.entries[k]
	c.mu.Unlock()
	return ok || c.fetches.running(k)
}

// invalidateObject drops every cached chunk of object.
func (c *chunkCache) invalidateObject(object string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, el := range c.entries {
		if k.object == object {
			c.removeLocked(el, true)
		}
	}
	c.m.cacheBytes.Set(float64(c.used))
}

// stats returns the cached bytes and chunk count.
func (c *chunkCache) stats() (bytes int64, chunks int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, c.lru.Len()
}
