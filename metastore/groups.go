package metastore

import (
	"context"
	"encoding/json"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Group writes may be fenced by the group's owner key (see ClaimGroup): a
// write given a non-zero owner revision is one transaction that first
// compares the owner key's mod revision with it, and fails with ErrFenced
// when another claim (by any node) came since. Owner revision 0 writes
// unconditionally (a standalone coordinator, before it knows its node).

// GroupOwner is the value of a group's owner key: the coordinator that
// claimed the group last.
type GroupOwner struct {
	NodeID      int32 `json:"nodeId"`
	Incarnation int64 `json:"incarnation"`
}

// ClaimGroup makes owner the coordinator of group, whatever the owner key
// held before, and returns the key's new mod revision (to fence later
// writes with) and the previous owner (nil when there was none). Every write
// fenced by an earlier claim fails from now on.
func (s *Store) ClaimGroup(ctx context.Context, group string, owner GroupOwner) (int64, *GroupOwner, error) {
	val, err := json.Marshal(owner)
	if err != nil {
		return 0, nil, fmt.Errorf("metastore: encode group owner: %w", err)
	}
	resp, err := s.cli.Put(ctx, s.groupOwnerKey(group), string(val), clientv3.WithPrevKV())
	if err != nil {
		return 0, nil, fmt.Errorf("metastore: claim group %q: %w", group, err)
	}
	var prev *GroupOwner
	if resp.PrevKv != nil {
		prev = new(GroupOwner)
		if err := json.Unmarshal(resp.PrevKv.Value, prev); err != nil {
			return 0, nil, fmt.Errorf("metastore: decode owner of group %q: %w", group, err)
		}
	}
	// A single put's key gets the revision of the request.
	return resp.Header.Revision, prev, nil
}

// GroupOwnerOf returns the last claim of group and its mod revision, or
// ErrNotFound when the group was never claimed.
func (s *Store) GroupOwnerOf(ctx context.Context, group string) (GroupOwner, int64, error) {
	resp, err := s.cli.Get(ctx, s.groupOwnerKey(group))
	if err != nil {
		return GroupOwner{}, 0, fmt.Errorf("metastore: read owner of group %q: %w", group, err)
	}
	if len(resp.Kvs) == 0 {
		return GroupOwner{}, 0, fmt.Errorf("metastore: owner of group %q: %w", group, ErrNotFound)
	}
	var o GroupOwner
	if err := json.Unmarshal(resp.Kvs[0].Value, &o); err != nil {
		return GroupOwner{}, 0, fmt.Errorf("metastore: decode owner of group %q: %w", group, err)
	}
	return o, resp.Kvs[0].ModRevision, nil
}

// SaveGroup stores the group coordinator's serialised state for group.
func (s *Store) SaveGroup(ctx context.Context, group string, state []byte) error {
	return s.SaveGroupOwned(ctx, group, 0, state)
}

// SaveGroupOwned is SaveGroup fenced by the owner revision ownerRev (see
// ClaimGroup): ErrFenced when the group was claimed since.
func (s *Store) SaveGroupOwned(ctx context.Context, group string, ownerRev int64, state []byte) error {
	op := clientv3.OpPut(s.groupKey(group), string(state))
	if err := s.fencedTxn(ctx, group, ownerRev, op); err != nil {
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

// LoadGroup returns one group's state blob (nil when it has none) and its
// committed offsets (keys carry the group), read at one revision.
func (s *Store) LoadGroup(ctx context.Context, group string) ([]byte, map[OffsetKey]Offset, error) {
	resp, err := s.cli.Txn(ctx).Then(
		clientv3.OpGet(s.groupKey(group)),
		clientv3.OpGet(s.groupOffsetsPrefix(group), clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return nil, nil, fmt.Errorf("metastore: load group %q: %w", group, err)
	}
	var state []byte
	if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
		state = kvs[0].Value
	}
	offs, err := s.decodeOffsets(resp.Responses[1].GetResponseRange().Kvs)
	if err != nil {
		return nil, nil, err
	}
	return state, offs, nil
}

// DeleteGroup removes group's state blob and all its committed offsets in one
// transaction. Deleting a group that does not exist is not an error.
func (s *Store) DeleteGroup(ctx context.Context, group string) error {
	return s.DeleteGroupOwned(ctx, group, 0)
}

// DeleteGroupOwned is DeleteGroup fenced by the owner revision ownerRev. The
// owner key stays: the coordinator keeps its claim.
func (s *Store) DeleteGroupOwned(ctx context.Context, group string, ownerRev int64) error {
	err := s.fencedTxn(ctx, group, ownerRev,
		clientv3.OpDelete(s.groupKey(group)),
		clientv3.OpDelete(s.groupOffsetsPrefix(group), clientv3.WithPrefix()),
	)
	if err != nil {
		return fmt.Errorf("metastore: delete group %q: %w", group, err)
	}
	return nil
}

// fencedTxn runs ops in one transaction, guarded by the group owner key's
// mod revision when ownerRev is not 0.
func (s *Store) fencedTxn(ctx context.Context, group string, ownerRev int64, ops ...clientv3.Op) error {
	txn := s.cli.Txn(ctx)
	if ownerRev != 0 {
		txn = txn.If(clientv3.Compare(clientv3.ModRevision(s.groupOwnerKey(group)), "=", ownerRev))
	}
	resp, err := txn.Then(ops...).Commit()
	if err != nil {
		return err
	}
	if !resp.Succeeded {
		return fmt.Errorf("group %q claimed by another coordinator: %w", group, ErrFenced)
	}
	return nil
}
