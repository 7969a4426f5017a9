package partlog

import (
	"errors"
	"testing"
)

func TestTruncateTo(t *testing.T) {
	m := newMemFS()
	cfg := Config{SegmentBytes: 700, IndexIntervalBytes: 100}
	l := openMem(t, m, cfg)
	// 20 batches of 2 records; epoch 1 for offsets 0-19, epoch 2 after; producer 5 throughout.
	for i := 0; i < 20; i++ {
		ep := int32(1)
		if i >= 10 {
			ep = 2
		}
		mustAppend(t, l, makeBatch(batchSpec{records: 2, valueSize: 5, ts: int64(100 + i), pid: 5, epoch: 0, seq: int32(2 * i)}), ep)
	}
	nseg := len(l.segs)
	if nseg < 3 {
		t.Fatalf("%d segments", nseg)
	}
	if _, err := l.TruncateTo(-1); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("below start: %v", err)
	}
	if end, err := l.TruncateTo(100); err != nil || end != 40 {
		t.Fatalf("no-op truncate: %d %v", end, err)
	}
	// Offset 25 is inside batch [24,25]: that batch goes too.
	end, err := l.TruncateTo(25)
	if err != nil || end != 24 || l.LogEndOffset() != 24 {
		t.Fatalf("truncate: %d %v", end, err)
	}
	if len(l.segs) >= nseg {
		t.Fatalf("later segments not dropped: %d", len(l.segs))
	}
	hs := readAll(t, l, 0)
	if len(hs) != 12 || hs[11].LastOffset() != 23 {
		t.Fatalf("%d batches left", len(hs))
	}
	if e, o := l.EndOffsetForEpoch(2); e != 2 || o != 24 {
		t.Fatalf("epoch 2 end: %d %d", e, o)
	}
	if _, mts := l.MaxTimestamp(); mts != 112 {
		t.Fatalf("max timestamp after truncate %d", mts)
	}
	// Producer state follows the truncated log: seq 24 is next, 22 is a duplicate.
	if d, err := l.Append(makeBatch(batchSpec{records: 2, valueSize: 5, ts: 1, pid: 5, epoch: 0, seq: 22}), 2); err != nil || !d.Duplicate || d.BaseOffset != 22 {
		t.Fatalf("duplicate after truncate: %+v %v", d, err)
	}
	r := mustAppend(t, l, makeBatch(batchSpec{records: 2, valueSize: 5, ts: 1, pid: 5, epoch: 0, seq: 24}), 3)
	if r.BaseOffset != 24 {
		t.Fatalf("append after truncate at %d", r.BaseOffset)
	}
	// Truncate to the very start of a segment, then reopen.
	base := l.active().base
	if _, err := l.TruncateTo(base); err != nil {
		t.Fatal(err)
	}
	if l.LogEndOffset() != base || !l.active().empty() {
		t.Fatalf("truncate to segment base: end %d", l.LogEndOffset())
	}
	l.Close()
	l = openMem(t, m, cfg)
	defer l.Close()
	if l.LogEndOffset() != base {
		t.Fatalf("after reopen end %d, want %d", l.LogEndOffset(), base)
	}
	if got := readAll(t, l, 0); len(got) != int(base/2) {
		t.Fatalf("after reopen %d batches", len(got))
	}
}
