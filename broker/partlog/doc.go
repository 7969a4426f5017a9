// Package partlog owns the durable, segmented, append-only log of one Kafka
// partition on local disk.
//
// A Log stores raw magic-v2 record batches byte-for-byte as the producer sent
// them, except for the base offset and partition leader epoch, which sit
// outside the batch CRC and are stamped by the leader on Append. The log is a
// sequence of segments named after their base offset:
//
//	<baseOffset %020d>.log        raw record batches
//	<baseOffset %020d>.index      sparse offset index (rel offset uint32, position uint32)
//	<baseOffset %020d>.timeindex  time index (max timestamp int64, rel offset uint32)
//	log-start-offset.checkpoint   log start offset after DeleteRecords / retention
//	leader-epoch-checkpoint       leader epoch cache (epoch -> first offset)
//
// The package also owns idempotent-producer state (the last five batches per
// producer id, rebuilt from batch headers on recovery), the leader epoch cache
// used by OffsetForLeaderEpoch, retention and DeleteRecords, follower
// truncation (TruncateTo), and group-committed fsync (WaitDurable).
//
// Tiered storage (KIP-405, Config.RemoteStorage): the tiering uploader
// reads SealedSegments, uploads them and calls MarkUploaded; ApplyRetention
// then deletes only uploaded segments past local.retention.*, leaving the
// log start alone, so LogStartOffset (global, persisted) and
// LocalLogStartOffset (first local segment) differ and reads in between
// return ErrOffsetNotLocal. Total retention runs remotely and ends in
// AdvanceLogStart. Roll/RollIfIdle seal the active segment for upload, and
// ResetTo re-bases an empty log after its disk was wiped. A tiered log must
// be opened with RemoteStorage set so recovery trusts the persisted log
// start below the first local segment.
//
// Crash recovery: sealed segments trust their index files after checking them
// and re-validating the bytes past the last index entry; the active segment is
// scanned batch by batch and truncated at the first torn or corrupt batch.
//
// All file access goes through a small internal filesystem seam (fsys) so
// tests can simulate crashes that drop unsynced bytes and inject write or sync
// failures. Once a write or fsync fails the error is sticky: every later
// Append and WaitDurable returns it until the log is reopened.
package partlog
