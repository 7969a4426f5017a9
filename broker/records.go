package broker

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Record-level work is kept off the produce and fetch paths; only
// ListOffsets by timestamp decodes records, one batch at a time.

var decompressor = kgo.DefaultDecompressor()

// eachRecord calls fn with the offset and timestamp of every record of the
// single stored batch b, decompressing it if needed, until fn returns false.
func eachRecord(b []byte, fn func(offset, timestamp int64) bool) error {
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(b); err != nil {
		return fmt.Errorf("decode batch: %w", err)
	}
	recs := rb.Records
	if codec := rb.Attributes & 0x07; codec != 0 {
		var err error
		if recs, err = decompressor.Decompress(recs, kgo.CompressionCodecType(codec)); err != nil {
			return fmt.Errorf("decompress batch: %w", err)
		}
	}
	for i := int32(0); i < rb.NumRecords && len(recs) > 0; i++ {
		l, n := binary.Varint(recs)
		if n <= 0 || l < 0 || int64(len(recs)-n) < l {
			return errors.New("decode batch: bad record length")
		}
		var r kmsg.Record
		if err := r.ReadFrom(recs[:n+int(l)]); err != nil {
			return fmt.Errorf("decode record: %w", err)
		}
		recs = recs[n+int(l):]
		if !fn(rb.FirstOffset+int64(r.OffsetDelta), rb.FirstTimestamp+r.TimestampDelta64) {
			return nil
		}
	}
	return nil
}

// firstBatch trims b to its first record batch.
func firstBatch(b []byte) []byte {
	if len(b) < 12 {
		return b
	}
	n := 12 + int(int32(binary.BigEndian.Uint32(b[8:])))
	if n > 12 && n <= len(b) {
		return b[:n]
	}
	return b
}

// batchNextOffset is the offset after the batch's last record.
func batchNextOffset(b []byte) int64 {
	return int64(binary.BigEndian.Uint64(b)) + int64(int32(binary.BigEndian.Uint32(b[23:]))) + 1
}

// countRecords sums the record counts of whole stored batches in b from
// their headers.
func countRecords(b []byte) int64 {
	var n int64
	for len(b) >= 61 {
		size := 12 + int(int32(binary.BigEndian.Uint32(b[8:])))
		if size < 61 || size > len(b) {
			break
		}
		n += int64(int32(binary.BigEndian.Uint32(b[57:])))
		b = b[size:]
	}
	return n
}
