package group

import (
	"context"
	"errors"
)

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

// ErrFenced is returned (wrapped) by Store writes fenced by a claim that
// another claim has replaced: another coordinator (or a newer copy of the
// group here) took the group over, so this copy must not write.
var ErrFenced = errors.New("group claimed by another coordinator")

// Store persists groups and committed offsets. The broker adapts the etcd
// metastore to it. Calls may take milliseconds; the coordinator never holds a
// group lock across a Store call and issues one group's calls in order.
//
// Writes are fenced by a claim: ClaimGroup returns a revision, and a write
// given that revision fails with ErrFenced once the group was claimed again
// (by any coordinator). Revision 0 writes unconditionally (a coordinator that
// has not been placed among nodes yet).
type Store interface {
	// ClaimGroup makes owner the group's coordinator, whoever it was, and
	// returns the claim's revision and the previous claimant (nil: none).
	ClaimGroup(ctx context.Context, group string, owner Node) (rev int64, prev *Node, err error)
	// LoadGroup returns one group's saved state (nil: none) and offsets.
	LoadGroup(ctx context.Context, group string) ([]byte, map[OffsetKey]Offset, error)
	// CommitOffsets upserts offsets of one group.
	CommitOffsets(ctx context.Context, group string, rev int64, offs map[OffsetKey]Offset) error
	// AllOffsets returns every committed offset of every group.
	AllOffsets(ctx context.Context) (map[OffsetKey]Offset, error)
	// DeleteOffsets removes the given offsets of one group (missing keys are fine).
	DeleteOffsets(ctx context.Context, group string, rev int64, keys []OffsetKey) error
	// SaveGroup stores the opaque state of a group (replacing any earlier one).
	SaveGroup(ctx context.Context, group string, rev int64, state []byte) error
	// LoadGroups returns every saved group state.
	LoadGroups(ctx context.Context) (map[string][]byte, error)
	// DeleteGroup removes a group's saved state. The coordinator deletes the
	// group's offsets separately with DeleteOffsets.
	DeleteGroup(ctx context.Context, group string, rev int64) error
}
