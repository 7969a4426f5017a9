package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/strata-io/strata/broker/group"
	"github.com/strata-io/strata/metastore"
)

// groupStore adapts the metastore to the group coordinator's Store. Writes
// are fenced by the group's owner key (metastore.ClaimGroup); a fenced write
// surfaces as group.ErrFenced.
type groupStore struct{ m *metastore.Store }

// fenced turns the metastore's fencing error into the coordinator's.
func fenced(err error) error {
	if errors.Is(err, metastore.ErrFenced) {
		return fmt.Errorf("%w: %w", group.ErrFenced, err)
	}
	return err
}

func (s groupStore) ClaimGroup(ctx context.Context, g string, owner group.Node) (int64, *group.Node, error) {
	rev, prev, err := s.m.ClaimGroup(ctx, g, metastore.GroupOwner{NodeID: owner.ID, Incarnation: owner.Incarnation})
	if err != nil || prev == nil {
		return rev, nil, err
	}
	return rev, &group.Node{ID: prev.NodeID, Incarnation: prev.Incarnation}, nil
}

func (s groupStore) LoadGroup(ctx context.Context, g string) ([]byte, map[group.OffsetKey]group.Offset, error) {
	state, offs, err := s.m.LoadGroup(ctx, g)
	if err != nil {
		return nil, nil, err
	}
	return state, toGroupOffsets(offs), nil
}

func (s groupStore) CommitOffsets(ctx context.Context, g string, rev int64, offs map[group.OffsetKey]group.Offset) error {
	m := make(map[metastore.OffsetKey]metastore.Offset, len(offs))
	for k, v := range offs {
		m[metastore.OffsetKey(k)] = metastore.Offset(v)
	}
	return fenced(s.m.CommitOffsetsOwned(ctx, g, rev, m))
}

func (s groupStore) AllOffsets(ctx context.Context) (map[group.OffsetKey]group.Offset, error) {
	m, err := s.m.AllOffsets(ctx)
	if err != nil {
		return nil, err
	}
	return toGroupOffsets(m), nil
}

func toGroupOffsets(m map[metastore.OffsetKey]metastore.Offset) map[group.OffsetKey]group.Offset {
	out := make(map[group.OffsetKey]group.Offset, len(m))
	for k, v := range m {
		out[group.OffsetKey(k)] = group.Offset(v)
	}
	return out
}

func (s groupStore) DeleteOffsets(ctx context.Context, g string, rev int64, keys []group.OffsetKey) error {
	ks := make([]metastore.OffsetKey, len(keys))
	for i, k := range keys {
		ks[i] = metastore.OffsetKey(k)
	}
	return fenced(s.m.DeleteOffsetsOwned(ctx, g, rev, ks))
}

func (s groupStore) SaveGroup(ctx context.Context, g string, rev int64, state []byte) error {
	return fenced(s.m.SaveGroupOwned(ctx, g, rev, state))
}

func (s groupStore) LoadGroups(ctx context.Context) (map[string][]byte, error) {
	return s.m.LoadGroups(ctx)
}

func (s groupStore) DeleteGroup(ctx context.Context, g string, rev int64) error {
	return fenced(s.m.DeleteGroupOwned(ctx, g, rev))
}
