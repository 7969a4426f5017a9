package partlog

import (
	"context"
	"testing"
)

func bigBatch() []byte {
	return makeBatch(batchSpec{records: 64, valueSize: 1000, ts: 1, pid: -1, epoch: -1, seq: -1}) // ~65 KiB
}

// BenchmarkAppend measures appending 64 KiB batches to a log on disk
// (page cache; no fsync).
func BenchmarkAppend(b *testing.B) {
	l := openDisk(b, b.TempDir(), Config{SegmentBytes: 256 << 20})
	defer l.Close()
	batch := bigBatch()
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Append(batch, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendDurable appends and waits for the fsync of each batch from
// several goroutines, so group commit shares fsyncs between them.
func BenchmarkAppendDurable(b *testing.B) {
	l := openDisk(b, b.TempDir(), Config{SegmentBytes: 256 << 20})
	defer l.Close()
	b.SetBytes(int64(len(bigBatch())))
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		batch := bigBatch()
		for pb.Next() {
			r, err := l.Append(batch, 0)
			if err != nil {
				b.Error(err)
				return
			}
			if err := l.WaitDurable(context.Background(), r.LastOffset); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(l.FsyncCount())/float64(b.N), "fsyncs/op")
}

// BenchmarkRead reads 1 MiB at a time from a log of 64 KiB batches.
func BenchmarkRead(b *testing.B) {
	l := openDisk(b, b.TempDir(), Config{SegmentBytes: 16 << 20, IndexIntervalBytes: 4096})
	defer l.Close()
	batch := bigBatch()
	for i := 0; i < 400; i++ {
		if _, err := l.Append(batch, 0); err != nil {
			b.Fatal(err)
		}
	}
	end := l.LogEndOffset()
	b.SetBytes(1 << 20)
	b.ResetTimer()
	off := int64(0)
	for i := 0; i < b.N; i++ {
		data, err := l.Read(off, 1<<20)
		if err != nil || len(data) == 0 {
			b.Fatal(err)
		}
		off = (off + 1000) % end
	}
}

func TestAppendAllocs(t *testing.T) {
	l := openDisk(t, t.TempDir(), Config{SegmentBytes: 1 << 30, IndexIntervalBytes: 1 << 30})
	defer l.Close()
	batch := bigBatch()
	mustAppend(t, l, batch, 0)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := l.Append(batch, 0); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Fatalf("Append allocates %.1f times per call", allocs)
	}
}
