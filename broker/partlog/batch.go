package partlog

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Byte layout of a magic-v2 record batch header (big endian).
const (
	offBaseOffset      = 0
	offBatchLength     = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offBaseTimestamp   = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offRecordCount     = 57

	// BatchHeaderSize is the size of a v2 record batch header.
	BatchHeaderSize = 61
	// batchLogOverhead is the bytes before (and including) the length field.
	batchLogOverhead = 12
)

// Attribute bits.
const (
	AttrCompressionMask = 0x07
	AttrTimestampType   = 0x08
	AttrTransactional   = 0x10
	AttrControl         = 0x20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// BatchHeader is the decoded fixed header of a v2 record batch.
type BatchHeader struct {
	BaseOffset      int64
	Length          int32 // batchLength field: bytes after the length field
	LeaderEpoch     int32
	Magic           int8
	CRC             uint32
	Attributes      int16
	LastOffsetDelta int32
	BaseTimestamp   int64
	MaxTimestamp    int64
	ProducerID      int64
	ProducerEpoch   int16
	BaseSequence    int32
	RecordCount     int32
}

// Size is the total size of the batch in bytes.
func (h BatchHeader) Size() int { return batchLogOverhead + int(h.Length) }

// LastOffset is the offset of the last record in the batch.
func (h BatchHeader) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// IsControl reports whether the batch is a control (transaction marker) batch.
func (h BatchHeader) IsControl() bool { return h.Attributes&AttrControl != 0 }

// IsTransactional reports whether the batch belongs to a transaction.
func (h BatchHeader) IsTransactional() bool { return h.Attributes&AttrTransactional != 0 }

// decodeHeader decodes the header fields of b, which must be at least
// BatchHeaderSize long. No validation.
func decodeHeader(b []byte) BatchHeader {
	be := binary.BigEndian
	return BatchHeader{
		BaseOffset:      int64(be.Uint64(b[offBaseOffset:])),
		Length:          int32(be.Uint32(b[offBatchLength:])),
		LeaderEpoch:     int32(be.Uint32(b[offLeaderEpoch:])),
		Magic:           int8(b[offMagic]),
		CRC:             be.Uint32(b[offCRC:]),
		Attributes:      int16(be.Uint16(b[offAttributes:])),
		LastOffsetDelta: int32(be.Uint32(b[offLastOffsetDelta:])),
		BaseTimestamp:   int64(be.Uint64(b[offBaseTimestamp:])),
		MaxTimestamp:    int64(be.Uint64(b[offMaxTimestamp:])),
		ProducerID:      int64(be.Uint64(b[offProducerID:])),
		ProducerEpoch:   int16(be.Uint16(b[offProducerEpoch:])),
		BaseSequence:    int32(be.Uint32(b[offBaseSequence:])),
		RecordCount:     int32(be.Uint32(b[offRecordCount:])),
	}
}

// checkHeader validates the header fields that can be checked without the
// body or knowing how many bytes follow: a sane length, magic 2, and the
// offset delta / record count relation.
func checkHeader(h BatchHeader) error {
	if h.Length < BatchHeaderSize-batchLogOverhead {
		return fmt.Errorf("%w: batch length %d shorter than header", ErrCorruptBatch, h.Length)
	}
	if h.Magic != 2 {
		return fmt.Errorf("%w: unsupported magic %d", ErrCorruptBatch, h.Magic)
	}
	if h.LastOffsetDelta < 0 {
		return fmt.Errorf("%w: negative lastOffsetDelta %d", ErrCorruptBatch, h.LastOffsetDelta)
	}
	if h.RecordCount < 0 {
		return fmt.Errorf("%w: negative record count %d", ErrCorruptBatch, h.RecordCount)
	}
	if h.RecordCount > 0 && h.LastOffsetDelta != h.RecordCount-1 {
		return fmt.Errorf("%w: lastOffsetDelta %d does not match record count %d",
			ErrCorruptBatch, h.LastOffsetDelta, h.RecordCount)
	}
	return nil
}

// ParseBatchHeader decodes and checks the header of the single batch b:
// length, magic, offset delta and record count. It does not check the CRC.
func ParseBatchHeader(b []byte) (BatchHeader, error) {
	if len(b) < BatchHeaderSize {
		return BatchHeader{}, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header",
			ErrCorruptBatch, len(b), BatchHeaderSize)
	}
	h := decodeHeader(b)
	if err := checkHeader(h); err != nil {
		return h, err
	}
	if int64(h.Length)+batchLogOverhead != int64(len(b)) {
		return h, fmt.Errorf("%w: batch length %d does not match %d bytes",
			ErrCorruptBatch, h.Length, len(b))
	}
	return h, nil
}

// ValidateBatch is ParseBatchHeader plus the CRC-32C check over b[21:].
func ValidateBatch(b []byte) (BatchHeader, error) {
	h, err := ParseBatchHeader(b)
	if err != nil {
		return h, err
	}
	if got := crc32.Checksum(b[offAttributes:], castagnoli); got != h.CRC {
		return h, fmt.Errorf("%w: crc mismatch (stored %08x, computed %08x)", ErrCorruptBatch, h.CRC, got)
	}
	return h, nil
}

// SplitBatches splits a Produce request's records field (one or more
// concatenated batches) into batches without copying. It only checks framing;
// call ValidateBatch on each batch. A truncated trailing batch is an error.
func SplitBatches(records []byte) ([][]byte, error) {
	var out [][]byte
	for len(records) > 0 {
		if len(records) < batchLogOverhead {
			return nil, fmt.Errorf("%w: truncated batch: %d trailing bytes", ErrCorruptBatch, len(records))
		}
		n := int64(int32(binary.BigEndian.Uint32(records[offBatchLength:])))
		if n < BatchHeaderSize-batchLogOverhead {
			return nil, fmt.Errorf("%w: batch length %d shorter than header", ErrCorruptBatch, n)
		}
		total := n + batchLogOverhead
		if total > int64(len(records)) {
			return nil, fmt.Errorf("%w: truncated batch: length %d, %d bytes left", ErrCorruptBatch, total, len(records))
		}
		out = append(out, records[:total:total])
		records = records[total:]
	}
	return out, nil
}
