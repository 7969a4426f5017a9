package metastore

import (
	"context"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// AllocateProducerIDs reserves a block of size producer ids and returns its
// first id; the block is [start, start+size). Blocks never overlap, across
// brokers and restarts: the next free id is a counter key advanced by
// compare-and-swap.
func (s *Store) AllocateProducerIDs(ctx context.Context, size int64) (int64, error) {
	if size < 1 {
		return 0, fmt.Errorf("metastore: producer id block size must be >= 1, got %d", size)
	}
	key := s.producerIDKey()
	for attempt := 0; ; attempt++ {
		resp, err := s.cli.Get(ctx, key)
		if err != nil {
			return 0, fmt.Errorf("metastore: read producer id counter: %w", err)
		}
		var start, rev int64
		if len(resp.Kvs) > 0 {
			kv := resp.Kvs[0]
			start, err = strconv.ParseInt(string(kv.Value), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("metastore: bad producer id counter %q: %w", kv.Value, err)
			}
			rev = kv.ModRevision
		}
		if start > (1<<63-1)-size {
			return 0, fmt.Errorf("metastore: producer ids exhausted at %d", start)
		}
		txn, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
			Then(clientv3.OpPut(key, strconv.FormatInt(start+size, 10))).
			Commit()
		if err != nil {
			return 0, fmt.Errorf("metastore: advance producer id counter: %w", err)
		}
		if txn.Succeeded {
			return start, nil
		}
		if err := backoff(ctx, min(attempt, 20)); err != nil {
			return 0, fmt.Errorf("metastore: allocate producer ids: %w", err)
		}
	}
}
