package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/strata-io/strata/objstore"
)

func bg() context.Context { return context.Background() }

func TestReadEveryOffset(t *testing.T) {
	// Three segments with a gap of nothing between them; 1 KiB chunks so
	// most batches straddle a chunk boundary.
	s1 := buildSegment(t, 0, 0, 60, 2048, varied)
	s2 := buildSegment(t, 0, s1.seg.LastOffset+1, 40, 1024, varied)
	s3 := buildSegment(t, 0, s2.seg.LastOffset+1, 5, 4096, varied)
	fx := newFixture(t, Config{ChunkSize: 1024, ReadAheadChunks: -1}, s1, s2, s3)
	all := []builtSegment{s1, s2, s3}
	for i, s := range all {
		for o := s.seg.BaseOffset; o <= s.seg.LastOffset; o++ {
			for _, maxBytes := range []int{0, 3000, 20000, 1 << 30} {
				got, err := fx.r.Read(bg(), testTopic, 0, o, maxBytes)
				if err != nil {
					t.Fatalf("Read(%d, %d): %v", o, maxBytes, err)
				}
				// Reads continue into the following segments.
				if want := expectedSpan(all[i:], o, maxBytes); !bytes.Equal(got, want) {
					t.Fatalf("Read(%d, %d) = %d bytes, want %d", o, maxBytes, len(got), len(want))
				}
			}
		}
	}
	for _, o := range []int64{s3.seg.LastOffset + 1, 1 << 40} {
		if _, err := fx.r.Read(bg(), testTopic, 0, o, 1000); !errors.Is(err, ErrNotRemote) {
			t.Fatalf("Read past the last segment (%d): %v, want ErrNotRemote", o, err)
		}
	}
	if _, err := fx.r.Read(bg(), testTopic, 7, 0, 1000); !errors.Is(err, ErrNotRemote) {
		t.Fatalf("Read of a partition without segments: %v, want ErrNotRemote", err)
	}
	segs := fx.r.Segments(testTopic, 0)
	if len(segs) != 3 || segs[0] != s1.seg || segs[2] != s3.seg {
		t.Fatalf("Segments = %+v", segs)
	}
}

func TestReadBelowFirstAndInGap(t *testing.T) {
	s1 := buildSegment(t, 0, 100, 10, 1024, varied)
	s2 := buildSegment(t, 0, s1.seg.LastOffset+50, 10, 1024, varied) // a gap (e.g. deleted records)
	fx := newFixture(t, Config{ChunkSize: 4096}, s1, s2)
	if _, err := fx.r.Read(bg(), testTopic, 0, 99, 1000); !errors.Is(err, ErrNotRemote) {
		t.Fatalf("Read below the first segment: %v, want ErrNotRemote", err)
	}
	got, err := fx.r.Read(bg(), testTopic, 0, s1.seg.LastOffset+10, 0)
	if err != nil || !bytes.Equal(got, s2.batches[0].data) {
		t.Fatalf("Read in the gap = %d bytes, %v; want the next segment's first batch", len(got), err)
	}
}

func TestKIP74(t *testing.T) {
	big := func(i int) (int32, int, int64) { return 3, 5000 + 1000*i, int64(i) }
	s := buildSegment(t, 0, 0, 6, 1024, big)
	fx := newFixture(t, Config{ChunkSize: 2048}, s)
	// maxBytes below the first batch: the first batch, whole.
	got, err := fx.r.Read(bg(), testTopic, 0, 4, 100)
	if err != nil || !bytes.Equal(got, s.batches[1].data) {
		t.Fatalf("Read(4, 100) = %d bytes, %v; want batch 1 (%d bytes)", len(got), err, len(s.batches[1].data))
	}
	// Exactly two batches fit; a byte less and only one does.
	two := len(s.batches[1].data) + len(s.batches[2].data)
	if got, _ := fx.r.Read(bg(), testTopic, 0, 3, two); len(got) != two {
		t.Fatalf("Read(3, %d) = %d bytes, want %d", two, len(got), two)
	}
	if got, _ := fx.r.Read(bg(), testTopic, 0, 3, two-1); len(got) != len(s.batches[1].data) {
		t.Fatalf("Read(3, %d) = %d bytes, want %d", two-1, len(got), len(s.batches[1].data))
	}
}

func TestCacheHitOnSecondRead(t *testing.T) {
	s := buildSegment(t, 0, 0, 50, 1024, varied)
	fx := newFixture(t, Config{ChunkSize: 8192, ReadAheadChunks: -1}, s)
	first, err := fx.r.Read(bg(), testTopic, 0, 10, 30000)
	if err != nil {
		t.Fatal(err)
	}
	gets := fx.bucket.gets.Load()
	hits, misses := testutil.ToFloat64(fx.r.m.cacheHits), testutil.ToFloat64(fx.r.m.cacheMisses)
	if hits != 0 || misses == 0 || gets < 2 {
		t.Fatalf("cold read: hits %v misses %v gets %d", hits, misses, gets)
	}
	remote := testutil.ToFloat64(fx.r.m.remoteBytes)
	if remote < 30000 {
		t.Fatalf("remote bytes read = %v, want at least the 30000 returned", remote)
	}
	second, err := fx.r.Read(bg(), testTopic, 0, 10, 30000)
	if err != nil || !bytes.Equal(first, second) {
		t.Fatalf("second read differs: %v", err)
	}
	if g := fx.bucket.gets.Load(); g != gets {
		t.Fatalf("second read made %d GETs, want 0", g-gets)
	}
	if h := testutil.ToFloat64(fx.r.m.cacheHits); h < misses {
		t.Fatalf("second read: %v hits, want at least %v", h, misses)
	}
	if m := testutil.ToFloat64(fx.r.m.cacheMisses); m != misses {
		t.Fatalf("second read added misses: %v -> %v", misses, m)
	}
	fx.waitWritten(t)
	if b, _ := fx.r.chunks.stats(); testutil.ToFloat64(fx.r.m.cacheBytes) != float64(b) || b == 0 {
		t.Fatalf("cache bytes metric %v, cache holds %d", testutil.ToFloat64(fx.r.m.cacheBytes), b)
	}
	if n, err := testutil.GatherAndCount(fx.reg, "strata_remote_get_duration_seconds"); err != nil || n == 0 {
		t.Fatalf("GET latency histogram: %d series, %v", n, err)
	}
}

func TestEvictionByBytes(t *testing.T) {
	s := buildSegment(t, 0, 0, 200, 1024, varied) // ~270 KiB
	const chunk = 8192
	fx := newFixture(t, Config{ChunkSize: chunk, CacheBytes: 4 * chunk, MemCacheBytes: -1, ReadAheadChunks: -1}, s)
	for o := int64(0); o <= s.seg.LastOffset; {
		got, err := fx.r.Read(bg(), testTopic, 0, o, 5000)
		if err != nil {
			t.Fatal(err)
		}
		if want := expected(s, o, 5000); !bytes.Equal(got, want) {
			t.Fatalf("Read(%d) wrong", o)
		}
		o = lastOffsetOf(t, got) + 1
	}
	fx.waitWritten(t)
	used, n := fx.r.chunks.stats()
	if used > 4*chunk || n > 4 {
		t.Fatalf("cache holds %d bytes in %d chunks, bound is %d", used, n, 4*chunk)
	}
	if ev := testutil.ToFloat64(fx.r.m.cacheEvictions); ev < 20 {
		t.Fatalf("evictions = %v, want many", ev)
	}
	files, _ := filepath.Glob(filepath.Join(fx.dir, "*"+chunkSuffix))
	if len(files) != n {
		t.Fatalf("%d chunk files on disk, cache says %d", len(files), n)
	}
	// The first chunk was evicted: reading it again is a GET.
	gets := fx.bucket.gets.Load()
	if _, err := fx.r.Read(bg(), testTopic, 0, 0, 100); err != nil {
		t.Fatal(err)
	}
	if fx.bucket.gets.Load() == gets {
		t.Fatal("re-reading an evicted chunk made no GET")
	}
}

func lastOffsetOf(t *testing.T, data []byte) int64 {
	t.Helper()
	var last int64 = -1
	for p := 0; p < len(data); {
		h, err := parseHeader("x", data[p:], int64(p), int64(len(data)-p))
		if err != nil {
			t.Fatal(err)
		}
		last = h.last
		p += int(h.total)
	}
	return last
}

func TestSingleflight(t *testing.T) {
	s := buildSegment(t, 0, 0, 20, 1024, varied)
	fx := newFixture(t, Config{ChunkSize: 1 << 20, MaxConcurrentReads: 16, ReadAheadChunks: -1}, s)
	fx.bucket.delay = 50 * time.Millisecond
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := fx.r.Read(bg(), testTopic, 0, int64(i), 1000)
			if err == nil && !bytes.Equal(got, expected(s, int64(i), 1000)) {
				err = fmt.Errorf("Read(%d) wrong data", i)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// One GET for footer and indexes, one for the only chunk.
	if g := fx.bucket.gets.Load(); g != 2 {
		t.Fatalf("16 concurrent readers made %d GETs, want 2", g)
	}
}

func TestCorruptObject(t *testing.T) {
	for _, where := range []string{"batch", "offset index", "footer"} {
		t.Run(where, func(t *testing.T) {
			s := buildSegment(t, 0, 0, 30, 1024, varied)
			var logs bytes.Buffer
			fx := newFixture(t, Config{ChunkSize: 4096}, s)
			fx.r.logger = slog.New(slog.NewTextHandler(&logs, nil))
			bad := bytes.Clone(s.obj)
			victim := s.batches[7]
			switch where {
			case "batch":
				bad[victim.pos+int64(len(victim.data))-3] ^= 0x01
			case "offset index":
				bad[s.batches[len(s.batches)-1].pos+int64(len(s.batches[len(s.batches)-1].data))+2] ^= 0x01
			case "footer":
				bad[len(bad)-100] ^= 0x01
			}
			if err := fx.bucket.Upload(bg(), s.seg.Object, bytes.NewReader(bad)); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				got, err := fx.r.Read(bg(), testTopic, 0, victim.base, 0)
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), s.seg.Object) || got != nil {
					t.Fatalf("Read of corrupt object = %d bytes, %v; want ErrCorrupt naming the object", len(got), err)
				}
			}
			if n := strings.Count(logs.String(), "refusing to serve"); n != 1 || !strings.Contains(logs.String(), s.seg.Object) {
				t.Fatalf("object logged %d times, want once:\n%s", n, logs.String())
			}
			if c := testutil.ToFloat64(fx.r.m.corrupt); c != 2 {
				t.Fatalf("corrupt reads metric = %v, want 2", c)
			}
			if where == "batch" { // other batches of the object are still served
				if got, err := fx.r.Read(bg(), testTopic, 0, s.batches[20].base, 0); err != nil || !bytes.Equal(got, s.batches[20].data) {
					t.Fatalf("Read of an intact batch: %v", err)
				}
			}
		})
	}
}

func TestCorruptCacheFileRefetched(t *testing.T) {
	s := buildSegment(t, 0, 0, 30, 1024, varied)
	fx := newFixture(t, Config{ChunkSize: 1 << 20, MemCacheBytes: -1, ReadAheadChunks: -1}, s)
	want, err := fx.r.Read(bg(), testTopic, 0, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	fx.waitWritten(t)
	files, _ := filepath.Glob(filepath.Join(fx.dir, "*"+chunkSuffix))
	if len(files) != 1 {
		t.Fatalf("%d chunk files, want 1", len(files))
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	b[500] ^= 0xff
	if err := os.WriteFile(files[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := fx.r.Read(bg(), testTopic, 0, 0, 1<<20)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Read after the cached chunk was damaged: %v", err)
	}
}

func TestOffsetForTimestamp(t *testing.T) {
	// Timestamps grow by 10 per batch except batch 13 of the first segment, which dips.
	ts := func(i int) (int32, int, int64) {
		n, size, t := varied(i)
		if i == 13 {
			t -= 500
		}
		return n, size, t
	}
	s1 := buildSegment(t, 0, 0, 40, 1024, ts)
	s2 := buildSegment(t, 0, s1.seg.LastOffset+1, 40, 1024, func(i int) (int32, int, int64) {
		n, size, t := varied(i + 40)
		return n, size, t
	})
	fx := newFixture(t, Config{ChunkSize: 4096}, s1, s2)
	all := append(append([]testBatch{}, s1.batches...), s2.batches...)
	for _, q := range []int64{0, 1_000_000, 1_000_005, 1_000_130, 1_000_131, 1_000_395, 1_000_400, 1_000_401, 1_000_790} {
		var want int64 = -1
		for _, b := range all {
			if b.maxTs >= q {
				want = b.base
				break
			}
		}
		got, found, err := fx.r.OffsetForTimestamp(bg(), testTopic, 0, q)
		if err != nil || found != (want >= 0) || found && got != want {
			t.Fatalf("OffsetForTimestamp(%d) = %d, %v, %v; want %d", q, got, found, err, want)
		}
	}
	if _, found, err := fx.r.OffsetForTimestamp(bg(), testTopic, 0, 1_000_791); found || err != nil {
		t.Fatalf("OffsetForTimestamp past the max: found %v, %v", found, err)
	}
}

func TestManifestWatch(t *testing.T) {
	s1 := buildSegment(t, 3, 0, 10, 1024, varied)
	fx := newFixture(t, Config{ChunkSize: 4096}, s1)
	if err := fx.r.Start(bg()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(fx.r.Segments(testTopic, 3)) == 1 })
	if _, err := fx.r.Read(bg(), testTopic, 3, s1.seg.LastOffset+1, 100); !errors.Is(err, ErrNotRemote) {
		t.Fatalf("Read before the second segment: %v", err)
	}
	lists := fx.manifest.lists.Load()
	s2 := buildSegment(t, 3, s1.seg.LastOffset+1, 10, 1024, varied)
	fx.upload(t, s2)
	waitFor(t, func() bool { return len(fx.r.Segments(testTopic, 3)) == 2 })
	got, err := fx.r.Read(bg(), testTopic, 3, s2.seg.BaseOffset+2, 0)
	if err != nil || !bytes.Equal(got, expected(s2, s2.seg.BaseOffset+2, 0)) {
		t.Fatalf("Read of the watched-in segment: %v", err)
	}
	if l := fx.manifest.lists.Load(); l != lists {
		t.Fatalf("the watch was not enough: %d more listings", l-lists)
	}
	fx.manifest.put(s1.seg, true)
	waitFor(t, func() bool { return len(fx.r.Segments(testTopic, 3)) == 1 })
	if _, err := fx.r.Read(bg(), testTopic, 3, 0, 100); !errors.Is(err, ErrNotRemote) {
		t.Fatalf("Read of a deleted segment: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReadPoolBound(t *testing.T) {
	var segs []builtSegment
	var base int64
	for range 6 {
		s := buildSegment(t, 0, base, 5, 1024, varied)
		segs = append(segs, s)
		base = s.seg.LastOffset + 1
	}
	fx := newFixture(t, Config{ChunkSize: 4096, MaxConcurrentReads: 2, ReadAheadChunks: -1}, segs...)
	fx.bucket.delay = 30 * time.Millisecond
	var wg sync.WaitGroup
	for _, s := range segs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := fx.r.Read(bg(), testTopic, 0, s.seg.BaseOffset, 100); err != nil {
				t.Error(err)
			}
		}()
	}
	// While the pool is full, a reader with a deadline gives up waiting.
	time.Sleep(10 * time.Millisecond)
	ctx, cancel := context.WithTimeout(bg(), 20*time.Millisecond)
	defer cancel()
	if _, err := fx.r.Read(ctx, testTopic, 0, 0, 100); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Read with a full pool: %v, want DeadlineExceeded", err)
	}
	wg.Wait()
	if m := fx.bucket.maxIn.Load(); m > 2 {
		t.Fatalf("%d GETs in flight at once, pool is 2", m)
	}
	if m := fx.bucket.maxIn.Load(); m < 2 {
		t.Fatalf("reads did not run concurrently (max %d in flight)", m)
	}
}

func TestReadAhead(t *testing.T) {
	s := buildSegment(t, 0, 0, 100, 1024, varied)
	fx := newFixture(t, Config{ChunkSize: 8192, ReadAheadChunks: 2}, s)
	got, err := fx.r.Read(bg(), testTopic, 0, 0, 4000)
	if err != nil {
		t.Fatal(err)
	}
	end := int64(len(got))
	next := end / 8192
	for _, idx := range []int64{next + 1, next + 2} {
		waitFor(t, func() bool { return fx.r.chunks.contains(chunkKey{s.seg.Object, idx}) })
	}
	waitFor(t, func() bool { return testutil.ToFloat64(fx.r.m.readAhead) >= 2 })
	// The next sequential read is all cache hits.
	misses := testutil.ToFloat64(fx.r.m.cacheMisses)
	if _, err := fx.r.Read(bg(), testTopic, 0, lastOffsetOf(t, got)+1, 8000); err != nil {
		t.Fatal(err)
	}
	if m := testutil.ToFloat64(fx.r.m.cacheMisses); m != misses {
		t.Fatalf("sequential read after read-ahead missed the cache %v times", m-misses)
	}
	// A random (non-sequential) read triggers none.
	fx2 := newFixture(t, Config{ChunkSize: 8192, ReadAheadChunks: 2}, s)
	if _, err := fx2.r.Read(bg(), testTopic, 0, 150, 100); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if ra := testutil.ToFloat64(fx2.r.m.readAhead); ra != 0 {
		t.Fatalf("random read triggered %v read-ahead chunks", ra)
	}
}

func TestCacheClearedAtStart(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "deadbeef-0"+chunkSuffix)
	other := filepath.Join(dir, "keep.txt")
	for _, p := range []string{stale, other, filepath.Join(dir, "tmp-9")} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	newFixture(t, Config{CacheDir: dir})
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale chunk survived start: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("a file the cache does not own was removed: %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{CacheDir: t.TempDir(), ChunkSize: 10},
		{CacheDir: t.TempDir(), ChunkSize: 1 << 20, CacheBytes: 1 << 10},
		{CacheDir: t.TempDir(), MaxConcurrentReads: -1},
	} {
		if _, err := New(cfg, nil, newFakeManifest(), nil, nil); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestReadAheadIntoNextSegment(t *testing.T) {
	s1 := buildSegment(t, 0, 0, 10, 1024, varied)
	s2 := buildSegment(t, 0, s1.seg.LastOffset+1, 10, 1024, varied)
	fx := newFixture(t, Config{ChunkSize: 1 << 20, ReadAheadChunks: 1}, s1, s2)
	// Exactly s1: the read does not continue into s2 itself.
	if _, err := fx.r.Read(bg(), testTopic, 0, 0, len(expected(s1, 0, 1<<20))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return testutil.ToFloat64(fx.r.m.readAhead) == 1 })
	if _, ok := fx.r.metas.get(s2.seg.Object); !ok {
		t.Fatal("next segment's footer and indexes not prefetched")
	}
	gets := fx.bucket.gets.Load()
	if got, err := fx.r.Read(bg(), testTopic, 0, s2.seg.BaseOffset, 1<<20); err != nil || !bytes.Equal(got, expected(s2, s2.seg.BaseOffset, 1<<20)) {
		t.Fatalf("Read of the next segment: %v", err)
	}
	if g := fx.bucket.gets.Load(); g != gets {
		t.Fatalf("reading the prefetched segment made %d GETs", g-gets)
	}
}

func TestMissingObject(t *testing.T) {
	s := buildSegment(t, 0, 0, 10, 1024, varied)
	fx := newFixture(t, Config{ChunkSize: 4096}, s)
	if err := fx.bucket.Delete(bg(), s.seg.Object); err != nil {
		t.Fatal(err)
	}
	_, err := fx.r.Read(bg(), testTopic, 0, 0, 100)
	if !errors.Is(err, objstore.ErrNotFound) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("Read of a missing object: %v, want ErrNotFound", err)
	}
	// Once the manifest drops it too, it is simply not remote.
	if err := fx.r.Start(bg()); err != nil {
		t.Fatal(err)
	}
	fx.manifest.put(s.seg, true)
	if _, err := fx.r.Read(bg(), testTopic, 0, 0, 100); !errors.Is(err, ErrNotRemote) {
		t.Fatalf("Read after the manifest dropped the segment: %v", err)
	}
}

// TestWarmReadSkipsChecksums: a second read of chunks still in memory does
// not checksum the batches again; once the chunk is reloaded from the disk
// cache it is checked anew (a damaged file is still caught).
func TestWarmReadSkipsChecksums(t *testing.T) {
	s := buildSegment(t, 0, 0, 40, 1024, varied)
	fx := newFixture(t, Config{ChunkSize: 8192, ReadAheadChunks: -1}, s)
	first, err := fx.r.Read(bg(), testTopic, 0, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	checked := testutil.ToFloat64(fx.r.m.checksummed)
	if checked < float64(len(first)) {
		t.Fatalf("cold read checksummed %v bytes, want all %d", checked, len(first))
	}
	second, err := fx.r.Read(bg(), testTopic, 0, 5, 1<<20)
	if err != nil || !bytes.Equal(second, expected(s, 5, 1<<20)) {
		t.Fatalf("warm read: %v", err)
	}
	if c := testutil.ToFloat64(fx.r.m.checksummed); c != checked {
		t.Fatalf("warm read checksummed %v more bytes, want 0", c-checked)
	}
	// Drop the memory copies: the next read loads the disk files, new
	// buffers, and checks every batch again.
	fx.waitWritten(t)
	fx.r.chunks.mem.dropObject(fx.r.Segments(testTopic, 0)[0].Object)
	third, err := fx.r.Read(bg(), testTopic, 0, 0, 1<<20)
	if err != nil || !bytes.Equal(third, first) {
		t.Fatalf("read from the disk cache: %v", err)
	}
	if c := testutil.ToFloat64(fx.r.m.checksummed); c < checked+float64(len(first)) {
		t.Fatalf("read from the disk cache checksummed %v bytes, want all %d", c-checked, len(first))
	}
}
