package broker

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/broker/partlog"
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

// eachBatch calls fn with each whole stored batch at the start of b, in
// order, until fn returns false; it reads batch headers only, and stops at a
// partial or malformed batch.
func eachBatch(b []byte, fn func(batch []byte, h partlog.BatchHeader) bool) {
	for len(b) >= partlog.BatchHeaderSize {
		size := 12 + int(int32(binary.BigEndian.Uint32(b[8:])))
		if size < partlog.BatchHeaderSize || size > len(b) {
			return
		}
		h, err := partlog.ParseBatchHeader(b[:size])
		if err != nil || !fn(b[:size], h) {
			return
		}
		b = b[size:]
	}
}

// firstBatch trims b to its first record batch.
func firstBatch(b []byte) []byte {
	first := b
	eachBatch(b, func(batch []byte, _ partlog.BatchHeader) bool {
		first = batch
		return false
	})
	return first
}

// batchNextOffset is the offset after the last whole batch in b (-1 when b
// holds none).
func batchNextOffset(b []byte) int64 {
	next := int64(-1)
	eachBatch(b, func(_ []byte, h partlog.BatchHeader) bool {
		next = h.LastOffset() + 1
		return true
	})
	return next
}

// countRecords sums the record counts of whole stored batches in b.
func countRecords(b []byte) int64 {
	var n int64
	eachBatch(b, func(_ []byte, h partlog.BatchHeader) bool {
		n += int64(h.RecordCount)
		return true
	})
	return n
}

// cutAtOffset trims b to the whole batches that end below bound (the high
// watermark: consumers never see a batch not yet on every in-sync replica).
func cutAtOffset(b []byte, bound int64) []byte {
	n := 0
	eachBatch(b, func(batch []byte, h partlog.BatchHeader) bool {
		if h.LastOffset() >= bound {
			return false
		}
		n += len(batch)
		return true
	})
	if n == 0 {
		return noRecords
	}
	return b[:n]
}
