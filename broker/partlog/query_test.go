package partlog

import (
	"testing"
)

func TestOffsetForTimestamp(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{SegmentBytes: 600, IndexIntervalBytes: 100, RetentionMs: -1}
	l := openDisk(t, dir, cfg)
	// Batch i holds offsets [2i, 2i+1] with timestamps 1000+10i, 1000+10i+1,
	// except batch 7 which is out of order (timestamp 500).
	ts := func(i int) int64 {
		if i == 7 {
			return 500
		}
		return int64(1000 + 10*i)
	}
	for i := 0; i < 30; i++ {
		mustAppend(t, l, makeBatch(plainBatch(2, ts(i))), 0)
	}
	if len(l.segs) < 3 {
		t.Fatalf("%d segments", len(l.segs))
	}
	check := func(l *Log) {
		t.Helper()
		for _, tc := range []struct {
			ts, off, gotTs int64
			ok             bool
		}{
			{0, 0, 1001, true},
			{1001, 0, 1001, true},
			{1002, 2, 1011, true},
			{1055, 12, 1061, true}, // batch 6 max 1061
			{1062, 16, 1081, true}, // batch 7 (501) is skipped
			{1200, 40, 1201, true},
			{1291, 58, 1291, true}, // the last batch
			{1292, 0, 0, false},
		} {
			off, gotTs, ok, err := l.OffsetForTimestamp(tc.ts)
			if err != nil || ok != tc.ok || (ok && (off != tc.off || gotTs != tc.gotTs)) {
				t.Errorf("OffsetForTimestamp(%d) = %d, %d, %v, %v; want %d, %d, %v", tc.ts, off, gotTs, ok, err, tc.off, tc.gotTs, tc.ok)
			}
		}
		if off, mts := l.MaxTimestamp(); off != 59 || mts != 1291 {
			t.Errorf("MaxTimestamp = %d, %d", off, mts)
		}
	}
	check(l)
	l.Close()
	l = openDisk(t, dir, cfg)
	defer l.Close()
	check(l) // from the reloaded time indexes
	// Below the log start the answer is clamped to the log start.
	if _, err := l.DeleteRecords(3); err != nil {
		t.Fatal(err)
	}
	if off, _, ok, _ := l.OffsetForTimestamp(0); !ok || off != 3 {
		t.Fatalf("after DeleteRecords: %d %v", off, ok)
	}
}

func TestEndOffsetForEpoch(t *testing.T) {
	m := newMemFS()
	l := openMem(t, m, Config{SegmentBytes: 500})
	if e, o := l.EndOffsetForEpoch(0); e != -1 || o != -1 {
		t.Fatalf("empty: %d %d", e, o)
	}
	// epoch 1: offsets 0-3, epoch 3: 4-9, epoch 4: 10-11.
	for i, ep := range []int32{1, 1, 3, 3, 3, 4} {
		r := mustAppend(t, l, makeBatch(plainBatch(2, int64(i))), ep)
		if r.BaseOffset != int64(2*i) {
			t.Fatal(r)
		}
	}
	check := func(l *Log) {
		t.Helper()
		for _, tc := range []struct {
			req   int32
			epoch int32
			end   int64
		}{
			{0, 0, 0}, // older than anything: requested epoch ends where the first starts
			{1, 1, 4},
			{2, 1, 4},
			{3, 3, 10},
			{4, 4, 12},
			{9, -1, -1}, // newer than any known epoch: UNDEFINED, as Kafka
			{-1, -1, -1},
		} {
			if e, o := l.EndOffsetForEpoch(tc.req); e != tc.epoch || o != tc.end {
				t.Errorf("EndOffsetForEpoch(%d) = %d, %d; want %d, %d", tc.req, e, o, tc.epoch, tc.end)
			}
		}
	}
	check(l)
	l.Close()
	l = openMem(t, m, Config{SegmentBytes: 500})
	check(l)
	if string(m.fileBytes("/data/p0/"+epochCheckpointName)) != "0\n3\n1 0\n3 4\n4 10\n" {
		t.Fatalf("checkpoint: %q", m.fileBytes("/data/p0/"+epochCheckpointName))
	}
	// Rebuilt from the batches if the checkpoint is lost.
	l.Close()
	m.Remove("/data/p0/" + epochCheckpointName)
	l = openMem(t, m, Config{SegmentBytes: 500})
	check(l)
	// Log start moving past epoch 1 trims the cache (Kafka: truncateFromStart).
	if _, err := l.DeleteRecords(6); err != nil {
		t.Fatal(err)
	}
	if e, o := l.EndOffsetForEpoch(1); e != 1 || o != 6 {
		t.Fatalf("after trim: %d %d", e, o)
	}
	if e, o := l.EndOffsetForEpoch(3); e != 3 || o != 10 {
		t.Fatalf("after trim epoch 3: %d %d", e, o)
	}
	l.Close()
}
