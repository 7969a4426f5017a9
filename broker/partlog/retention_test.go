package partlog

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestRetentionByBytes(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UnixMilli()
	b := makeBatch(plainBatch(1, now))
	n := int64(len(b))
	// 4 batches per segment.
	l := openDisk(t, dir, Config{SegmentBytes: 4 * n, RetentionBytes: -1, RetentionMs: -1})
	defer l.Close()
	for i := 0; i < 22; i++ { // 5 full segments + active with 2
		mustAppend(t, l, makeBatch(plainBatch(1, now)), 0)
	}
	if len(l.segs) != 6 {
		t.Fatalf("%d segments", len(l.segs))
	}
	if d, err := l.ApplyRetention(time.Now()); err != nil || d != 0 {
		t.Fatalf("unlimited retention deleted %d: %v", d, err)
	}
	// Limit 10 batches: total 22 -> delete oldest while the rest stays >= limit.
	l.SetConfig(Config{SegmentBytes: 4 * n, RetentionBytes: 10 * n, RetentionMs: -1})
	d, err := l.ApplyRetention(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d != 12*n || l.Size() != 10*n || l.LogStartOffset() != 12 || len(l.segs) != 3 {
		t.Fatalf("deleted %d bytes, size %d, start %d, %d segments", d, l.Size(), l.LogStartOffset(), len(l.segs))
	}
	if _, err := os.Stat(segPath(dir, 0, logExt)); !os.IsNotExist(err) {
		t.Fatalf("old segment file still there: %v", err)
	}
	if _, err := l.Read(11, 100); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}
	if hs := readAll(t, l, 12); len(hs) != 10 {
		t.Fatalf("%d batches left", len(hs))
	}
	// Never the active segment, even with a tiny limit (0 means "default", i.e. unlimited).
	l.SetConfig(Config{SegmentBytes: 4 * n, RetentionBytes: 1, RetentionMs: -1})
	if _, err := l.ApplyRetention(time.Now()); err != nil {
		t.Fatal(err)
	}
	if len(l.segs) != 1 || l.LogStartOffset() != 20 || l.Size() != 2*n {
		t.Fatalf("after zero limit: %d segments, start %d", len(l.segs), l.LogStartOffset())
	}
}

func TestRetentionByTimeAndSegmentMs(t *testing.T) {
	m := newMemFS()
	clock := &fakeClock{t: time.UnixMilli(1_000_000_000)}
	cfg := Config{SegmentMs: 60_000, RetentionMs: 3_600_000, RetentionBytes: -1}
	l, err := openFS(m, "/data/p0", cfg, testLogger(t), clock.now)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Three segments rolled by segment.ms, timestamps one hour apart.
	for seg := 0; seg < 3; seg++ {
		ts := clock.t.UnixMilli()
		for i := 0; i < 3; i++ {
			mustAppend(t, l, makeBatch(plainBatch(1, ts)), 0)
		}
		clock.t = clock.t.Add(time.Hour)
	}
	if len(l.segs) != 3 {
		t.Fatalf("segment.ms did not roll: %d segments", len(l.segs))
	}
	// ApplyRetention rolls the active segment (older than segment.ms) then
	// deletes what is older than an hour: the first two segments.
	d, err := l.ApplyRetention(clock.t)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.segs) != 2 || l.LogStartOffset() != 6 || d == 0 {
		t.Fatalf("after time retention: %d segments, start %d, deleted %d", len(l.segs), l.LogStartOffset(), d)
	}
	if !l.active().empty() {
		t.Fatal("active segment not rolled by ApplyRetention")
	}
	// Two hours later everything sealed is expired; the empty active stays.
	d, err = l.ApplyRetention(clock.t.Add(2 * time.Hour))
	if err != nil || len(l.segs) != 1 || l.LogStartOffset() != 9 || l.LogEndOffset() != 9 {
		t.Fatalf("second pass: %d segments, start %d, %v", len(l.segs), l.LogStartOffset(), err)
	}
}

func TestDeleteRecordsPersists(t *testing.T) {
	dir := t.TempDir()
	b := makeBatch(plainBatch(2, 1))
	cfg := Config{SegmentBytes: 3 * int64(len(b)), RetentionMs: -1}
	l := openDisk(t, dir, cfg)
	for i := 0; i < 10; i++ { // offsets 0..19, 3 batches (6 offsets) per segment
		mustAppend(t, l, makeBatch(plainBatch(2, 1)), 0)
	}
	if _, err := l.DeleteRecords(21); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("past end: %v", err)
	}
	start, err := l.DeleteRecords(7) // inside the second segment
	if err != nil || start != 7 {
		t.Fatalf("delete records: %d %v", start, err)
	}
	if l.segs[0].base != 6 {
		t.Fatalf("first segment %d, want 6", l.segs[0].base)
	}
	data, err := l.Read(7, 1)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := ValidateBatch(data); h.BaseOffset != 6 {
		t.Fatalf("read 7 got batch %d", h.BaseOffset)
	}
	if _, err := l.Read(5, 1); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}
	if s, _ := l.DeleteRecords(3); s != 7 {
		t.Fatalf("moving backwards changed start to %d", s)
	}
	l.Close()

	l = openDisk(t, dir, cfg)
	if l.LogStartOffset() != 7 || l.LogEndOffset() != 20 {
		t.Fatalf("after restart: start %d end %d", l.LogStartOffset(), l.LogEndOffset())
	}
	// -1 means the high watermark: everything goes, appends continue.
	start, err = l.DeleteRecords(-1)
	if err != nil || start != 20 || l.Size() != 0 {
		t.Fatalf("delete all: %d %v size %d", start, err, l.Size())
	}
	if data, err := l.Read(20, 100); data != nil || err != nil {
		t.Fatalf("read at end after delete all: %v %v", data, err)
	}
	r := mustAppend(t, l, makeBatch(plainBatch(1, 1)), 0)
	if r.BaseOffset != 20 {
		t.Fatalf("append after delete all at %d", r.BaseOffset)
	}
	l.Close()
	l = openDisk(t, dir, cfg)
	defer l.Close()
	if l.LogStartOffset() != 20 || l.LogEndOffset() != 21 {
		t.Fatalf("after second restart: start %d end %d", l.LogStartOffset(), l.LogEndOffset())
	}
}
