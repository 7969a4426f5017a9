package metastore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// WatchTopics calls fn with the full, name-sorted topic list once at start and
// again after every change, until ctx is done or the store is closed (then it
// returns nil). Calls are
// sequential; fn must not block for long. If the watch falls behind a
// compaction it re-lists and carries on.
func (s *Store) WatchTopics(ctx context.Context, fn func([]Topic)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.ctx, cancel)()
	prefix := s.topicsPrefix()
	for {
		topics, rev, err := s.listTopics(ctx)
		if err != nil {
			// The store's context is checked too: Close cancels ctx through
			// an AfterFunc, which may not have run yet when the closed
			// client fails the call.
			if ctx.Err() != nil || s.ctx.Err() != nil {
				return nil
			}
			return err
		}
		byKey := make(map[string]Topic, len(topics))
		for _, t := range topics {
			byKey[s.topicKey(t.Name)] = t
		}
		fn(topics)

		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		wch := s.cli.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		err = s.followTopics(wch, byKey, fn)
		cancel()
		if ctx.Err() != nil || s.ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, rpctypes.ErrCompacted) {
			s.logger.Info("topic watch compacted; re-listing")
			continue
		}
		if err != nil {
			return fmt.Errorf("metastore: watch topics: %w", err)
		}
		// Channel closed without ctx done (e.g. leader lost): start over.
		s.logger.Warn("topic watch closed; re-listing")
		if err := backoff(ctx, 50); err != nil {
			return nil
		}
	}
}

// followTopics applies watch events to byKey and reports each batch.
func (s *Store) followTopics(wch clientv3.WatchChan, byKey map[string]Topic, fn func([]Topic)) error {
	for resp := range wch {
		if err := resp.Err(); err != nil {
			return err
		}
		if len(resp.Events) == 0 {
			continue
		}
		for _, ev := range resp.Events {
			key := string(ev.Kv.Key)
			switch ev.Type {
			case mvccpb.PUT:
				t, err := decodeTopic(ev.Kv)
				if err != nil {
					s.logger.Error("skipping undecodable topic", "key", key, "err", err)
					continue
				}
				byKey[key] = t
			case mvccpb.DELETE:
				delete(byKey, key)
			}
		}
		topics := slices.Collect(maps.Values(byKey))
		sortTopics(topics)
		fn(topics)
	}
	return nil
}
