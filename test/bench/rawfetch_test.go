package main

import (
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// testBatch is a v2 batch of n empty records at base, CRC set.
func testBatch(base int64, n int32) []byte {
	b := kmsg.RecordBatch{FirstOffset: base, Magic: 2, LastOffsetDelta: n - 1, NumRecords: n,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, Records: make([]byte, n)}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:12], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:21], crc32.Checksum(raw[21:], castagnoli))
	return raw
}

func TestWalkBatches(t *testing.T) {
	a, b, c := testBatch(0, 3), testBatch(3, 2), testBatch(5, 4)
	stream := append(append(append([]byte(nil), a...), b...), c[:len(c)-1]...) // c cut short
	after, n, recs, err := walkBatches(stream, 0)
	if err != nil || after != 5 || recs != 5 || n != int64(len(a)+len(b)) {
		t.Fatalf("walk = (%d, %d, %d, %v), want (5, %d, 5, nil)", after, n, recs, err, len(a)+len(b))
	}
	// Starting mid-batch skips the records below the asked offset.
	if after, _, recs, err := walkBatches(stream, 1); err != nil || after != 5 || recs != 4 {
		t.Fatalf("walk from 1 = (%d, %d, %v), want (5, 4, nil)", after, recs, err)
	}
	if _, _, _, err := walkBatches(b, 0); err == nil || !strings.Contains(err.Error(), "gap") {
		t.Fatalf("walk with a gap: err %v, want a gap", err)
	}
	bad := append([]byte(nil), a...)
	bad[len(bad)-1] ^= 1
	if _, _, _, err := walkBatches(bad, 0); err == nil || !strings.Contains(err.Error(), "CRC") {
		t.Fatalf("walk of a flipped byte: err %v, want a CRC mismatch", err)
	}
}
