package metastore

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// SaveGroup stores the group coordinator's serialised state for group.
func (s *Store) SaveGroup(ctx context.Context, group string, state []byte) error {
	if _, err := s.cli.Put(ctx, s.groupKey(group), string(state)); err != nil {
		return fmt.Errorf("metastore: save group %q: %w", group, err)
	}
	return nil
}

// LoadGroups returns every stored group state blob by group name.
func (s *Store) LoadGroups(ctx context.Context) (map[string][]byte, error) {
	resp, err := s.cli.Get(ctx, s.groupsPrefix(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("metastore: load groups: %w", err)
	}
	out := make(map[string][]byte, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		name, err := nameFromKey(string(kv.Key), s.groupsPrefix())
		if err != nil {
			return nil, err
		}
		out[name] = kv.Value
	}
	return out, nil
}

// DeleteGroup removes group's state blob and all its committed offsets in one
// transaction. Deleting a group that does not exist is not an error.
func (s *Store) DeleteGroup(ctx context.Context, group string) error {
	_, err := s.cli.Txn(ctx).Then(
		clientv3.OpDelete(s.groupKey(group)),
		clientv3.OpDelete(s.groupOffsetsPrefix(group), clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return fmt.Errorf("metastore: delete group %q: %w", group, err)
	}
	return nil
}
