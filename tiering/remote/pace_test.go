package remote

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// While producers are busy, cold reads are capped and paced; otherwise
// they are neither.
func TestReadsPacedWhileBusy(t *testing.T) {
	s := buildSegment(t, 0, 0, 100, 1024, varied)
	var busy atomic.Bool
	busy.Store(true)
	fx := newFixture(t, Config{ChunkSize: 8192, ReadAheadChunks: -1, Busy: busy.Load,
		BusyReadBytesPerSec: 40 << 10, BusyMaxReadBytes: 4096}, s)
	start := time.Now()
	var got int
	for off := int64(0); got < 12<<10; {
		data, err := fx.r.Read(bg(), testTopic, 0, off, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 4096+2048 { // the cap, or one whole batch
			t.Fatalf("busy read returned %d bytes, cap 4096", len(data))
		}
		got += len(data)
		off = lastOffsetOf(t, data) + 1
	}
	// All but the last read's bytes were paid for at 40 KiB/s.
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Fatalf("read %d bytes in %v while busy, want paced to 40 KiB/s", got, el)
	}
	busy.Store(false)
	data, err := fx.r.Read(bg(), testTopic, 0, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 64<<10 {
		t.Fatalf("idle read returned %d bytes, want the whole budget", len(data))
	}
}

// Paced reads stay within one segment; unpaced ones continue into the
// next segment.
func TestBusyReadsStayInSegment(t *testing.T) {
	s1 := buildSegment(t, 0, 0, 4, 1024, varied)
	s2 := buildSegment(t, 0, s1.seg.LastOffset+1, 4, 1024, varied)
	var busy atomic.Bool
	busy.Store(true)
	fx := newFixture(t, Config{ChunkSize: 1024, ReadAheadChunks: 8, Busy: busy.Load,
		BusyReadBytesPerSec: 1 << 30, BusyMaxReadBytes: 1 << 20}, s1, s2)
	data, err := fx.r.Read(bg(), testTopic, 0, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if want := expected(s1, 0, 1<<20); !bytes.Equal(data, want) {
		t.Fatalf("busy read returned %d bytes, want the %d of the first segment", len(data), len(want))
	}
	time.Sleep(50 * time.Millisecond)
	busy.Store(false)
	data, err = fx.r.Read(bg(), testTopic, 0, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if want := expectedSpan([]builtSegment{s1, s2}, 0, 1<<20); !bytes.Equal(data, want) {
		t.Fatalf("idle read returned %d bytes, want the %d of both segments", len(data), len(want))
	}
}

// While producers are busy, fetched chunks stay in memory and are not
// written to the disk cache; once produce is quiet they are.
func TestBusyReadsSkipDiskCache(t *testing.T) {
	s := buildSegment(t, 0, 0, 60, 1024, varied)
	var busy atomic.Bool
	busy.Store(true)
	fx := newFixture(t, Config{ChunkSize: 8192, ReadAheadChunks: -1, Busy: busy.Load}, s)
	want, err := fx.r.Read(bg(), testTopic, 0, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	fx.waitWritten(t)
	if skips := testutil.ToFloat64(fx.r.m.cacheWriteSkips); skips == 0 {
		t.Fatal("no chunk write skipped while busy")
	}
	if b, n := fx.r.chunks.stats(); n != 0 {
		t.Fatalf("%d chunks (%d bytes) on disk after a busy read, want none", n, b)
	}
	got, err := fx.r.Read(bg(), testTopic, 0, 0, 1<<20) // from memory
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("re-read: %v", err)
	}
	busy.Store(false)
	fx.r.chunks.mem.dropObject(fx.r.Segments(testTopic, 0)[0].Object)
	if _, err := fx.r.Read(bg(), testTopic, 0, 0, 1<<20); err != nil {
		t.Fatal(err)
	}
	fx.waitWritten(t)
	if _, n := fx.r.chunks.stats(); n == 0 {
		t.Fatal("no chunk on disk after a read while produce was quiet")
	}
}
