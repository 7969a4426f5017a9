package metastore

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrFenced means a write carried a partition leader epoch older than the
// stored one: the writer has been deposed and must stop.
var ErrFenced = errors.New("metastore: fenced by a newer leader epoch")

// RemoteSegment is one committed entry of a partition's remote segment
// manifest: a sealed segment uploaded to object storage.
type RemoteSegment struct {
	TopicID      [16]byte
	Partition    int32
	BaseOffset   int64
	LastOffset   int64
	LeaderEpoch  int32 // epoch of the leader that uploaded it
	MaxTimestamp int64
	Size         int64  // object size in bytes
	Object       string // object name in the bucket
	CommittedAt  int64  // unix milliseconds; set by CommitSegment when zero
}

type remoteSegmentValue struct {
	TopicID      string `json:"topicId"`
	Partition    int32  `json:"partition"`
	BaseOffset   int64  `json:"baseOffset"`
	LastOffset   int64  `json:"lastOffset"`
	LeaderEpoch  int32  `json:"leaderEpoch"`
	MaxTimestamp int64  `json:"maxTimestamp"`
	Size         int64  `json:"size"`
	Object       string `json:"object"`
	CommittedAt  int64  `json:"committedAt"`
}

func encodeRemoteSegment(seg RemoteSegment) (string, error) {
	b, err := json.Marshal(remoteSegmentValue{
		TopicID: hex.EncodeToString(seg.TopicID[:]), Partition: seg.Partition,
		BaseOffset: seg.BaseOffset, LastOffset: seg.LastOffset, LeaderEpoch: seg.LeaderEpoch,
		MaxTimestamp: seg.MaxTimestamp, Size: seg.Size, Object: seg.Object, CommittedAt: seg.CommittedAt,
	})
	return string(b), err
}

func decodeRemoteSegment(kv *mvccpb.KeyValue) (RemoteSegment, error) {
	var v remoteSegmentValue
	if err := json.Unmarshal(kv.Value, &v); err != nil {
		return RemoteSegment{}, fmt.Errorf("metastore: decode remote segment %q: %w", kv.Key, err)
	}
	seg := RemoteSegment{
		Partition: v.Partition, BaseOffset: v.BaseOffset, LastOffset: v.LastOffset,
		LeaderEpoch: v.LeaderEpoch, MaxTimestamp: v.MaxTimestamp, Size: v.Size,
		Object: v.Object, CommittedAt: v.CommittedAt,
	}
	if n, err := hex.Decode(seg.TopicID[:], []byte(v.TopicID)); err != nil || n != 16 || len(v.TopicID) != 32 {
		return RemoteSegment{}, fmt.Errorf("metastore: decode remote segment %q: bad topic id %q", kv.Key, v.TopicID)
	}
	return seg, nil
}

func validateRemoteSegment(seg RemoteSegment) error {
	switch {
	case seg.Object == "":
		return errors.New("metastore: remote segment has no object name")
	case seg.Partition < 0:
		return fmt.Errorf("metastore: remote segment %q: negative partition %d", seg.Object, seg.Partition)
	case seg.BaseOffset < 0 || seg.LastOffset < seg.BaseOffset:
		return fmt.Errorf("metastore: remote segment %q: bad offsets [%d,%d]", seg.Object, seg.BaseOffset, seg.LastOffset)
	case seg.Size < 0:
		return fmt.Errorf("metastore: remote segment %q: negative size", seg.Object)
	}
	return nil
}

// PartitionEpoch returns the stored leader epoch of a partition, or
// ErrNotFound if none has been stored.
func (s *Store) PartitionEpoch(ctx context.Context, topicID [16]byte, partition int32) (int32, error) {
	key := s.partitionEpochKey(topicID, partition)
	resp, err := s.cli.Get(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("metastore: get leader epoch of %x/%d: %w", topicID, partition, err)
	}
	if len(resp.Kvs) == 0 {
		return 0, fmt.Errorf("metastore: leader epoch of %x/%d: %w", topicID, partition, ErrNotFound)
	}
	return decodeEpoch(resp.Kvs[0])
}

func decodeEpoch(kv *mvccpb.KeyValue) (int32, error) {
	v, err := strconv.ParseInt(string(kv.Value), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("metastore: decode leader epoch %q: %w", kv.Key, err)
	}
	return int32(v), nil
}

// SetPartitionEpoch stores a partition's leader epoch (a new leader calls it
// once elected). Epochs only grow: a value lower than the stored one fails
// with ErrFenced; an equal one is a no-op.
func (s *Store) SetPartitionEpoch(ctx context.Context, topicID [16]byte, partition int32, epoch int32) error {
	if epoch < 0 {
		return fmt.Errorf("metastore: negative leader epoch %d", epoch)
	}
	key := s.partitionEpochKey(topicID, partition)
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		resp, err := s.cli.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("metastore: set leader epoch of %x/%d: %w", topicID, partition, err)
		}
		guard, stored, err := epochGuard(key, resp.Kvs)
		if err != nil {
			return err
		}
		if stored > epoch {
			return fmt.Errorf("metastore: set leader epoch of %x/%d to %d, stored %d: %w", topicID, partition, epoch, stored, ErrFenced)
		}
		if stored == epoch {
			return nil
		}
		tr, err := s.cli.Txn(ctx).If(guard).Then(clientv3.OpPut(key, strconv.Itoa(int(epoch)))).Commit()
		if err != nil {
			return fmt.Errorf("metastore: set leader epoch of %x/%d: %w", topicID, partition, err)
		}
		if tr.Succeeded {
			return nil
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
	return fmt.Errorf("metastore: set leader epoch of %x/%d: %w", topicID, partition, ErrConflict)
}

// epochGuard returns a comparison that holds while the epoch key is as read,
// and the stored epoch (-1 when absent).
func epochGuard(key string, kvs []*mvccpb.KeyValue) (clientv3.Cmp, int32, error) {
	if len(kvs) == 0 {
		return clientv3.Compare(clientv3.CreateRevision(key), "=", 0), -1, nil
	}
	e, err := decodeEpoch(kvs[0])
	if err != nil {
		return clientv3.Cmp{}, 0, err
	}
	return clientv3.Compare(clientv3.ModRevision(key), "=", kvs[0].ModRevision), e, nil
}

// CommitSegment adds seg to its partition's manifest in one etcd transaction
// guarded by the partition leader epoch: leaderEpoch is the committer's
// epoch; if the stored epoch is higher the commit fails with ErrFenced (a
// deposed leader's upload never enters the manifest); if it is higher than
// the stored one (or none is stored) the stored epoch is raised in the same
// transaction. A segment whose offsets overlap a committed one fails with
// ErrConflict, except that re-committing the identical entry (same base,
// last offset and object, e.g. a retry after a lost reply) succeeds.
func (s *Store) CommitSegment(ctx context.Context, seg RemoteSegment, leaderEpoch int32) error {
	if err := validateRemoteSegment(seg); err != nil {
		return err
	}
	if leaderEpoch < 0 {
		return fmt.Errorf("metastore: commit segment %q: negative leader epoch %d", seg.Object, leaderEpoch)
	}
	if seg.CommittedAt == 0 {
		seg.CommittedAt = time.Now().UnixMilli()
	}
	val, err := encodeRemoteSegment(seg)
	if err != nil {
		return fmt.Errorf("metastore: encode remote segment %q: %w", seg.Object, err)
	}
	epochKey := s.partitionEpochKey(seg.TopicID, seg.Partition)
	prefix := s.manifestPartitionPrefix(seg.TopicID, seg.Partition)
	end := clientv3.GetPrefixRangeEnd(prefix)
	key := s.manifestKey(seg.TopicID, seg.Partition, seg.BaseOffset)
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		// One consistent read: the epoch, the entry at or before seg's base
		// and the first entry after it.
		rd, err := s.cli.Txn(ctx).Then(
			clientv3.OpGet(epochKey),
			clientv3.OpGet(prefix, clientv3.WithRange(key+"\x00"), clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithLimit(1)),
			clientv3.OpGet(key+"\x00", clientv3.WithRange(end), clientv3.WithLimit(1)),
		).Commit()
		if err != nil {
			return fmt.Errorf("metastore: commit segment %q: %w", seg.Object, err)
		}
		guard, stored, err := epochGuard(epochKey, rd.Responses[0].GetResponseRange().Kvs)
		if err != nil {
			return err
		}
		if stored > leaderEpoch {
			return fmt.Errorf("metastore: commit segment %q with leader epoch %d, stored %d: %w", seg.Object, leaderEpoch, stored, ErrFenced)
		}
		if kvs := rd.Responses[1].GetResponseRange().Kvs; len(kvs) > 0 {
			prev, err := decodeRemoteSegment(kvs[0])
			if err != nil {
				return err
			}
			if prev.BaseOffset == seg.BaseOffset && prev.LastOffset == seg.LastOffset && prev.Object == seg.Object {
				return nil
			}
			if prev.LastOffset >= seg.BaseOffset {
				return fmt.Errorf("metastore: commit segment %q [%d,%d]: overlaps %q [%d,%d]: %w",
					seg.Object, seg.BaseOffset, seg.LastOffset, prev.Object, prev.BaseOffset, prev.LastOffset, ErrConflict)
			}
		}
		if kvs := rd.Responses[2].GetResponseRange().Kvs; len(kvs) > 0 {
			next, err := decodeRemoteSegment(kvs[0])
			if err != nil {
				return err
			}
			if next.BaseOffset <= seg.LastOffset {
				return fmt.Errorf("metastore: commit segment %q [%d,%d]: overlaps %q [%d,%d]: %w",
					seg.Object, seg.BaseOffset, seg.LastOffset, next.Object, next.BaseOffset, next.LastOffset, ErrConflict)
			}
		}
		ops := []clientv3.Op{clientv3.OpPut(key, val)}
		if leaderEpoch > stored {
			ops = append(ops, clientv3.OpPut(epochKey, strconv.Itoa(int(leaderEpoch))))
		}
		// No manifest entry of the partition created or changed since the read.
		unchanged := clientv3.Compare(clientv3.ModRevision(prefix), "<", rd.Header.Revision+1).WithRange(end)
		tr, err := s.cli.Txn(ctx).If(guard, unchanged).Then(ops...).Commit()
		if err != nil {
			return fmt.Errorf("metastore: commit segment %q: %w", seg.Object, err)
		}
		if tr.Succeeded {
			return nil
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
	return fmt.Errorf("metastore: commit segment %q after %d attempts: %w", seg.Object, maxUpdateAttempts, ErrConflict)
}

// ListSegments returns a partition's committed remote segments sorted by
// base offset.
func (s *Store) ListSegments(ctx context.Context, topicID [16]byte, partition int32) ([]RemoteSegment, error) {
	resp, err := s.cli.Get(ctx, s.manifestPartitionPrefix(topicID, partition), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("metastore: list segments of %x/%d: %w", topicID, partition, err)
	}
	out := make([]RemoteSegment, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		seg, err := decodeRemoteSegment(kv)
		if err != nil {
			return nil, err
		}
		out = append(out, seg)
	}
	sortSegments(out)
	return out, nil
}

func sortSegments(segs []RemoteSegment) {
	slices.SortFunc(segs, func(a, b RemoteSegment) int {
		switch {
		case a.BaseOffset < b.BaseOffset:
			return -1
		case a.BaseOffset > b.BaseOffset:
			return 1
		}
		return 0
	})
}

// DeleteSegments removes from a partition's manifest every segment wholly
// below uptoOffset (LastOffset < uptoOffset) in one transaction and returns
// the removed entries, sorted by base offset, so the caller can delete their
// objects afterwards (manifest first, objects second).
func (s *Store) DeleteSegments(ctx context.Context, topicID [16]byte, partition int32, uptoOffset int64) ([]RemoteSegment, error) {
	if uptoOffset <= 0 {
		return nil, nil
	}
	prefix := s.manifestPartitionPrefix(topicID, partition)
	end := clientv3.GetPrefixRangeEnd(prefix)
	uptoKey := s.manifestKey(topicID, partition, uptoOffset)
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		// The entry at or before uptoOffset decides where deletion stops:
		// it is kept if it reaches uptoOffset.
		rd, err := s.cli.Get(ctx, prefix, clientv3.WithRange(uptoKey+"\x00"),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend), clientv3.WithLimit(1))
		if err != nil {
			return nil, fmt.Errorf("metastore: delete segments of %x/%d: %w", topicID, partition, err)
		}
		if len(rd.Kvs) == 0 {
			return nil, nil
		}
		stop := uptoKey + "\x00"
		last, err := decodeRemoteSegment(rd.Kvs[0])
		if err != nil {
			return nil, err
		}
		if last.LastOffset >= uptoOffset {
			stop = string(rd.Kvs[0].Key)
		}
		unchanged := clientv3.Compare(clientv3.ModRevision(prefix), "<", rd.Header.Revision+1).WithRange(end)
		tr, err := s.cli.Txn(ctx).If(unchanged).
			Then(clientv3.OpDelete(prefix, clientv3.WithRange(stop), clientv3.WithPrevKV())).Commit()
		if err != nil {
			return nil, fmt.Errorf("metastore: delete segments of %x/%d: %w", topicID, partition, err)
		}
		if !tr.Succeeded {
			if err := backoff(ctx, attempt); err != nil {
				return nil, err
			}
			continue
		}
		var out []RemoteSegment
		for _, kv := range tr.Responses[0].GetResponseDeleteRange().PrevKvs {
			seg, err := decodeRemoteSegment(kv)
			if err != nil {
				s.logger.Error("deleted undecodable manifest entry", "key", string(kv.Key), "err", err)
				continue
			}
			out = append(out, seg)
		}
		sortSegments(out)
		return out, nil
	}
	return nil, fmt.Errorf("metastore: delete segments of %x/%d after %d attempts: %w", topicID, partition, maxUpdateAttempts, ErrConflict)
}

// manifestPageSize bounds one read of the manifest listing.
const manifestPageSize = 1000

// WatchManifest reports the remote segment manifest of every partition: first
// each committed entry (deleted=false), then every commit and deletion as it
// happens, until ctx is done or the store is closed (then it returns nil).
// Calls are sequential; fn must not block for long. If the watch falls
// behind a compaction or is cut off it re-lists, reporting what changed in
// between (entries gone are reported deleted), and carries on.
func (s *Store) WatchManifest(ctx context.Context, fn func(seg RemoteSegment, deleted bool)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.ctx, cancel)()
	known := map[string]RemoteSegment{}
	for {
		rev, err := s.relistManifest(ctx, known, fn)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wctx, wcancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		wch := s.cli.Watch(wctx, s.manifestPrefix(), clientv3.WithPrefix(), clientv3.WithRev(rev+1), clientv3.WithPrevKV())
		err = s.followManifest(wch, known, fn)
		wcancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.logger.Info("manifest watch ended; re-listing", "err", err)
		} else {
			s.logger.Warn("manifest watch closed; re-listing")
		}
		if err := backoff(ctx, 50); err != nil {
			return nil
		}
	}
}

// relistManifest reads the whole manifest at one revision in pages, reports
// the difference from known (and updates it), and returns the revision.
func (s *Store) relistManifest(ctx context.Context, known map[string]RemoteSegment, fn func(RemoteSegment, bool)) (int64, error) {
	prefix := s.manifestPrefix()
	end := clientv3.GetPrefixRangeEnd(prefix)
	from, rev := prefix, int64(0)
	seen := make(map[string]bool, len(known))
	var changed []RemoteSegment
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(manifestPageSize)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.cli.Get(ctx, from, opts...)
		if err != nil {
			return 0, fmt.Errorf("metastore: list manifest: %w", err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			key := string(kv.Key)
			seen[key] = true
			seg, err := decodeRemoteSegment(kv)
			if err != nil {
				s.logger.Error("skipping undecodable manifest entry", "key", key, "err", err)
				continue
			}
			if old, ok := known[key]; !ok || old != seg {
				known[key] = seg
				changed = append(changed, seg)
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	for key, seg := range known {
		if !seen[key] {
			delete(known, key)
			fn(seg, true)
		}
	}
	for _, seg := range changed {
		fn(seg, false)
	}
	return rev, nil
}

// followManifest applies watch events to known and reports each.
func (s *Store) followManifest(wch clientv3.WatchChan, known map[string]RemoteSegment, fn func(RemoteSegment, bool)) error {
	for resp := range wch {
		if err := resp.Err(); err != nil {
			return err
		}
		for _, ev := range resp.Events {
			key := string(ev.Kv.Key)
			switch ev.Type {
			case mvccpb.PUT:
				seg, err := decodeRemoteSegment(ev.Kv)
				if err != nil {
					s.logger.Error("skipping undecodable manifest entry", "key", key, "err", err)
					continue
				}
				known[key] = seg
				fn(seg, false)
			case mvccpb.DELETE:
				seg, ok := known[key]
				if ev.PrevKv != nil {
					if prev, err := decodeRemoteSegment(ev.PrevKv); err == nil {
						seg, ok = prev, true
					}
				}
				delete(known, key)
				if ok {
					fn(seg, true)
				}
			}
		}
	}
	return nil
}
