package segment

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// testBatch describes one magic-v2 record batch for buildBatch.
type testBatch struct {
	base      int64
	lastDelta int32
	epoch     int32
	maxTs     int64
	records   int32
	payload   []byte // stands in for the records; never parsed
}

// buildBatch encodes b with a correct length and CRC-32C.
func buildBatch(b testBatch) []byte {
	be := binary.BigEndian
	out := be.AppendUint64(nil, uint64(b.base))
	out = be.AppendUint32(out, uint32(batchHeaderSize-12+len(b.payload)))
	out = be.AppendUint32(out, uint32(b.epoch))
	out = append(out, 2)          // magic
	out = be.AppendUint32(out, 0) // crc, patched below
	out = be.AppendUint16(out, 0) // attributes
	out = be.AppendUint32(out, uint32(b.lastDelta))
	out = be.AppendUint64(out, uint64(b.maxTs-1)) // base timestamp
	out = be.AppendUint64(out, uint64(b.maxTs))
	out = be.AppendUint64(out, ^uint64(0)) // producer id -1
	out = be.AppendUint16(out, 0xffff)     // producer epoch -1
	out = be.AppendUint32(out, 0xffffffff) // base sequence -1
	out = be.AppendUint32(out, uint32(b.records))
	out = append(out, b.payload...)
	be.PutUint32(out[17:], crc32.Checksum(out[21:], castagnoli))
	return out
}

// testSegment is a partition-log segment built the way partlog builds one:
// an offset index entry every indexEvery batches (never at position 0) and a
// time index entry whenever the running max timestamp grows at an indexed
// batch, plus a final one.
type testSegment struct {
	base    int64
	batches []testBatch
	pos     []int64 // position of each batch
	log     []byte
	index   []byte
	tindex  []byte
}

func buildSegment(base int64, batches []testBatch, indexEvery int) testSegment {
	be := binary.BigEndian
	s := testSegment{base: base, batches: batches}
	maxTs, maxTsOff := int64(-1), int64(-1)
	lastTs := int64(-1 << 62)
	addTime := func() {
		if maxTsOff >= 0 && maxTs > lastTs {
			s.tindex = be.AppendUint64(s.tindex, uint64(maxTs))
			s.tindex = be.AppendUint32(s.tindex, uint32(maxTsOff-base))
			lastTs = maxTs
		}
	}
	for i, b := range batches {
		pos := int64(len(s.log))
		s.pos = append(s.pos, pos)
		if i > 0 && i%indexEvery == 0 {
			s.index = be.AppendUint32(s.index, uint32(b.base-base))
			s.index = be.AppendUint32(s.index, uint32(pos))
		}
		if b.maxTs > maxTs {
			maxTs, maxTsOff = b.maxTs, b.base+int64(b.lastDelta)
		}
		if i > 0 && i%indexEvery == 0 {
			addTime()
		}
		s.log = append(s.log, buildBatch(b)...)
	}
	addTime()
	return s
}

// fixedBatches is the deterministic input of the golden file: 12 batches
// over offsets 100..., two leader epochs, timestamps that dip once.
func fixedBatches() []testBatch {
	var out []testBatch
	off := int64(100)
	for i := range 12 {
		n := int32(1 + i%3)
		epoch := int32(3)
		if i >= 7 {
			epoch = 5
		}
		ts := int64(1_700_000_000_000 + 1000*i)
		if i == 4 {
			ts -= 5000
		}
		out = append(out, testBatch{
			base: off, lastDelta: n - 1, epoch: epoch, maxTs: ts, records: n,
			payload: bytes.Repeat([]byte{byte('a' + i)}, 10+7*i),
		})
		off += int64(n)
	}
	return out
}

func writeObject(t testing.TB, s testSegment, epoch int32) ([]byte, Footer) {
	t.Helper()
	var buf bytes.Buffer
	f, err := Write(&buf, bytes.NewReader(s.log), int64(len(s.log)), s.index, s.tindex, Meta{BaseOffset: s.base, LeaderEpoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), f
}

func bg() context.Context { return context.Background() }

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
