package partlog

import (
	"context"
	"errors"
	"os"
	"testing"
)

// TestRecoverTornTail damages the end of the active segment in several ways
// and checks that reopening keeps every intact batch and cuts the rest.
func TestRecoverTornTail(t *testing.T) {
	good := func() []byte { return makeBatch(plainBatch(3, 100)) }
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string, batchLen int)
		keep   int // batches expected to survive of the 10 written
	}{
		{"garbage", func(t *testing.T, path string, _ int) {
			appendFile(t, path, []byte("this is not a record batch at all, just trailing junk bytes......"))
		}, 10},
		{"zeros", func(t *testing.T, path string, _ int) { appendFile(t, path, make([]byte, 4096)) }, 10},
		{"short header", func(t *testing.T, path string, _ int) { appendFile(t, path, good()[:30]) }, 10},
		{"truncated batch", func(t *testing.T, path string, n int) { truncFile(t, path, int64(10*n-7)) }, 9},
		{"flipped crc byte in last", func(t *testing.T, path string, n int) { flipByte(t, path, int64(9*n+offCRC)) }, 9},
		{"flipped record byte in 6th", func(t *testing.T, path string, n int) { flipByte(t, path, int64(5*n+n-2)) }, 5},
		{"bad length in 8th", func(t *testing.T, path string, n int) { flipByte(t, path, int64(7*n+offBatchLength)) }, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{IndexIntervalBytes: 100}
			l := openDisk(t, dir, cfg)
			n := len(good())
			for i := 0; i < 10; i++ {
				mustAppend(t, l, good(), 1)
			}
			l.Close()
			path := segPath(dir, 0, logExt)
			tc.damage(t, path, n)

			l = openDisk(t, dir, cfg)
			defer l.Close()
			if got, want := l.LogEndOffset(), int64(3*tc.keep); got != want {
				t.Fatalf("log end %d, want %d", got, want)
			}
			if fi, _ := os.Stat(path); fi.Size() != int64(tc.keep*n) {
				t.Fatalf("file is %d bytes, want truncated to %d", fi.Size(), tc.keep*n)
			}
			if hs := readAll(t, l, 0); len(hs) != tc.keep {
				t.Fatalf("read %d batches, want %d", len(hs), tc.keep)
			}
			// Appends continue at the truncation point.
			r := mustAppend(t, l, good(), 1)
			if r.BaseOffset != int64(3*tc.keep) {
				t.Fatalf("next append at %d", r.BaseOffset)
			}
		})
	}
}

func TestRecoverSealedSegmentIndexes(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{SegmentBytes: 2000, IndexIntervalBytes: 100}
	l := openDisk(t, dir, cfg)
	for i := 0; i < 50; i++ {
		mustAppend(t, l, makeBatch(plainBatch(2, int64(i))), 0)
	}
	want := readAll(t, l, 0)
	bases := []int64{}
	for _, s := range l.segs {
		bases = append(bases, s.base)
	}
	l.Close()
	// Corrupt one index, delete another's time index, truncate a third.
	os.WriteFile(segPath(dir, bases[0], indexExt), []byte{0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2}, 0o644)
	os.Remove(segPath(dir, bases[1], timeIndexExt))
	truncFile(t, segPath(dir, bases[2], indexExt), 5)

	l = openDisk(t, dir, cfg)
	defer l.Close()
	got := readAll(t, l, 0)
	if len(got) != len(want) || l.LogEndOffset() != 100 {
		t.Fatalf("after index rebuild: %d batches, end %d", len(got), l.LogEndOffset())
	}
	for i, s := range l.segs[:len(l.segs)-1] {
		if len(s.index) == 0 || s.maxTs < 0 || s.next != l.segs[i+1].base {
			t.Fatalf("segment %d not rebuilt: %d index entries, maxTs %d, next %d", s.base, len(s.index), s.maxTs, s.next)
		}
	}
	if fi, err := os.Stat(segPath(dir, bases[1], timeIndexExt)); err != nil || fi.Size() == 0 {
		t.Fatalf("rebuilt time index not written: %v", err)
	}
}

func TestRecoverTornSealedSegmentDropsLater(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{SegmentBytes: 1000, IndexIntervalBytes: 1 << 20}
	l := openDisk(t, dir, cfg)
	n := len(makeBatch(plainBatch(1, 0)))
	for i := 0; i < 30; i++ {
		mustAppend(t, l, makeBatch(plainBatch(1, 0)), 0)
	}
	if len(l.segs) < 3 {
		t.Fatalf("want >= 3 segments, got %d", len(l.segs))
	}
	second := l.segs[1]
	l.Close()
	// Flip a byte in the last batch of the second segment (past its last index entry).
	flipByte(t, segPath(dir, second.base, logExt), second.size-int64(n)/2)
	l = openDisk(t, dir, cfg)
	defer l.Close()
	if len(l.segs) != 2 || l.LogEndOffset() != second.next-1 {
		t.Fatalf("got %d segments, end %d; want 2, %d", len(l.segs), l.LogEndOffset(), second.next-1)
	}
	if _, err := os.Stat(segPath(dir, second.next, logExt)); !os.IsNotExist(err) {
		t.Fatalf("later segment not removed: %v", err)
	}
}

// TestCrashKeepsSyncedBatches uses the crash-simulating filesystem: batches
// acknowledged by WaitDurable survive power loss, the unsynced tail is lost
// or cut at a clean batch boundary.
func TestCrashKeepsSyncedBatches(t *testing.T) {
	for _, torn := range []int{0, 1, 100, 5000} {
		m := newMemFS()
		cfg := Config{SegmentBytes: 3000, IndexIntervalBytes: 200}
		l := openMem(t, m, cfg)
		var acked int64
		for i := 0; i < 40; i++ {
			r := mustAppend(t, l, makeBatch(plainBatch(1+i%3, int64(i))), 2)
			if i%7 == 0 {
				if err := l.WaitDurable(context.Background(), r.LastOffset); err != nil {
					t.Fatal(err)
				}
				acked = r.LastOffset + 1
			}
		}
		end := l.LogEndOffset()
		crashed := m.crash(torn)
		l2 := openMem(t, crashed, cfg)
		got := l2.LogEndOffset()
		if got < acked || got > end {
			t.Fatalf("torn=%d: recovered end %d, acked %d, appended %d", torn, got, acked, end)
		}
		hs := readAll(t, l2, 0)
		if len(hs) == 0 || hs[len(hs)-1].LastOffset()+1 != got {
			t.Fatalf("torn=%d: batches do not reach the log end", torn)
		}
		for i, h := range hs {
			if h.LeaderEpoch != 2 || (i > 0 && h.BaseOffset != hs[i-1].LastOffset()+1) {
				t.Fatalf("torn=%d: batch %d bad: %+v", torn, i, h)
			}
		}
		if e, o := l2.EndOffsetForEpoch(2); e != 2 || o != got {
			t.Fatalf("torn=%d: epoch cache after crash: %d %d", torn, e, o)
		}
		// The recovered log is fully usable.
		r := mustAppend(t, l2, makeBatch(plainBatch(1, 1)), 2)
		if r.BaseOffset != got {
			t.Fatalf("append after crash at %d, want %d", r.BaseOffset, got)
		}
		l2.Close()
		l.Close()
	}
}

func TestStickyWriteError(t *testing.T) {
	m := newMemFS()
	l := openMem(t, m, Config{})
	defer l.Close()
	mustAppend(t, l, makeBatch(plainBatch(1, 1)), 0)
	boom := errors.New("disk on fire")
	m.failWrite = boom
	if _, err := l.Append(makeBatch(plainBatch(1, 1)), 0); !errors.Is(err, boom) {
		t.Fatalf("failed write: %v", err)
	}
	// The file system works again, but the log stays failed.
	if _, err := l.Append(makeBatch(plainBatch(1, 1)), 0); !errors.Is(err, boom) {
		t.Fatalf("append after failure not sticky: %v", err)
	}
	if l.LogEndOffset() != 1 {
		t.Fatalf("log end moved to %d", l.LogEndOffset())
	}
	if data := m.fileBytes(segPath("/data/p0", 0, logExt)); len(data) != len(makeBatch(plainBatch(1, 1))) {
		t.Fatalf("partial write left %d bytes", len(data))
	}
	if err := l.WaitDurable(context.Background(), 0); !errors.Is(err, boom) {
		t.Fatalf("WaitDurable after write failure: %v", err)
	}
}

func TestStickySyncError(t *testing.T) {
	m := newMemFS()
	l := openMem(t, m, Config{})
	defer l.Close()
	r := mustAppend(t, l, makeBatch(plainBatch(1, 1)), 0)
	boom := errors.New("fsync EIO")
	m.failSync = boom
	if err := l.WaitDurable(context.Background(), r.LastOffset); !errors.Is(err, boom) {
		t.Fatalf("WaitDurable: %v", err)
	}
	if err := l.WaitDurable(context.Background(), r.LastOffset); !errors.Is(err, boom) {
		t.Fatalf("second WaitDurable: %v", err)
	}
	if _, err := l.Append(makeBatch(plainBatch(1, 1)), 0); !errors.Is(err, boom) {
		t.Fatalf("append after fsync failure: %v", err)
	}
}

func appendFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func truncFile(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, at int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}
