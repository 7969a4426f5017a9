package segment_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/strata-io/strata/broker/partlog"
	"github.com/strata-io/strata/tiering/segment"
)

// TestPartlogSegmentsRoundTrip writes real sealed partlog segments (its
// .log, .index and .timeindex files) as objects and checks every offset is
// found through the object's index at a batch holding or preceding it. This
// pins the claim that the index sections use partlog's layouts.
func TestPartlogSegmentsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	l, err := partlog.Open(dir, partlog.Config{SegmentBytes: 8 << 10, IndexIntervalBytes: 512},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		epoch := int32(0)
		if i >= 150 {
			epoch = 2
		}
		if _, err := l.Append(rawBatch(1+i%4, int64(1_000_000+i*10)), epoch); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if len(logs) < 5 {
		t.Fatalf("only %d segments rolled", len(logs))
	}
	sealed := logs[:len(logs)-1]
	for _, path := range sealed {
		stem := strings.TrimSuffix(path, ".log")
		base, _ := strconv.ParseInt(filepath.Base(stem), 10, 64)
		logBytes := mustRead(t, path)
		index, tindex := mustRead(t, stem+".index"), mustRead(t, stem+".timeindex")
		var obj bytes.Buffer
		f, err := segment.Write(&obj, bytes.NewReader(logBytes), int64(len(logBytes)), index, tindex, segment.Meta{BaseOffset: base, LeaderEpoch: 2})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if _, err := segment.VerifyObject(context.Background(), bytes.NewReader(obj.Bytes()), int64(obj.Len())); err != nil {
			t.Fatal(err)
		}
		if len(index) == 0 {
			t.Fatalf("%s: partlog wrote no index entries; test needs some", path)
		}
		// Walk the batches; each offset's Lookup must land on a batch at or
		// before the one holding it.
		var starts []int64
		for pos := int64(0); pos < int64(len(logBytes)); {
			starts = append(starts, pos)
			pos += 12 + int64(binary.BigEndian.Uint32(logBytes[pos+8:]))
		}
		for _, pos := range starts {
			b := logBytes[pos:]
			first := int64(binary.BigEndian.Uint64(b))
			last := first + int64(binary.BigEndian.Uint32(b[23:]))
			for o := first; o <= last; o++ {
				got, err := f.Lookup(index, o)
				if err != nil || got > pos || !containsInt(starts, got) {
					t.Fatalf("%s: Lookup(%d) = %d, %v; batch is at %d", path, o, got, err, pos)
				}
			}
		}
	}
}

func containsInt(s []int64, v int64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawBatch builds an uncompressed magic-v2 batch of n records whose
// timestamps start at ts.
func rawBatch(n int, ts int64) []byte {
	var recs []byte
	for i := range n {
		body := []byte{0}
		body = binary.AppendVarint(body, int64(i)) // timestamp delta
		body = binary.AppendVarint(body, int64(i)) // offset delta
		body = binary.AppendVarint(body, -1)       // null key
		body = binary.AppendVarint(body, 40)
		body = append(body, bytes.Repeat([]byte{'v'}, 40)...)
		body = binary.AppendVarint(body, 0) // headers
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	be := binary.BigEndian
	b := make([]byte, 61, 61+len(recs))
	be.PutUint32(b[8:], uint32(49+len(recs)))
	b[16] = 2
	be.PutUint32(b[23:], uint32(n-1))
	be.PutUint64(b[27:], uint64(ts))
	be.PutUint64(b[35:], uint64(ts+int64(n)-1))
	be.PutUint64(b[43:], ^uint64(0))
	be.PutUint16(b[51:], 0xffff)
	be.PutUint32(b[53:], 0xffffffff)
	be.PutUint32(b[57:], uint32(n))
	b = append(b, recs...)
	be.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}
