package upload

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied to zero Config fields.
const (
	DefaultConcurrency          = 4
	DefaultIdleRollAfter        = 10 * time.Minute
	DefaultMaxLocalBacklogBytes = 10 << 30
	DefaultPollInterval         = time.Second
	DefaultRetentionInterval    = 5 * time.Minute
	DefaultGCInterval           = time.Hour
	DefaultSweepInterval        = 6 * time.Hour
	DefaultOrphanMinAge         = time.Hour
	DefaultMinBackoff           = 200 * time.Millisecond
	DefaultMaxBackoff           = 30 * time.Second
	DefaultCommitAttempts       = 5
	DefaultDeferWhileBusyBytes  = 1 << 30
	DefaultBusyWindow           = time.Second
)

// Config tunes an Uploader. Zero fields take the defaults above.
type Config struct {
	// Concurrency bounds simultaneous segment uploads across all partitions.
	Concurrency int `yaml:"concurrency"`
	// IdleRollAfter rolls an active segment that holds data and has seen no
	// append for this long, so quiet partitions reach object storage.
	IdleRollAfter time.Duration `yaml:"idle_roll_after"`
	// MaxLocalBacklogBytes is how many un-uploaded bytes a partition may hold
	// before Accepting turns false; -1 means no bound.
	MaxLocalBacklogBytes int64 `yaml:"max_local_backlog_bytes"`
	// PollInterval is how often an idle partition loop looks for work.
	PollInterval time.Duration `yaml:"poll_interval"`
	// RetentionInterval is how often remote retention runs per partition.
	RetentionInterval time.Duration `yaml:"retention_interval"`
	// GCInterval is how often orphaned objects are collected per partition.
	GCInterval time.Duration `yaml:"gc_interval"`
	// SweepInterval is how often the objects of every partition the
	// uploader does not track are garbage-collected (Uploader.Sweep); -1
	// never.
	SweepInterval time.Duration `yaml:"sweep_interval"`
	// OrphanMinAge: an object the manifest does not know is deleted only
	// once it is this old (an upload may be about to commit it).
	OrphanMinAge time.Duration `yaml:"orphan_min_age"`
	// Topics, if set, lists the ids of the topics that exist (read from the
	// metastore at each sweep). Sweep then also removes what is left of
	// deleted topics: manifest entries an upload committed after its topic's
	// entries were deleted, and their objects, whatever their age.
	Topics func(ctx context.Context) (map[[16]byte]bool, error) `yaml:"-"`
	// MinBackoff and MaxBackoff bound the exponential backoff (with jitter)
	// after a failure.
	MinBackoff time.Duration `yaml:"min_backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// CommitAttempts is how often a manifest commit is tried before the
	// uploaded object is deleted and the segment uploaded again later.
	CommitAttempts int `yaml:"commit_attempts"`

	// DeferWhileBusyBytes: while produce is busy (a tracked partition
	// grew within BusyWindow), sealed segments wait until the broker's
	// un-uploaded bytes reach this bound, so uploads run in produce's
	// pauses instead of competing with it. -1 uploads at once.
	DeferWhileBusyBytes int64 `yaml:"defer_while_busy_bytes"`
	// BusyWindow is how recent an append must be for produce to count as
	// busy.
	BusyWindow time.Duration `yaml:"busy_window"`

	// Registerer receives the uploader's metrics; nil registers nothing.
	Registerer prometheus.Registerer `yaml:"-"`
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time `yaml:"-"`
}

func (c Config) withDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.IdleRollAfter <= 0 {
		c.IdleRollAfter = DefaultIdleRollAfter
	}
	if c.MaxLocalBacklogBytes == 0 {
		c.MaxLocalBacklogBytes = DefaultMaxLocalBacklogBytes
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.RetentionInterval <= 0 {
		c.RetentionInterval = DefaultRetentionInterval
	}
	if c.GCInterval <= 0 {
		c.GCInterval = DefaultGCInterval
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = DefaultSweepInterval
	}
	if c.OrphanMinAge <= 0 {
		c.OrphanMinAge = DefaultOrphanMinAge
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(DefaultMaxBackoff, c.MinBackoff)
	}
	if c.CommitAttempts <= 0 {
		c.CommitAttempts = DefaultCommitAttempts
	}
	if c.DeferWhileBusyBytes == 0 {
		c.DeferWhileBusyBytes = DefaultDeferWhileBusyBytes
	}
	if c.BusyWindow <= 0 {
		c.BusyWindow = DefaultBusyWindow
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
