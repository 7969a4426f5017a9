package partlog

import "math"

// Defaults applied by Config.withDefaults for zero fields.
const (
	DefaultSegmentBytes       = 1 << 30
	DefaultSegmentMs          = 7 * 24 * 60 * 60 * 1000
	DefaultRetentionMs        = 7 * 24 * 60 * 60 * 1000
	DefaultIndexIntervalBytes = 4096
)

// Config holds the per-topic settings the log obeys. Zero values mean the
// Kafka default; -1 means unlimited for the retention settings.
type Config struct {
	SegmentBytes       int64 // segment.bytes, default 1 GiB
	SegmentMs          int64 // segment.ms, default 7 days
	RetentionMs        int64 // retention.ms, -1 = unlimited (default 7 days)
	RetentionBytes     int64 // retention.bytes, -1 = unlimited (default)
	IndexIntervalBytes int   // index.interval.bytes, default 4096

	// Tiered storage (KIP-405). With RemoteStorage on, sealed segments are
	// uploaded by the tiering uploader; a local segment is deleted only once
	// it is uploaded (MarkUploaded) and past local.retention.*, and total
	// retention is applied remotely (AdvanceLogStart).
	RemoteStorage       bool  // remote.storage.enable
	LocalRetentionMs    int64 // local.retention.ms, -2 = retention.ms (default), -1 = unlimited
	LocalRetentionBytes int64 // local.retention.bytes, -2 = retention.bytes (default), -1 = unlimited
}

// withDefaults fills zero fields. Segment positions are stored as uint32 in
// the index, and Kafka caps segment.bytes at Int32 max, so we do too.
func (c Config) withDefaults() Config {
	if c.SegmentBytes <= 0 {
		c.SegmentBytes = DefaultSegmentBytes
	}
	if c.SegmentBytes > math.MaxInt32 {
		c.SegmentBytes = math.MaxInt32
	}
	if c.SegmentMs <= 0 {
		c.SegmentMs = DefaultSegmentMs
	}
	if c.RetentionMs == 0 {
		c.RetentionMs = DefaultRetentionMs
	}
	if c.RetentionBytes == 0 {
		c.RetentionBytes = -1
	}
	if c.LocalRetentionMs == 0 || c.LocalRetentionMs < -2 {
		c.LocalRetentionMs = -2
	}
	if c.LocalRetentionBytes == 0 || c.LocalRetentionBytes < -2 {
		c.LocalRetentionBytes = -2
	}
	if c.IndexIntervalBytes <= 0 {
		c.IndexIntervalBytes = DefaultIndexIntervalBytes
	}
	return c
}

// localRetention returns the effective local.retention.ms and
// local.retention.bytes (-2 resolved to the total retention settings).
func (c Config) localRetention() (ms, bytes int64) {
	ms, bytes = c.LocalRetentionMs, c.LocalRetentionBytes
	if ms == -2 {
		ms = c.RetentionMs
	}
	if bytes == -2 {
		bytes = c.RetentionBytes
	}
	return ms, bytes
}
