package metastore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// OffsetKey names one committed offset.
type OffsetKey struct {
	Group     string
	Topic     string
	Partition int32
}

// Offset is a committed consumer offset.
type Offset struct {
	Offset          int64
	LeaderEpoch     int32
	Metadata        string
	CommitTimestamp int64
}

type offsetValue struct {
	Offset          int64  `json:"offset"`
	LeaderEpoch     int32  `json:"leaderEpoch"`
	Metadata        string `json:"metadata,omitempty"`
	CommitTimestamp int64  `json:"commitTimestamp"`
}

// CommitOffsets stores offs for group. Keys whose Group is empty are taken to
// belong to group; a key naming another group is an error. The commit is one
// etcd transaction, split into several only when it exceeds the cluster's
// per-transaction operation or size limits.
func (s *Store) CommitOffsets(ctx context.Context, group string, offs map[OffsetKey]Offset) error {
	return s.CommitOffsetsOwned(ctx, group, 0, offs)
}

// CommitOffsetsOwned is CommitOffsets fenced by the group owner revision
// ownerRev (see ClaimGroup): ErrFenced when the group was claimed since.
// Every transaction of a split commit is fenced, so once a claim lands no
// later part is written.
func (s *Store) CommitOffsetsOwned(ctx context.Context, group string, ownerRev int64, offs map[OffsetKey]Offset) error {
	keys := make([]OffsetKey, 0, len(offs))
	for k := range offs {
		if k.Group != "" && k.Group != group {
			return fmt.Errorf("metastore: commit offsets for group %q: key names group %q", group, k.Group)
		}
		keys = append(keys, k)
	}
	sortOffsetKeys(keys)
	ops := make([]clientv3.Op, 0, len(keys))
	for _, k := range keys {
		o := offs[k]
		val, err := json.Marshal(offsetValue(o))
		if err != nil {
			return fmt.Errorf("metastore: encode offset: %w", err)
		}
		ops = append(ops, clientv3.OpPut(s.offsetKey(group, k.Topic, k.Partition), string(val)))
	}
	if err := s.commitOps(ctx, group, ownerRev, ops); err != nil {
		return fmt.Errorf("metastore: commit %d offsets for group %q: %w", len(ops), group, err)
	}
	return nil
}

// FetchOffsets returns every committed offset of group (keys carry the group).
func (s *Store) FetchOffsets(ctx context.Context, group string) (map[OffsetKey]Offset, error) {
	return s.readOffsets(ctx, s.groupOffsetsPrefix(group))
}

// AllOffsets returns the committed offsets of every group.
func (s *Store) AllOffsets(ctx context.Context) (map[OffsetKey]Offset, error) {
	return s.readOffsets(ctx, s.offsetsPrefix())
}

func (s *Store) readOffsets(ctx context.Context, prefix string) (map[OffsetKey]Offset, error) {
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("metastore: read offsets: %w", err)
	}
	return s.decodeOffsets(resp.Kvs)
}

func (s *Store) decodeOffsets(kvs []*mvccpb.KeyValue) (map[OffsetKey]Offset, error) {
	out := make(map[OffsetKey]Offset, len(kvs))
	for _, kv := range kvs {
		k, err := s.parseOffsetKey(string(kv.Key))
		if err != nil {
			return nil, err
		}
		var v offsetValue
		if err := json.Unmarshal(kv.Value, &v); err != nil {
			return nil, fmt.Errorf("metastore: decode offset %q: %w", kv.Key, err)
		}
		out[k] = Offset(v)
	}
	return out, nil
}

// DeleteOffsets removes the given committed offsets of group; missing ones are
// ignored. Keys whose Group is empty are taken to belong to group.
func (s *Store) DeleteOffsets(ctx context.Context, group string, keys []OffsetKey) error {
	return s.DeleteOffsetsOwned(ctx, group, 0, keys)
}

// DeleteOffsetsOwned is DeleteOffsets fenced by the group owner revision
// ownerRev: ErrFenced when the group was claimed since.
func (s *Store) DeleteOffsetsOwned(ctx context.Context, group string, ownerRev int64, keys []OffsetKey) error {
	ops := make([]clientv3.Op, 0, len(keys))
	for _, k := range keys {
		if k.Group != "" && k.Group != group {
			return fmt.Errorf("metastore: delete offsets for group %q: key names group %q", group, k.Group)
		}
		ops = append(ops, clientv3.OpDelete(s.offsetKey(group, k.Topic, k.Partition)))
	}
	if err := s.commitOps(ctx, group, ownerRev, ops); err != nil {
		return fmt.Errorf("metastore: delete %d offsets for group %q: %w", len(ops), group, err)
	}
	return nil
}

// commitOps runs ops in as few transactions as the limits allow, each fenced
// by group's owner revision unless ownerRev is 0.
func (s *Store) commitOps(ctx context.Context, group string, ownerRev int64, ops []clientv3.Op) error {
	for len(ops) > 0 {
		n, size := 0, 0
		for n < len(ops) && n < s.maxTxnOps {
			opSize := len(ops[n].KeyBytes()) + len(ops[n].ValueBytes()) + 16
			if n > 0 && size+opSize > maxTxnBytes {
				break
			}
			size += opSize
			n++
		}
		if err := s.fencedTxn(ctx, group, ownerRev, ops[:n]...); err != nil {
			return err
		}
		ops = ops[n:]
	}
	return nil
}

func sortOffsetKeys(ks []OffsetKey) {
	slices.SortFunc(ks, func(a, b OffsetKey) int {
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return cmp.Compare(a.Partition, b.Partition)
	})
}
