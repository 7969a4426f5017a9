package partlog

import (
	"encoding/binary"
	"hash/crc32"
	"log/slog"
	"testing"
	"time"
)

type batchSpec struct {
	records   int
	valueSize int
	ts        int64 // base timestamp; records get ts, ts+1, ...
	pid       int64 // -1 for none
	epoch     int16
	seq       int32
	attrs     int16
}

func plainBatch(records int, ts int64) batchSpec {
	return batchSpec{records: records, valueSize: 10, ts: ts, pid: -1, epoch: -1, seq: -1}
}

// makeBatch builds a valid magic-v2 record batch with uncompressed records.
func makeBatch(s batchSpec) []byte {
	var recs []byte
	for i := 0; i < s.records; i++ {
		var body []byte
		body = append(body, 0)                     // attributes
		body = binary.AppendVarint(body, int64(i)) // timestamp delta
		body = binary.AppendVarint(body, int64(i)) // offset delta
		body = binary.AppendVarint(body, -1)       // null key
		body = binary.AppendVarint(body, int64(s.valueSize))
		for j := 0; j < s.valueSize; j++ {
			body = append(body, byte('a'+(i+j)%26))
		}
		body = binary.AppendVarint(body, 0) // headers
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	b := make([]byte, BatchHeaderSize, BatchHeaderSize+len(recs))
	be := binary.BigEndian
	be.PutUint64(b[offBaseOffset:], 0)
	be.PutUint32(b[offBatchLength:], uint32(BatchHeaderSize-batchLogOverhead+len(recs)))
	be.PutUint32(b[offLeaderEpoch:], 0xffffffff)
	b[offMagic] = 2
	be.PutUint16(b[offAttributes:], uint16(s.attrs))
	be.PutUint32(b[offLastOffsetDelta:], uint32(s.records-1))
	be.PutUint64(b[offBaseTimestamp:], uint64(s.ts))
	be.PutUint64(b[offMaxTimestamp:], uint64(s.ts+int64(s.records)-1))
	be.PutUint64(b[offProducerID:], uint64(s.pid))
	be.PutUint16(b[offProducerEpoch:], uint16(s.epoch))
	be.PutUint32(b[offBaseSequence:], uint32(s.seq))
	be.PutUint32(b[offRecordCount:], uint32(s.records))
	b = append(b, recs...)
	be.PutUint32(b[offCRC:], crc32.Checksum(b[offAttributes:], castagnoli))
	return b
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// fakeClock is a settable clock for segment.ms tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func openMem(t testing.TB, m *memFS, cfg Config) *Log {
	t.Helper()
	l, err := openFS(m, "/data/p0", cfg, testLogger(t), time.Now)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return l
}

func openDisk(t testing.TB, dir string, cfg Config) *Log {
	t.Helper()
	l, err := Open(dir, cfg, testLogger(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return l
}

func mustAppend(t testing.TB, l *Log, b []byte, epoch int32) AppendResult {
	t.Helper()
	r, err := l.Append(b, epoch)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return r
}

// readAll reads batches from offset to the log end and returns their headers.
func readAll(t testing.TB, l *Log, from int64) []BatchHeader {
	t.Helper()
	var out []BatchHeader
	for off := from; off < l.LogEndOffset(); {
		data, err := l.Read(off, 1<<20)
		if err != nil {
			t.Fatalf("read %d: %v", off, err)
		}
		bs, err := SplitBatches(data)
		if err != nil {
			t.Fatalf("split at %d: %v", off, err)
		}
		if len(bs) == 0 {
			t.Fatalf("read %d returned nothing", off)
		}
		for _, b := range bs {
			h, err := ValidateBatch(b)
			if err != nil {
				t.Fatalf("stored batch invalid: %v", err)
			}
			out = append(out, h)
			off = h.LastOffset() + 1
		}
	}
	return out
}
