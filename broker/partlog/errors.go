package partlog

import "errors"

// Sentinel errors; test with errors.Is. Returned errors are usually wrapped
// with a reason.
var (
	// ErrCorruptBatch: a record batch failed validation (length, magic, CRC...).
	ErrCorruptBatch = errors.New("partlog: corrupt record batch")
	// ErrOffsetOutOfRange: the requested offset is outside [LogStartOffset, LogEndOffset].
	ErrOffsetOutOfRange = errors.New("partlog: offset out of range")
	// ErrOutOfOrderSequence: an idempotent producer skipped or restarted a sequence.
	ErrOutOfOrderSequence = errors.New("partlog: out of order sequence number")
	// ErrInvalidProducerEpoch: the producer epoch is older than the known one.
	ErrInvalidProducerEpoch = errors.New("partlog: invalid producer epoch")
	// ErrOffsetNotLocal: the offset is at or above the log start but below
	// the local log start; with remote storage the data is in object storage.
	ErrOffsetNotLocal = errors.New("partlog: offset not in local log")
	// ErrClosed: the log has been closed.
	ErrClosed = errors.New("partlog: log closed")
)
