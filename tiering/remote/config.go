package remote

import (
	"errors"
	"fmt"
)

// Defaults for the zero fields of Config.
const (
	DefaultChunkSize          = 4 << 20
	DefaultCacheBytes         = 1 << 30
	DefaultMaxConcurrentReads = 8
	DefaultReadAheadChunks    = 8
	DefaultIndexCacheBytes    = 64 << 20
	// DefaultMemCacheBytes keeps the most recent chunks in memory;
	// DefaultCacheWriteQueueBytes bounds the fetched chunks waiting to be
	// written to the on-disk cache.
	DefaultMemCacheBytes        = 64 << 20
	DefaultCacheWriteQueueBytes = 128 << 20
	// DefaultBusyReadBytesPerSec and DefaultBusyMaxReadBytes pace cold
	// reads while produce is busy (see Config.Busy).
	DefaultBusyReadBytesPerSec = 64 << 20
	DefaultBusyMaxReadBytes    = 1 << 20
)

// Config configures a Reader. Zero fields take the defaults above.
type Config struct {
	// CacheDir holds the on-disk chunk cache (required). The Reader owns
	// the *.chunk and tmp-* files in it and removes them at start.
	CacheDir string `yaml:"cache_dir"`
	// CacheBytes bounds the chunk cache (LRU by bytes). At least ChunkSize.
	CacheBytes int64 `yaml:"cache_bytes"`
	// ChunkSize is the size of one ranged GET and one cache entry.
	ChunkSize int64 `yaml:"chunk_size"`
	// MaxConcurrentReads bounds the cold reads (Read, OffsetForTimestamp)
	// running at once; more wait for a slot.
	MaxConcurrentReads int `yaml:"max_concurrent_reads"`
	// ReadAheadChunks is how many chunks past a sequential read are fetched
	// in the background. Negative disables read-ahead.
	ReadAheadChunks int `yaml:"read_ahead_chunks"`
	// MemCacheBytes bounds the in-memory LRU of the most recently fetched
	// chunks, which serves them while they are written to disk in the
	// background. Negative disables it.
	MemCacheBytes int64 `yaml:"mem_cache_bytes"`
	// CacheWriteQueueBytes bounds the fetched chunks waiting for the disk
	// writer; chunks that do not fit are not cached on disk.
	CacheWriteQueueBytes int64 `yaml:"cache_write_queue_bytes"`
	// IndexCacheBytes bounds the in-memory cache of footers and indexes.
	IndexCacheBytes int64 `yaml:"index_cache_bytes"`
	// Busy, when set, reports that producers are busy (the broker passes
	// the uploader's view of appends). While it does, each cold read
	// returns at most BusyMaxReadBytes and cold reads together run at
	// most BusyReadBytesPerSec, and the chunks they fetch stay in memory
	// without being written to the disk cache (its writes contend with
	// the producers' appends in the kernel), so historical consumers
	// cannot raise produce latency; otherwise they run at full speed.
	Busy func() bool `yaml:"-"`
	// BusyReadBytesPerSec: -1 never paces.
	BusyReadBytesPerSec int64 `yaml:"busy_read_bytes_per_sec"`
	BusyMaxReadBytes    int   `yaml:"busy_max_read_bytes"`
}

func (c Config) withDefaults() (Config, error) {
	if c.CacheDir == "" {
		return c, errors.New("remote: Config.CacheDir is required")
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = DefaultChunkSize
	}
	if c.CacheBytes == 0 {
		c.CacheBytes = DefaultCacheBytes
	}
	if c.MaxConcurrentReads == 0 {
		c.MaxConcurrentReads = DefaultMaxConcurrentReads
	}
	if c.ReadAheadChunks == 0 {
		c.ReadAheadChunks = DefaultReadAheadChunks
	}
	if c.ReadAheadChunks < 0 {
		c.ReadAheadChunks = 0
	}
	if c.BusyReadBytesPerSec == 0 {
		c.BusyReadBytesPerSec = DefaultBusyReadBytesPerSec
	}
	if c.BusyMaxReadBytes <= 0 {
		c.BusyMaxReadBytes = DefaultBusyMaxReadBytes
	}
	if c.MemCacheBytes == 0 {
		c.MemCacheBytes = DefaultMemCacheBytes
	}
	if c.CacheWriteQueueBytes <= 0 {
		c.CacheWriteQueueBytes = DefaultCacheWriteQueueBytes
	}
	if c.IndexCacheBytes == 0 {
		c.IndexCacheBytes = DefaultIndexCacheBytes
	}
	switch {
	case c.ChunkSize < 1024:
		return c, fmt.Errorf("remote: chunk size %d below 1 KiB", c.ChunkSize)
	case c.CacheBytes < c.ChunkSize:
		return c, fmt.Errorf("remote: cache bytes %d below one chunk (%d)", c.CacheBytes, c.ChunkSize)
	case c.MaxConcurrentReads < 1:
		return c, fmt.Errorf("remote: max concurrent reads %d below 1", c.MaxConcurrentReads)
	case c.IndexCacheBytes < 0:
		return c, fmt.Errorf("remote: negative index cache bytes %d", c.IndexCacheBytes)
	}
	return c, nil
}
