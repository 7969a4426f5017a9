package partlog

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestAppendReadAcrossRolls(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{SegmentBytes: 1000, IndexIntervalBytes: 200}
	l := openDisk(t, dir, cfg)
	var want [][]byte
	var off int64
	for i := 0; i < 60; i++ {
		b := makeBatch(plainBatch(1+i%4, int64(1000+i*10)))
		r := mustAppend(t, l, b, 3)
		if r.BaseOffset != off || r.LastOffset != off+int64(1+i%4)-1 || r.Duplicate || r.LogAppendTime != -1 {
			t.Fatalf("append %d: %+v, want base %d", i, r, off)
		}
		off = r.LastOffset + 1
		want = append(want, append([]byte(nil), b...)) // stamped in place
	}
	if l.LogEndOffset() != off {
		t.Fatalf("log end %d, want %d", l.LogEndOffset(), off)
	}
	if n := len(l.segs); n < 5 {
		t.Fatalf("expected several segments, got %d", n)
	}
	check := func(l *Log) {
		t.Helper()
		data, err := l.Read(0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, bytes.Join(want, nil)) {
			t.Fatalf("read back %d bytes, differs from the %d appended", len(data), len(bytes.Join(want, nil)))
		}
		// Every offset is readable and starts with the batch containing it.
		for o := int64(0); o < off; o++ {
			data, err := l.Read(o, 1)
			if err != nil {
				t.Fatalf("read %d: %v", o, err)
			}
			h, err := ValidateBatch(data)
			if err != nil {
				t.Fatalf("read %d: %v", o, err)
			}
			if h.BaseOffset > o || h.LastOffset() < o || h.LeaderEpoch != 3 {
				t.Fatalf("read %d got batch [%d,%d] epoch %d", o, h.BaseOffset, h.LastOffset(), h.LeaderEpoch)
			}
		}
		if data, err := l.Read(off, 100); err != nil || data != nil {
			t.Fatalf("read at log end: %v %v", data, err)
		}
		if _, err := l.Read(off+1, 100); !errors.Is(err, ErrOffsetOutOfRange) {
			t.Fatalf("read past end: %v", err)
		}
	}
	check(l)
	size := l.Size()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(makeBatch(plainBatch(1, 1)), 3); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	l = openDisk(t, dir, cfg)
	defer l.Close()
	if l.LogEndOffset() != off || l.Size() != size {
		t.Fatalf("after reopen end=%d size=%d, want %d %d", l.LogEndOffset(), l.Size(), off, size)
	}
	check(l)
	r := mustAppend(t, l, makeBatch(plainBatch(2, 5000)), 3)
	if r.BaseOffset != off {
		t.Fatalf("append after reopen at %d, want %d", r.BaseOffset, off)
	}
}

func TestReadMaxBytesKIP74(t *testing.T) {
	m := newMemFS()
	l := openMem(t, m, Config{SegmentBytes: 1 << 20})
	small := makeBatch(plainBatch(1, 1)) // all the same size
	sz := len(small)
	for i := 0; i < 10; i++ {
		mustAppend(t, l, makeBatch(plainBatch(1, int64(i))), 0)
	}
	big := makeBatch(batchSpec{records: 5, valueSize: 1000, ts: 50, pid: -1, epoch: -1, seq: -1})
	mustAppend(t, l, big, 0) // offsets 10..14
	mustAppend(t, l, makeBatch(plainBatch(1, 99)), 0)

	for _, tc := range []struct {
		off     int64
		max     int
		wantLen int
		batches int
	}{
		{0, sz*3 + sz/2, sz * 3, 3}, // cut at whole batches
		{0, sz * 3, sz * 3, 3},      // exact fit
		{0, 1, sz, 1},               // first batch always whole
		{2, sz * 2, sz * 2, 2},
		{12, 10, len(big), 1}, // first batch larger than max: whole
		{9, sz + 10, sz, 1},   // big batch does not fit after the first
		{9, sz + len(big), sz + len(big), 2},
		{14, 1 << 20, len(big) + sz, 2}, // offset in the middle of the big batch
	} {
		data, err := l.Read(tc.off, tc.max)
		if err != nil {
			t.Fatalf("read(%d,%d): %v", tc.off, tc.max, err)
		}
		bs, err := SplitBatches(data)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) != tc.wantLen || len(bs) != tc.batches {
			t.Errorf("read(%d,%d) = %d bytes in %d batches, want %d in %d", tc.off, tc.max, len(data), len(bs), tc.wantLen, tc.batches)
		}
		if h, _ := ValidateBatch(bs[0]); h.BaseOffset > tc.off || h.LastOffset() < tc.off {
			t.Errorf("read(%d) starts with batch [%d,%d]", tc.off, h.BaseOffset, h.LastOffset())
		}
	}
}

func TestIndexLookupMidSegment(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{SegmentBytes: 1 << 20, IndexIntervalBytes: 256}
	l := openDisk(t, dir, cfg)
	for i := 0; i < 200; i++ {
		mustAppend(t, l, makeBatch(plainBatch(2, int64(i))), 0)
	}
	s := l.active()
	if len(s.index) < 20 {
		t.Fatalf("expected a sparse index, got %d entries", len(s.index))
	}
	// Offset 201 is in batch [200,201] in the middle of the segment.
	pos := s.lookup(201)
	if pos == 0 {
		t.Fatal("index lookup of a mid-segment offset returned position 0")
	}
	// The indexed position is a batch at or before the target, within one interval.
	found, ok, err := findBatch(segView{s: s, start: pos, limit: s.size}, 201)
	if err != nil || !ok {
		t.Fatalf("findBatch: %v %v", ok, err)
	}
	if found < pos || found-pos > 256+int64(len(makeBatch(plainBatch(2, 0)))) {
		t.Fatalf("index position %d too far from batch at %d", pos, found)
	}
	data, err := l.Read(201, 1)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := ValidateBatch(data)
	if h.BaseOffset != 200 {
		t.Fatalf("read 201 returned batch at %d", h.BaseOffset)
	}
	wantIndex := append([]indexEntry(nil), s.index...)
	wantT := append([]timeEntry(nil), s.tindex...)

	// Force a roll; the sealed segment's index files must load back identically.
	l.SetConfig(Config{SegmentBytes: 1, IndexIntervalBytes: 256})
	mustAppend(t, l, makeBatch(plainBatch(1, 999)), 0)
	l.Close()
	if fi, err := os.Stat(segPath(dir, 0, indexExt)); err != nil || fi.Size() != int64(len(wantIndex)*indexEntrySize) {
		t.Fatalf("index file: %v %v", fi, err)
	}
	l = openDisk(t, dir, cfg)
	defer l.Close()
	got := l.segs[0]
	if len(got.index) != len(wantIndex) || got.index[len(wantIndex)-1] != wantIndex[len(wantIndex)-1] {
		t.Fatalf("reloaded index differs: %d vs %d entries", len(got.index), len(wantIndex))
	}
	if len(got.tindex) < len(wantT) || got.maxTs != 200 || got.maxTsOffset != 399 || got.next != 400 {
		t.Fatalf("reloaded time state: %d entries, maxTs %d@%d, next %d", len(got.tindex), got.maxTs, got.maxTsOffset, got.next)
	}
}

func TestIdempotence(t *testing.T) {
	m := newMemFS()
	l := openMem(t, m, Config{})
	p := func(epoch int16, seq int32, n int) []byte {
		return makeBatch(batchSpec{records: n, valueSize: 3, ts: 10, pid: 42, epoch: epoch, seq: seq})
	}
	if _, err := l.Append(p(0, 3, 1), 0); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("unknown producer at seq 3: %v", err)
	}
	r0 := mustAppend(t, l, p(0, 0, 2), 0) // seq 0-1, offsets 0-1
	r1 := mustAppend(t, l, p(0, 2, 3), 0) // seq 2-4, offsets 2-4
	end := l.LogEndOffset()

	d, err := l.Append(p(0, 0, 2), 0)
	if err != nil || !d.Duplicate || d.BaseOffset != r0.BaseOffset || d.LastOffset != r0.LastOffset {
		t.Fatalf("duplicate of first batch: %+v %v", d, err)
	}
	d, err = l.Append(p(0, 2, 3), 0)
	if err != nil || !d.Duplicate || d.BaseOffset != r1.BaseOffset {
		t.Fatalf("duplicate of second batch: %+v %v", d, err)
	}
	if _, err := l.Append(p(0, 6, 1), 0); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("gap: %v", err)
	}
	if _, err := l.Append(p(0, 1, 1), 0); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("overlapping non-duplicate: %v", err)
	}
	if l.LogEndOffset() != end {
		t.Fatalf("rejected batches were appended: end %d want %d", l.LogEndOffset(), end)
	}
	if _, err := l.Append(p(1, 5, 1), 0); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("new epoch not at 0: %v", err)
	}
	mustAppend(t, l, p(1, 0, 1), 0)
	if _, err := l.Append(p(0, 5, 1), 0); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("old epoch: %v", err)
	}
	// Only the last five batches are remembered.
	for i := int32(1); i <= 6; i++ {
		mustAppend(t, l, p(1, i, 1), 0)
	}
	if d, err := l.Append(p(1, 1, 1), 0); !errors.Is(err, ErrOutOfOrderSequence) || d.Duplicate {
		t.Fatalf("batch older than the last five still detected as duplicate: %+v %v", d, err)
	}
	if d, err := l.Append(p(1, 2, 1), 0); err != nil || !d.Duplicate {
		t.Fatalf("fifth-newest batch not a duplicate: %+v %v", d, err)
	}
	// Sequence wraps around at MaxInt32.
	wrapA := makeBatch(batchSpec{records: 1, valueSize: 1, ts: 1, pid: 43, epoch: 0, seq: 0})
	mustAppend(t, l, wrapA, 0)
	l.mu.Lock()
	l.producers[43].batches[0].lastSeq = 2147483646
	l.mu.Unlock()
	mustAppend(t, l, makeBatch(batchSpec{records: 3, valueSize: 1, ts: 1, pid: 43, epoch: 0, seq: 2147483647}), 0)
	mustAppend(t, l, makeBatch(batchSpec{records: 1, valueSize: 1, ts: 1, pid: 43, epoch: 0, seq: 2}), 0)

	prods := l.Producers()
	if len(prods) != 2 || prods[0].ProducerID != 42 || prods[0].ProducerEpoch != 1 || prods[0].LastSequence != 6 ||
		prods[1].LastSequence != 2 || prods[0].LastTimestamp != 10 {
		t.Fatalf("producers: %+v", prods)
	}
	// Non-idempotent batches are never checked.
	mustAppend(t, l, makeBatch(plainBatch(1, 1)), 0)
	mustAppend(t, l, makeBatch(plainBatch(1, 1)), 0)

	// Producer state is rebuilt from the log on reopen.
	l.Close()
	l = openMem(t, m, Config{})
	defer l.Close()
	if d, err := l.Append(p(1, 6, 1), 0); err != nil || !d.Duplicate {
		t.Fatalf("duplicate after reopen: %+v %v", d, err)
	}
	if _, err := l.Append(p(1, 9, 1), 0); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("gap after reopen: %v", err)
	}
	if _, err := l.Append(p(0, 0, 1), 0); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("old epoch after reopen: %v", err)
	}
	mustAppend(t, l, p(1, 7, 1), 0)
}

func TestConcurrentAppendRead(t *testing.T) {
	l := openDisk(t, t.TempDir(), Config{SegmentBytes: 4096, IndexIntervalBytes: 128})
	defer l.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				start, end := l.LogStartOffset(), l.LogEndOffset()
				for off := start; off < end; off += 7 {
					data, err := l.Read(off, 2000)
					if errors.Is(err, ErrOffsetOutOfRange) && off < l.LogStartOffset() {
						break // retention moved the start meanwhile
					}
					if err != nil {
						t.Errorf("read %d: %v", off, err)
						return
					}
					bs, err := SplitBatches(data)
					if err != nil || len(bs) == 0 {
						t.Errorf("read %d: %d batches, %v", off, len(bs), err)
						return
					}
					if h, err := ValidateBatch(bs[0]); err != nil || h.BaseOffset > off || h.LastOffset() < off {
						t.Errorf("read %d: first batch [%d,%d] %v", off, h.BaseOffset, h.LastOffset(), err)
						return
					}
				}
			}
		}()
	}
	for i := 0; i < 500; i++ {
		mustAppend(t, l, makeBatch(plainBatch(1+i%3, int64(i))), 0)
		if i%100 == 99 {
			if _, err := l.ApplyRetention(time.Now()); err != nil {
				t.Error(err)
			}
		}
	}
	close(stop)
	wg.Wait()
	// Timestamps are ancient, so retention (7 days) dropped all sealed segments.
	got := readAll(t, l, l.LogStartOffset())
	if len(got) == 0 || got[0].BaseOffset != l.LogStartOffset() || got[0].BaseOffset != l.segs[0].base || len(l.segs) != 1 {
		t.Fatalf("after retention: %d batches from %d, %d segments", len(got), l.LogStartOffset(), len(l.segs))
	}
}

func TestRemove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "topic", "0")
	l := openDisk(t, dir, Config{})
	mustAppend(t, l, makeBatch(plainBatch(1, 1)), 0)
	if err := l.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("dir still there: %v", err)
	}
}
