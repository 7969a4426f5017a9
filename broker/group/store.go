package group

import "context"

// OffsetKey names one committed offset: a group's position in a partition.
type OffsetKey struct {
	Group     string
	Topic     string
	Partition int32
}

// Offset is a committed offset and what came with it.
type Offset struct {
	Offset          int64
	LeaderEpoch     int32 // -1 when the client did not send one
	Metadata        string
	CommitTimestamp int64 // unix milliseconds
}

// Store persists groups and committed offsets. The broker adapts the etcd
// metastore to it. Calls may take milliseconds; the coordinator never holds a
// group lock across a Store call and issues one group's calls in order.
type Store interface {
	// CommitOffsets upserts offsets of one group.
	CommitOffsets(ctx context.Context, group string, offs map[OffsetKey]Offset) error
	// AllOffsets returns every committed offset of every group.
	AllOffsets(ctx context.Context) (map[OffsetKey]Offset, error)
	// DeleteOffsets removes the given offsets of one group (missing keys are fine).
	DeleteOffsets(ctx context.Context, group string, keys []OffsetKey) error
	// SaveGroup stores the opaque state of a group (replacing any earlier one).
	SaveGroup(ctx context.Context, group string, state []byte) error
	// LoadGroups returns every saved group state.
	LoadGroups(ctx context.Context) (map[string][]byte, error)
	// DeleteGroup removes a group's saved state. The coordinator deletes the
	// group's offsets separately with DeleteOffsets.
	DeleteGroup(ctx context.Context, group string) error
}
