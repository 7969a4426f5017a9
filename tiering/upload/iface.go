package upload

import (
	"context"

	"github.com/strata-io/strata/broker/partlog"
	"github.com/strata-io/strata/metastore"
)

// Manifest is the part of the remote segment manifest the uploader uses;
// *metastore.Store implements it.
type Manifest interface {
	// CommitSegment records seg guarded by leaderEpoch (metastore.ErrFenced
	// when a newer leader exists, metastore.ErrConflict on overlap).
	CommitSegment(ctx context.Context, seg metastore.RemoteSegment, leaderEpoch int32) error
	// ListSegments returns the partition's committed segments by base offset.
	ListSegments(ctx context.Context, topicID [16]byte, partition int32) ([]metastore.RemoteSegment, error)
	// DeleteSegments removes every segment with LastOffset < uptoOffset and
	// returns the removed entries.
	DeleteSegments(ctx context.Context, topicID [16]byte, partition int32, uptoOffset int64) ([]metastore.RemoteSegment, error)
}

// Partition is a partition the broker leads. Its topic configs
// (remote.storage.enable, retention.*, local.retention.*) are read from
// Log().Config(), which the broker keeps current with SetConfig.
type Partition interface {
	TopicID() [16]byte
	Partition() int32
	Log() *partlog.Log
	// LeaderEpoch is the broker's current leader epoch for the partition;
	// uploads are named and committed with it.
	LeaderEpoch() int32
}

// HighWatermarker is implemented by partitions whose log may hold data
// that is not yet committed (replicated partitions: offsets at or above the
// high watermark can still be truncated after a leader change). The
// uploader then uploads only sealed segments wholly below HighWatermark, so
// object storage never holds records a new leader does not have.
type HighWatermarker interface {
	HighWatermark() int64
}

// committedThrough reports whether every offset of seg is below p's high
// watermark (always true for partitions without one).
func committedThrough(p Partition, last int64) bool {
	h, ok := p.(HighWatermarker)
	return !ok || last < h.HighWatermark()
}

var _ Manifest = (*metastore.Store)(nil)

type partKey struct {
	topic [16]byte
	part  int32
}

func keyOf(p Partition) partKey { return partKey{p.TopicID(), p.Partition()} }
