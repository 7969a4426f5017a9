package remote

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestDiskWriterQueue(t *testing.T) {
	var w diskWriter
	w.init(10)
	a, b, c := chunkKey{"a", 0}, chunkKey{"b", 0}, chunkKey{"a", 1}
	if !w.enqueue(a, newChunkBuf(make([]byte, 4))) || !w.enqueue(b, newChunkBuf(make([]byte, 4))) {
		t.Fatal("enqueue under the bound refused")
	}
	if !w.enqueue(a, newChunkBuf(make([]byte, 4))) || w.bytes != 8 {
		t.Fatalf("re-enqueue of a queued chunk: %d bytes queued, want 8", w.bytes)
	}
	if w.enqueue(c, newChunkBuf(make([]byte, 4))) {
		t.Fatal("enqueue over the bound accepted")
	}
	p, ok := w.next()
	if !ok || p.key != a {
		t.Fatalf("next = %v, %v; want chunk a", p, ok)
	}
	if _, ok := w.pendingData(a, false); !ok {
		t.Fatal("a chunk being written is not readable from the queue")
	}
	w.dropObject("a")
	if w.done(p) {
		t.Fatal("a write of an invalidated chunk is still wanted")
	}
	if _, ok := w.pendingData(a, false); ok || w.bytes != 4 {
		t.Fatalf("after invalidation: a pending %v, %d bytes queued", ok, w.bytes)
	}
	p, ok = w.next()
	if !ok || p.key != b || !w.done(p) || !w.idle() || w.bytes != 0 {
		t.Fatalf("b: %v %v, idle %v, %d bytes", p, ok, w.idle(), w.bytes)
	}
	if _, ok := w.next(); ok {
		t.Fatal("next on an empty queue")
	}
}

// A fetched chunk serves reads from memory at once and reaches the disk
// in the background; with the memory LRU off, reads come from the disk
// file once written.
func TestFetchedChunkInMemoryThenOnDisk(t *testing.T) {
	s := buildSegment(t, 0, 0, 40, 1024, varied)
	fx := newFixture(t, Config{ChunkSize: 8192, ReadAheadChunks: -1}, s)
	first, err := fx.r.Read(bg(), testTopic, 0, 0, 20000)
	if err != nil {
		t.Fatal(err)
	}
	gets := fx.bucket.gets.Load()
	second, err := fx.r.Read(bg(), testTopic, 0, 0, 20000)
	if err != nil || !bytes.Equal(first, second) {
		t.Fatalf("second read differs: %v", err)
	}
	if g := fx.bucket.gets.Load(); g != gets {
		t.Fatalf("second read made %d GETs", g-gets)
	}
	if h := testutil.ToFloat64(fx.r.m.memHits); h == 0 {
		t.Fatal("second read was not served from memory")
	}
	fx.waitWritten(t)
	files, _ := filepath.Glob(filepath.Join(fx.dir, "*"+chunkSuffix))
	if _, n := fx.r.chunks.stats(); n == 0 || len(files) != n {
		t.Fatalf("%d chunk files on disk, cache index says %d", len(files), n)
	}

	// Memory LRU off: served from the disk files.
	fx2 := newFixture(t, Config{ChunkSize: 8192, MemCacheBytes: -1, ReadAheadChunks: -1}, s)
	if _, err := fx2.r.Read(bg(), testTopic, 0, 0, 20000); err != nil {
		t.Fatal(err)
	}
	fx2.waitWritten(t)
	hits, mem := testutil.ToFloat64(fx2.r.m.cacheHits), testutil.ToFloat64(fx2.r.m.memHits)
	got, err := fx2.r.Read(bg(), testTopic, 0, 0, 20000)
	if err != nil || !bytes.Equal(got, first) {
		t.Fatalf("read from disk differs: %v", err)
	}
	if testutil.ToFloat64(fx2.r.m.cacheHits) == hits || testutil.ToFloat64(fx2.r.m.memHits) != mem {
		t.Fatal("with the memory LRU off, the second read was not a disk hit")
	}
}

func TestMemChunksBound(t *testing.T) {
	c := newMemChunks(10)
	c.put(chunkKey{"a", 0}, newChunkBuf(make([]byte, 4)))
	c.put(chunkKey{"a", 1}, newChunkBuf(make([]byte, 4)))
	c.get(chunkKey{"a", 0}) // a/1 is now the least recently used
	c.put(chunkKey{"b", 0}, newChunkBuf(make([]byte, 4)))
	if c.contains(chunkKey{"a", 1}) || !c.contains(chunkKey{"a", 0}) || !c.contains(chunkKey{"b", 0}) {
		t.Fatal("eviction did not take the least recently used chunk")
	}
	c.put(chunkKey{"big", 0}, newChunkBuf(make([]byte, 11)))
	if c.contains(chunkKey{"big", 0}) {
		t.Fatal("a chunk larger than the bound was kept")
	}
	c.dropObject("a")
	if used, n := c.stats(); used != 4 || n != 1 {
		t.Fatalf("after dropObject: %d bytes in %d chunks, want 4 in 1", used, n)
	}
}

// Chunks are written with direct I/O where the file system allows it,
// padded to the alignment and truncated back; the file holds exactly the
// chunk either way.
func TestWriteChunkFile(t *testing.T) {
	c := &chunkCache{dir: t.TempDir()}
	for _, n := range []int{directAlign, 3*directAlign + 123, 17} {
		data := make([]byte, n, alignUp(n))
		for i := range data {
			data[i] = byte(i*7 + n)
		}
		if n == 17 {
			data = data[:n:n] // no room for padding: the buffered path
		}
		path := filepath.Join(c.dir, "x"+chunkSuffix)
		if err := c.writeFile(path, data); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: file holds %d bytes, equal %v, %v", n, len(got), bytes.Equal(got, data), err)
		}
		// Read back the way a load does (direct where aligned), into a
		// pooled-style buffer and into a tight one.
		for _, back := range [][]byte{make([]byte, n, alignUp(n)), make([]byte, n)} {
			if err := readChunkFile(path, back); err != nil || !bytes.Equal(back, data) {
				t.Fatalf("%d bytes: read back equal %v, %v", n, bytes.Equal(back, data), err)
			}
		}
		if err := readChunkFile(path, make([]byte, n-1, alignUp(n))); err == nil {
			t.Fatalf("%d bytes: reading it as %d bytes did not fail", n, n-1)
		}
		if err := readChunkFile(path+".gone", make([]byte, n, alignUp(n))); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("missing file: err %v, want ErrNotExist", err)
		}
	}
	if runtime.GOOS == "linux" {
		data := make([]byte, 5000, alignUp(5000))
		f, _, ok := openDirect(filepath.Join(c.dir, "probe"), data)
		if ok {
			f.Close()
		}
		t.Logf("direct I/O in %s: %v", c.dir, ok)
	}
}
