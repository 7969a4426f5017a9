package remote

import (
	"sync/atomic"
	"testing"
	"time"
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
