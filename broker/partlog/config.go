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
	if c.IndexIntervalBytes <= 0 {
		c.IndexIntervalBytes = DefaultIndexIntervalBytes
	}
	return c
}
