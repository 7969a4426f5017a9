package group

import (
	"log/slog"
	"time"
)

// Kafka's defaults for the group coordinator settings.
const (
	DefaultMinSessionTimeout     = 6 * time.Second  // group.min.session.timeout.ms
	DefaultMaxSessionTimeout     = 30 * time.Minute // group.max.session.timeout.ms
	DefaultInitialRebalanceDelay = 3 * time.Second  // group.initial.rebalance.delay.ms
	DefaultMaxMetadataBytes      = 4096             // offset.metadata.max.bytes
	DefaultStoreTimeout          = 10 * time.Second
)

// Config configures a Coordinator. Zero values take the defaults above, except
// InitialRebalanceDelay, where zero means no delay (use DefaultConfig for
// Kafka's 3s).
type Config struct {
	// MinSessionTimeout and MaxSessionTimeout bound a JoinGroup's session
	// timeout; outside them the join fails with INVALID_SESSION_TIMEOUT.
	MinSessionTimeout, MaxSessionTimeout time.Duration
	// InitialRebalanceDelay is how long the first rebalance of an empty group
	// waits for more members (extended while members keep arriving, up to the
	// rebalance timeout).
	InitialRebalanceDelay time.Duration
	// MaxMetadataBytes bounds an OffsetCommit's metadata string
	// (OFFSET_METADATA_TOO_LARGE past it).
	MaxMetadataBytes int
	// TopicPartitionExists reports whether a partition exists; commits and
	// deletes of others get UNKNOWN_TOPIC_OR_PARTITION. Nil accepts all.
	TopicPartitionExists func(topic string, partition int32) bool
	// StoreTimeout bounds each Store call made on behalf of a request.
	StoreTimeout time.Duration
	// Logger receives coordinator logs; nil uses slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns Kafka's defaults.
func DefaultConfig() Config {
	return Config{
		MinSessionTimeout:     DefaultMinSessionTimeout,
		MaxSessionTimeout:     DefaultMaxSessionTimeout,
		InitialRebalanceDelay: DefaultInitialRebalanceDelay,
		MaxMetadataBytes:      DefaultMaxMetadataBytes,
		StoreTimeout:          DefaultStoreTimeout,
	}
}

func (c Config) withDefaults() Config {
	if c.MinSessionTimeout <= 0 {
		c.MinSessionTimeout = DefaultMinSessionTimeout
	}
	if c.MaxSessionTimeout <= 0 {
		c.MaxSessionTimeout = DefaultMaxSessionTimeout
	}
	if c.InitialRebalanceDelay < 0 {
		c.InitialRebalanceDelay = 0
	}
	if c.MaxMetadataBytes <= 0 {
		c.MaxMetadataBytes = DefaultMaxMetadataBytes
	}
	if c.StoreTimeout <= 0 {
		c.StoreTimeout = DefaultStoreTimeout
	}
	if c.TopicPartitionExists == nil {
		c.TopicPartitionExists = func(string, int32) bool { return true }
	}
	if c.Logger == nil {
		c.Logger = slog.Default().With("component", "group")
	}
	return c
}

// loadWait bounds how long a request waits for gained groups to load before
// it gets COORDINATOR_LOAD_IN_PROGRESS.
func (c Config) loadWait() time.Duration { return min(c.StoreTimeout, 5*time.Second) }
