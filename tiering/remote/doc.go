// Package remote serves cold reads: record batches of sealed segments that
// live only in object storage (see package segment for the object format).
//
// A Reader keeps the remote segment manifest in memory (listed per partition
// on first use and kept fresh by a manifest watch), caches each object's
// footer and offset/time indexes in a bounded in-memory LRU, and reads the
// log section with ranged GETs of fixed-size chunks. Each GET lands in a
// chunk-sized buffer that serves the read at once and stays in a small
// in-memory LRU of recent chunks (Config.MemCacheBytes); a single
// background writer copies fetched chunks into the bounded on-disk chunk
// cache (LRU by bytes) with direct I/O where the file system allows it, so
// cold reads neither wait for nor pay the page-cache copy of a disk write
// (chunks that do not fit the write queue are simply not cached on disk).
// Concurrent readers of one chunk share one GET; a reader that continues
// where its previous read of an object ended triggers read-ahead of the
// following chunks, across as many following segments as the read-ahead
// spans. A chunk found only on disk is read back whole with direct I/O into
// a pooled buffer and kept in the memory LRU, read-ahead included, so warm
// reads run at the device's speed without the kernel's small buffered
// read-ahead and without filling the page cache. An unpaced read continues into the following segments while
// their batches fit, so a catch-up consumer gets full responses in one
// buffer.
//
// Every batch handed out is checked (magic 2, length, CRC-32C); any mismatch,
// or a footer or index that fails its checksum, yields an error wrapping
// ErrCorrupt that names the object, never wrong data. Cold reads run in
// their own bounded pool (Config.MaxConcurrentReads) so a backlog of
// historical consumers cannot take every goroutine. The chunks a large
// sequential read needs, and ReadAheadChunks past it (into the next
// segment too), are fetched in parallel. While Config.Busy reports busy
// producers, cold reads are capped and paced (BusyMaxReadBytes,
// BusyReadBytesPerSec) and bypass the disk tier of the chunk cache, so
// they cannot raise produce latency.
package remote
