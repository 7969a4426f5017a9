package broker

import (
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/strata-io/strata/broker/partlog"
)

// validateProduceRecords applies Apache Kafka's checks to one partition's
// records field, in Kafka's order, and returns the error code it would
// return (0 when the batch may be appended) with a message.
//
//  1. Framing (ByteBufferLogInputStream): a length under 14 bytes or a magic
//     outside 0..2 is CORRUPT_MESSAGE; a batch that is cut short is no batch.
//  2. ProduceRequest.validateRecords (v3+): exactly one batch, magic 2,
//     else INVALID_RECORD.
//  3. Log append: CRC-32C (CORRUPT_MESSAGE), size over max.message.bytes
//     (MESSAGE_TOO_LARGE), base offset 0 and a record count that matches
//     the offset delta (INVALID_RECORD).
func validateProduceRecords(records []byte, maxMessageBytes int64) (partlog.BatchHeader, int16, string) {
	const logOverhead, minRecordOverhead, magicOffset = 12, 14, 16
	var none partlog.BatchHeader
	if len(records) < logOverhead {
		return none, kerr.InvalidRecord.Code, "produce requests v3+ must have exactly one record batch per partition"
	}
	length := int64(int32(binary.BigEndian.Uint32(records[8:])))
	if length < minRecordOverhead {
		return none, kerr.CorruptMessage.Code, fmt.Sprintf("record size %d is less than the minimum record overhead", length)
	}
	if length+logOverhead > int64(len(records)) {
		return none, kerr.InvalidRecord.Code, "produce requests v3+ must have exactly one record batch per partition (batch is truncated)"
	}
	magic := int8(records[magicOffset])
	if magic < 0 || magic > 2 {
		return none, kerr.CorruptMessage.Code, fmt.Sprintf("invalid magic %d", magic)
	}
	if magic != 2 {
		return none, kerr.InvalidRecord.Code, "produce requests v3+ must have magic value 2"
	}
	if length+logOverhead < int64(len(records)) {
		return none, kerr.InvalidRecord.Code, "produce requests v3+ must have exactly one record batch per partition"
	}
	if length+logOverhead < partlog.BatchHeaderSize {
		return none, kerr.CorruptMessage.Code, "record batch is shorter than its header"
	}
	// The CRC check comes before the header's semantic checks, as in Kafka.
	hdr, err := partlog.ValidateBatch(records)
	if err != nil {
		if hdr.Magic == 2 && hdr.RecordCount > 0 && hdr.LastOffsetDelta != hdr.RecordCount-1 && crcOK(records, hdr) {
			return hdr, kerr.InvalidRecord.Code, fmt.Sprintf("inconsistent batch offset range: last offset delta %d and %d records", hdr.LastOffsetDelta, hdr.RecordCount)
		}
		return hdr, kerr.CorruptMessage.Code, err.Error()
	}
	if int64(len(records)) > maxMessageBytes {
		return hdr, kerr.MessageTooLarge.Code, fmt.Sprintf("batch of %d bytes exceeds max.message.bytes %d", len(records), maxMessageBytes)
	}
	if hdr.BaseOffset != 0 {
		return hdr, kerr.InvalidRecord.Code, fmt.Sprintf("the base offset of a produced batch must be 0, not %d", hdr.BaseOffset)
	}
	if hdr.RecordCount <= 0 {
		return hdr, kerr.InvalidRecord.Code, "record batch has no records"
	}
	return hdr, 0, ""
}

// crcOK reports whether the batch's CRC-32C matches, whatever its header says.
func crcOK(b []byte, h partlog.BatchHeader) bool {
	return crc32c(b[21:]) == h.CRC
}
