package metastore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// BrokerTTL is how long a broker registration outlives its last keep-alive.
const BrokerTTL = 10 * time.Second

// BrokerInfo is a live broker's registration.
type BrokerInfo struct {
	NodeID int32
	Host   string
	Port   int32
	Rack   string
}

type brokerValue struct {
	NodeID int32  `json:"nodeId"`
	Host   string `json:"host"`
	Port   int32  `json:"port"`
	Rack   string `json:"rack,omitempty"`
}

// RegisterBroker publishes b on a lease that is kept alive until ctx is done
// or the store is closed; after that the registration disappears within
// BrokerTTL (at once on Close, which revokes the lease). If the lease is lost
// (e.g. etcd was unreachable for longer than the TTL) the registration is
// re-created. A registration left by an earlier, dead incarnation of the same
// node id is taken over.
func (s *Store) RegisterBroker(ctx context.Context, b BrokerInfo) error {
	val, err := json.Marshal(brokerValue(b))
	if err != nil {
		return fmt.Errorf("metastore: encode broker %d: %w", b.NodeID, err)
	}
	lease, err := s.putBroker(ctx, b.NodeID, val)
	if err != nil {
		return err
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("metastore: register broker: store closed")
	}
	s.leases = append(s.leases, lease)
	s.wg.Add(1)
	s.mu.Unlock()

	// Keep alive until ctx or the store is done.
	kctx, cancel := context.WithCancel(s.ctx)
	stop := context.AfterFunc(ctx, cancel)
	go func() {
		defer s.wg.Done()
		defer cancel()
		defer stop()
		s.keepBroker(kctx, b.NodeID, val, lease)
	}()
	return nil
}

// putBroker grants a fresh lease and writes the registration on it.
func (s *Store) putBroker(ctx context.Context, nodeID int32, val []byte) (clientv3.LeaseID, error) {
	grant, err := s.cli.Grant(ctx, int64(BrokerTTL/time.Second))
	if err != nil {
		return 0, fmt.Errorf("metastore: register broker %d: grant lease: %w", nodeID, err)
	}
	if _, err := s.cli.Put(ctx, s.brokerKey(nodeID), string(val), clientv3.WithLease(grant.ID)); err != nil {
		return 0, fmt.Errorf("metastore: register broker %d: %w", nodeID, err)
	}
	return grant.ID, nil
}

// keepBroker keeps lease alive, re-registering on a new lease if it is lost,
// until ctx is done. When ctx ends because the caller's ctx ended (not Close),
// the lease is revoked so the broker disappears promptly.
func (s *Store) keepBroker(ctx context.Context, nodeID int32, val []byte, lease clientv3.LeaseID) {
	for attempt := 0; ; {
		ch, err := s.cli.KeepAlive(ctx, lease)
		if err == nil {
			for range ch {
				attempt = 0
			}
		}
		if ctx.Err() != nil {
			if s.ctx.Err() == nil { // caller's ctx ended, store still open
				rctx, cancel := context.WithTimeout(s.ctx, 2*time.Second)
				_, _ = s.cli.Revoke(rctx, lease)
				cancel()
				s.forgetLease(lease)
			}
			return
		}
		s.logger.Warn("broker registration lease lost; re-registering", "node", nodeID, "err", err)
		if err := backoff(ctx, min(attempt*100, 1000)); err != nil {
			continue // ctx done: handled at the top of the next round
		}
		attempt++
		if newLease, err := s.putBroker(ctx, nodeID, val); err == nil {
			s.replaceLease(lease, newLease)
			lease = newLease
		}
	}
}

func (s *Store) forgetLease(id clientv3.LeaseID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leases = slices.DeleteFunc(s.leases, func(l clientv3.LeaseID) bool { return l == id })
}

func (s *Store) replaceLease(old, new clientv3.LeaseID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, l := range s.leases {
		if l == old {
			s.leases[i] = new
		}
	}
}

// ListBrokers returns the currently registered brokers sorted by node id.
func (s *Store) ListBrokers(ctx context.Context) ([]BrokerInfo, error) {
	resp, err := s.cli.Get(ctx, s.brokersPrefix(), clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("metastore: list brokers: %w", err)
	}
	out := make([]BrokerInfo, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var v brokerValue
		if err := json.Unmarshal(kv.Value, &v); err != nil {
			return nil, fmt.Errorf("metastore: decode broker %q: %w", kv.Key, err)
		}
		out = append(out, BrokerInfo(v))
	}
	slices.SortFunc(out, func(a, b BrokerInfo) int { return cmp.Compare(a.NodeID, b.NodeID) })
	return out, nil
}
