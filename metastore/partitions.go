package metastore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// PartitionID names one partition of a topic.
type PartitionID struct {
	TopicID   [16]byte
	Partition int32
}

func (id PartitionID) String() string { return topicPartitionPath(id.TopicID, id.Partition) }

// PartitionState is a partition's replica assignment and leadership, stored at
// partitions/<topic-id hex>/<partition> and changed only by compare-and-swap
// on Revision.
type PartitionState struct {
	TopicID   [16]byte
	Partition int32
	// Replicas in preference order; Replicas[0] is the preferred leader.
	Replicas    []int32
	Leader      int32 // -1: no leader
	LeaderEpoch int32
	ISR         []int32
	// TargetReplicas is non-nil while a reassignment is in progress.
	TargetReplicas []int32
	// Revision is the etcd mod revision, filled on read; the CAS token. Zero
	// means "create" for the writes that allow it.
	Revision int64
}

// ID returns the partition's identity.
func (st PartitionState) ID() PartitionID {
	return PartitionID{TopicID: st.TopicID, Partition: st.Partition}
}

// Clone returns a deep copy (slices are not shared).
func (st PartitionState) Clone() PartitionState {
	st.Replicas = slices.Clone(st.Replicas)
	st.ISR = slices.Clone(st.ISR)
	st.TargetReplicas = slices.Clone(st.TargetReplicas)
	return st
}

type partitionValue struct {
	Replicas       []int32 `json:"replicas"`
	Leader         int32   `json:"leader"`
	LeaderEpoch    int32   `json:"leaderEpoch"`
	ISR            []int32 `json:"isr"`
	TargetReplicas []int32 `json:"targetReplicas,omitempty"`
}

func encodePartitionState(st PartitionState) (string, error) {
	b, err := json.Marshal(partitionValue{Replicas: st.Replicas, Leader: st.Leader, LeaderEpoch: st.LeaderEpoch,
		ISR: st.ISR, TargetReplicas: st.TargetReplicas})
	return string(b), err
}

func (s *Store) decodePartitionState(kv *mvccpb.KeyValue) (PartitionState, error) {
	id, err := s.parsePartitionKey(string(kv.Key))
	if err != nil {
		return PartitionState{}, err
	}
	var v partitionValue
	if err := json.Unmarshal(kv.Value, &v); err != nil {
		return PartitionState{}, fmt.Errorf("metastore: decode partition state %q: %w", kv.Key, err)
	}
	return PartitionState{TopicID: id.TopicID, Partition: id.Partition, Replicas: v.Replicas, Leader: v.Leader,
		LeaderEpoch: v.LeaderEpoch, ISR: v.ISR, TargetReplicas: v.TargetReplicas, Revision: kv.ModRevision}, nil
}

func validatePartitionState(st PartitionState) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("metastore: partition state %x/%d: %s", st.TopicID, st.Partition, fmt.Sprintf(format, args...))
	}
	switch {
	case st.TopicID == [16]byte{}:
		return bad("zero topic id")
	case st.Partition < 0:
		return bad("negative partition")
	case len(st.Replicas) == 0:
		return bad("no replicas")
	case st.LeaderEpoch < 0:
		return bad("negative leader epoch %d", st.LeaderEpoch)
	case st.Leader != -1 && !slices.Contains(st.Replicas, st.Leader):
		return bad("leader %d not a replica %v", st.Leader, st.Replicas)
	case st.TargetReplicas != nil && len(st.TargetReplicas) == 0:
		return bad("empty target replicas")
	}
	for _, list := range [][]int32{st.Replicas, st.ISR, st.TargetReplicas} {
		sorted := slices.Clone(list)
		slices.Sort(sorted)
		if len(slices.Compact(sorted)) != len(list) {
			return bad("duplicate broker in %v", list)
		}
	}
	for _, r := range st.ISR {
		if !slices.Contains(st.Replicas, r) {
			return bad("ISR member %d not a replica %v", r, st.Replicas)
		}
	}
	return nil
}

func sortPartitionStates(sts []PartitionState) {
	slices.SortFunc(sts, func(a, b PartitionState) int {
		if c := slices.Compare(a.TopicID[:], b.TopicID[:]); c != 0 {
			return c
		}
		return cmp.Compare(a.Partition, b.Partition)
	})
}

// MaxPartitionStatesPerTxn is how many partition states one write
// (CreatePartitionStates, PutPartitionStatesAs) may carry.
func (s *Store) MaxPartitionStatesPerTxn() int { return max(1, (s.maxTxnOps-2)/2) }

// CreatePartitionStates creates every state (Revision ignored) in one
// transaction, or none: ErrExists if any already exists. A state whose
// LeaderEpoch is above the stored leaderepochs value raises it; one below it
// fails with ErrFenced.
func (s *Store) CreatePartitionStates(ctx context.Context, states []PartitionState) error {
	states = slices.Clone(states)
	for i := range states {
		states[i].Revision = 0
	}
	_, err := s.writePartitionStates(ctx, "create partition states", states, nil, ErrExists)
	return err
}

// GetPartitionState returns one partition's state or ErrNotFound.
func (s *Store) GetPartitionState(ctx context.Context, id PartitionID) (PartitionState, error) {
	resp, err := s.cli.Get(ctx, s.partitionKey(id.TopicID, id.Partition))
	if err != nil {
		return PartitionState{}, fmt.Errorf("metastore: get partition state %s: %w", id, err)
	}
	if len(resp.Kvs) == 0 {
		return PartitionState{}, fmt.Errorf("metastore: partition state %s: %w", id, ErrNotFound)
	}
	return s.decodePartitionState(resp.Kvs[0])
}

// ListPartitionStates returns every partition state sorted by topic id, then
// partition.
func (s *Store) ListPartitionStates(ctx context.Context) ([]PartitionState, error) {
	sts, _, err := s.listPartitionStates(ctx)
	return sts, err
}

func (s *Store) listPartitionStates(ctx context.Context) ([]PartitionState, int64, error) {
	resp, err := s.cli.Get(ctx, s.partitionsPrefix(), clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("metastore: list partition states: %w", err)
	}
	out := make([]PartitionState, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		st, err := s.decodePartitionState(kv)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, st)
	}
	sortPartitionStates(out)
	return out, resp.Header.Revision, nil
}

// PutPartitionState overwrites a state only if its stored revision still
// equals st.Revision (ErrConflict otherwise, ErrNotFound if it is gone;
// Revision 0 creates). If st.LeaderEpoch is above the stored leaderepochs
// value that key is raised in the same transaction; below it the write fails
// with ErrFenced.
func (s *Store) PutPartitionState(ctx context.Context, st PartitionState) (PartitionState, error) {
	out, err := s.writePartitionStates(ctx, "put partition state", []PartitionState{st}, nil, ErrConflict)
	if err != nil {
		return PartitionState{}, err
	}
	return out[0], nil
}

// UpdatePartitionState reads the state, applies fn to a copy and writes it
// back with PutPartitionState, retrying from the read on a conflict. An error
// from fn aborts the update and is returned wrapped.
func (s *Store) UpdatePartitionState(ctx context.Context, id PartitionID, fn func(*PartitionState) error) (PartitionState, error) {
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		cur, err := s.GetPartitionState(ctx, id)
		if err != nil {
			return PartitionState{}, err
		}
		next := cur.Clone()
		if err := fn(&next); err != nil {
			return PartitionState{}, fmt.Errorf("metastore: update partition state %s: %w", id, err)
		}
		if next.ID() != id {
			return PartitionState{}, fmt.Errorf("metastore: update partition state %s: the partition cannot change", id)
		}
		next.Revision = cur.Revision
		out, err := s.PutPartitionState(ctx, next)
		if errors.Is(err, ErrConflict) {
			if err := backoff(ctx, attempt); err != nil {
				return PartitionState{}, err
			}
			continue
		}
		return out, err
	}
	return PartitionState{}, fmt.Errorf("metastore: update partition state %s after %d attempts: %w", id, maxUpdateAttempts, ErrConflict)
}

// writeGuard is an extra transaction condition: key must exist with this
// create revision (a controller's election key), else ErrFenced.
type writeGuard struct {
	key       string
	createRev int64
}

// writePartitionStates writes states in one transaction: each is compared on
// its revision (0: must not exist; failing that gives createErr), each epoch
// key on its value as read, plus the optional guard. Epoch keys that changed
// in between are re-read and the write retried.
func (s *Store) writePartitionStates(ctx context.Context, what string, states []PartitionState, guard *writeGuard, createErr error) ([]PartitionState, error) {
	if len(states) == 0 {
		return nil, nil
	}
	if len(states) > s.MaxPartitionStatesPerTxn() {
		return nil, fmt.Errorf("metastore: %s: %d states in one transaction, at most %d", what, len(states), s.MaxPartitionStatesPerTxn())
	}
	vals := make([]string, len(states))
	stateKeys := make([]string, len(states))
	epochKeys := make([]string, len(states))
	seen := map[PartitionID]bool{}
	for i, st := range states {
		if err := validatePartitionState(st); err != nil {
			return nil, err
		}
		if seen[st.ID()] {
			return nil, fmt.Errorf("metastore: %s: partition %s twice", what, st.ID())
		}
		seen[st.ID()] = true
		v, err := encodePartitionState(st)
		if err != nil {
			return nil, fmt.Errorf("metastore: %s: encode %s: %w", what, st.ID(), err)
		}
		vals[i], stateKeys[i], epochKeys[i] = v, s.partitionKey(st.TopicID, st.Partition), s.partitionEpochKey(st.TopicID, st.Partition)
	}
	// Current epoch keys.
	gets := make([]clientv3.Op, len(epochKeys))
	for i, k := range epochKeys {
		gets[i] = clientv3.OpGet(k)
	}
	resp, err := s.cli.Txn(ctx).Then(gets...).Commit()
	if err != nil {
		return nil, fmt.Errorf("metastore: %s: read leader epochs: %w", what, err)
	}
	epochKvs := make([][]*mvccpb.KeyValue, len(states))
	for i := range states {
		epochKvs[i] = resp.Responses[i].GetResponseRange().Kvs
	}

	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		var cmps []clientv3.Cmp
		var ops, elseOps []clientv3.Op
		if guard != nil {
			cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(guard.key), "=", guard.createRev))
		}
		for i, st := range states {
			if st.Revision == 0 {
				cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(stateKeys[i]), "=", 0))
			} else {
				cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(stateKeys[i]), "=", st.Revision))
			}
			eg, stored, err := epochGuard(epochKeys[i], epochKvs[i])
			if err != nil {
				return nil, err
			}
			if stored > st.LeaderEpoch {
				// A state read before a newer epoch was written: that is a
				// conflict (re-read and retry), not a fence.
				if moved, err := s.stateMoved(ctx, stateKeys[i], st.Revision); err != nil {
					return nil, fmt.Errorf("metastore: %s: %w", what, err)
				} else if moved && st.Revision == 0 {
					return nil, fmt.Errorf("metastore: %s: %s: %w", what, st.ID(), createErr)
				} else if moved {
					return nil, fmt.Errorf("metastore: %s: %s at revision %d: %w", what, st.ID(), st.Revision, ErrConflict)
				}
				return nil, fmt.Errorf("metastore: %s: %s at leader epoch %d, stored %d: %w", what, st.ID(), st.LeaderEpoch, stored, ErrFenced)
			}
			cmps = append(cmps, eg)
			ops = append(ops, clientv3.OpPut(stateKeys[i], vals[i]))
			if st.LeaderEpoch > stored {
				ops = append(ops, clientv3.OpPut(epochKeys[i], strconv.Itoa(int(st.LeaderEpoch))))
			}
			elseOps = append(elseOps, clientv3.OpGet(stateKeys[i], clientv3.WithKeysOnly()), clientv3.OpGet(epochKeys[i]))
		}
		if guard != nil {
			elseOps = append(elseOps, clientv3.OpGet(guard.key, clientv3.WithKeysOnly()))
		}
		resp, err := s.cli.Txn(ctx).If(cmps...).Then(ops...).Else(elseOps...).Commit()
		if err != nil {
			return nil, fmt.Errorf("metastore: %s: %w", what, err)
		}
		if resp.Succeeded {
			out := make([]PartitionState, len(states))
			for i, st := range states {
				out[i] = st.Clone()
				out[i].Revision = resp.Header.Revision
			}
			return out, nil
		}
		if guard != nil {
			kvs := resp.Responses[len(elseOps)-1].GetResponseRange().Kvs
			if len(kvs) == 0 || kvs[0].CreateRevision != guard.createRev {
				return nil, fmt.Errorf("metastore: %s: controller leadership lost: %w", what, ErrFenced)
			}
		}
		for i, st := range states {
			kvs := resp.Responses[2*i].GetResponseRange().Kvs
			switch {
			case st.Revision == 0 && len(kvs) > 0:
				return nil, fmt.Errorf("metastore: %s: %s: %w", what, st.ID(), createErr)
			case st.Revision != 0 && len(kvs) == 0:
				return nil, fmt.Errorf("metastore: %s: %s: %w", what, st.ID(), ErrNotFound)
			case st.Revision != 0 && kvs[0].ModRevision != st.Revision:
				return nil, fmt.Errorf("metastore: %s: %s at revision %d: %w", what, st.ID(), st.Revision, ErrConflict)
			}
			epochKvs[i] = resp.Responses[2*i+1].GetResponseRange().Kvs
		}
		// Only epoch keys moved: retry against their new values.
	}
	return nil, fmt.Errorf("metastore: %s: leader epochs kept changing: %w", what, ErrConflict)
}

// WatchPartitionStates calls fn(all, nil) once with every state, then
// fn(changed, deleted) for each batch of changes, until ctx is done or the
// store is closed (then it returns nil). If the watch falls behind a
// compaction it re-lists and calls fn(all, deletedSinceLast). Calls are
// sequential; fn must not block for long.
func (s *Store) WatchPartitionStates(ctx context.Context, fn func(changed []PartitionState, deleted []PartitionID)) error {
	known := map[PartitionID]bool{}
	relist := func(ctx context.Context) (int64, error) {
		sts, rev, err := s.listPartitionStates(ctx)
		if err != nil {
			return 0, err
		}
		now := make(map[PartitionID]bool, len(sts))
		for _, st := range sts {
			now[st.ID()] = true
		}
		var deleted []PartitionID
		for id := range known {
			if !now[id] {
				deleted = append(deleted, id)
			}
		}
		sortPartitionIDs(deleted)
		known = now
		fn(sts, deleted)
		return rev, nil
	}
	onEvents := func(evs []*clientv3.Event) {
		var changed []PartitionState
		var deleted []PartitionID
		for _, ev := range evs {
			key := string(ev.Kv.Key)
			if ev.Type == clientv3.EventTypeDelete {
				id, err := s.parsePartitionKey(key)
				if err != nil {
					continue
				}
				delete(known, id)
				changed = slices.DeleteFunc(changed, func(st PartitionState) bool { return st.ID() == id })
				deleted = append(deleted, id)
				continue
			}
			st, err := s.decodePartitionState(ev.Kv)
			if err != nil {
				s.logger.Error("skipping undecodable partition state", "key", key, "err", err)
				continue
			}
			known[st.ID()] = true
			deleted = slices.DeleteFunc(deleted, func(id PartitionID) bool { return id == st.ID() })
			changed = slices.DeleteFunc(changed, func(c PartitionState) bool { return c.ID() == st.ID() })
			changed = append(changed, st)
		}
		sortPartitionStates(changed)
		sortPartitionIDs(deleted)
		fn(changed, deleted)
	}
	return s.watchPrefix(ctx, "partition states", s.partitionsPrefix(), relist, onEvents)
}

func sortPartitionIDs(ids []PartitionID) {
	slices.SortFunc(ids, func(a, b PartitionID) int {
		if c := slices.Compare(a.TopicID[:], b.TopicID[:]); c != 0 {
			return c
		}
		return cmp.Compare(a.Partition, b.Partition)
	})
}

// watchPrefix runs relist (which reports the full state and returns the etcd
// revision it read at), then feeds every later watch response under prefix to
// onEvents, re-listing when the watch is compacted away or closes. It returns
// nil once ctx is done or the store is closed.
func (s *Store) watchPrefix(ctx context.Context, what, prefix string, relist func(context.Context) (int64, error), onEvents func([]*clientv3.Event)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.ctx, cancel)()
	for {
		rev, err := relist(ctx)
		if err != nil {
			if ctx.Err() != nil || s.ctx.Err() != nil { // done, or the store closed under the call
				return nil
			}
			return fmt.Errorf("metastore: watch %s: %w", what, err)
		}
		wctx, wcancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		wch := s.cli.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		err = nil
		for resp := range wch {
			if err = resp.Err(); err != nil {
				break
			}
			if len(resp.Events) > 0 {
				onEvents(resp.Events)
			}
		}
		wcancel()
		if ctx.Err() != nil || s.ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, rpctypes.ErrCompacted) {
			s.logger.Info("watch compacted; re-listing", "what", what)
			continue
		}
		s.logger.Warn("watch closed; re-listing", "what", what, "err", err)
		if err := backoff(ctx, 50); err != nil {
			return nil
		}
	}
}

// stateMoved reports whether the partition state at key changed since
// revision (0: whether it was created since it was found absent).
func (s *Store) stateMoved(ctx context.Context, key string, revision int64) (bool, error) {
	resp, err := s.cli.Get(ctx, key, clientv3.WithKeysOnly())
	if err != nil {
		return false, fmt.Errorf("read partition state: %w", err)
	}
	if revision == 0 {
		return len(resp.Kvs) > 0, nil
	}
	return len(resp.Kvs) == 0 || resp.Kvs[0].ModRevision != revision, nil
}
