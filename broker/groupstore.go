package broker

import (
	"context"

	"github.com/strata-io/strata/broker/group"
	"github.com/strata-io/strata/metastore"
)

// groupStore adapts the metastore to the group coordinator's Store.
type groupStore struct{ m *metastore.Store }

func (s groupStore) CommitOffsets(ctx context.Context, g string, offs map[group.OffsetKey]group.Offset) error {
	m := make(map[metastore.OffsetKey]metastore.Offset, len(offs))
	for k, v := range offs {
		m[metastore.OffsetKey(k)] = metastore.Offset(v)
	}
	return s.m.CommitOffsets(ctx, g, m)
}

func (s groupStore) AllOffsets(ctx context.Context) (map[group.OffsetKey]group.Offset, error) {
	m, err := s.m.AllOffsets(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[group.OffsetKey]group.Offset, len(m))
	for k, v := range m {
		out[group.OffsetKey(k)] = group.Offset(v)
	}
	return out, nil
}

func (s groupStore) DeleteOffsets(ctx context.Context, g string, keys []group.OffsetKey) error {
	ks := make([]metastore.OffsetKey, len(keys))
	for i, k := range keys {
		ks[i] = metastore.OffsetKey(k)
	}
	return s.m.DeleteOffsets(ctx, g, ks)
}

func (s groupStore) SaveGroup(ctx context.Context, g string, state []byte) error {
	return s.m.SaveGroup(ctx, g, state)
}

func (s groupStore) LoadGroups(ctx context.Context) (map[string][]byte, error) {
	return s.m.LoadGroups(ctx)
}

func (s groupStore) DeleteGroup(ctx context.Context, g string) error { return s.m.DeleteGroup(ctx, g) }
