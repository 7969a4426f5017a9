package metastore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// BrokerTTL is the default broker session timeout: how long a broker
// registration outlives its last keep-alive. Failover (a controller noticing
// the registration is gone and electing new leaders) completes within about
// this plus a second or two.
const BrokerTTL = 4 * time.Second

// minLeaseTTL is the shortest lease etcd grants with its default heartbeat
// (1.5 x election timeout, rounded up to whole seconds).
const minLeaseTTL = 2 * time.Second

// BrokerInfo is a live broker's registration.
type BrokerInfo struct {
	NodeID int32
	Host   string
	Port   int32
	Rack   string
	// ShuttingDown is set by a broker in controlled shutdown: the controller
	// moves its leaderships away and assigns it nothing new.
	ShuttingDown bool

	// Incarnation identifies one registration of the node id: the etcd lease
	// the registration key is attached to. Every (re)registration — a
	// restarted process, or a session re-created after its lease was lost —
	// is a new incarnation. Filled on read (ListBrokers, WatchBrokers); not
	// stored in the value.
	Incarnation int64
	// Revision is the etcd mod revision of the registration key as read: the
	// put that started this incarnation, or a later update of it (such as
	// SetShuttingDown). Filled on read; not stored in the value.
	Revision int64
}

type brokerValue struct {
	NodeID       int32  `json:"nodeId"`
	Host         string `json:"host"`
	Port         int32  `json:"port"`
	Rack         string `json:"rack,omitempty"`
	ShuttingDown bool   `json:"shuttingDown,omitempty"`
}

func encodeBroker(b BrokerInfo) brokerValue {
	return brokerValue{NodeID: b.NodeID, Host: b.Host, Port: b.Port, Rack: b.Rack, ShuttingDown: b.ShuttingDown}
}

// decodeBroker decodes a registration key-value, filling Incarnation and
// Revision from the key's lease and mod revision.
func decodeBroker(kv *mvccpb.KeyValue) (BrokerInfo, error) {
	var v brokerValue
	if err := json.Unmarshal(kv.Value, &v); err != nil {
		return BrokerInfo{}, fmt.Errorf("metastore: decode broker %q: %w", kv.Key, err)
	}
	return BrokerInfo{NodeID: v.NodeID, Host: v.Host, Port: v.Port, Rack: v.Rack, ShuttingDown: v.ShuttingDown,
		Incarnation: kv.Lease, Revision: kv.ModRevision}, nil
}

// BrokerSession is a broker registration on an etcd lease, kept alive in the
// background until the context given to RegisterBrokerSession is done or the
// store is closed. If the lease is lost it is re-created on a new lease.
type BrokerSession struct {
	s      *Store
	nodeID int32
	ttl    time.Duration

	mu         sync.Mutex
	info       BrokerInfo
	lease      clientv3.LeaseID
	revision   int64 // mod revision of the latest registration put (a new lease)
	validUntil time.Time
	lost       chan struct{} // closed (and replaced) each time the lease is lost
	done       chan struct{} // closed when the keep-alive loop has ended
}

// leaseSeconds converts a session timeout to a whole-second lease TTL, at
// least etcd's minimum.
func leaseSeconds(ttl time.Duration) int64 {
	ttl = max(ttl, minLeaseTTL)
	return int64((ttl + time.Second - 1) / time.Second)
}

// RegisterBroker publishes b on a lease of BrokerTTL that is kept alive until
// ctx is done or the store is closed; after that the registration disappears
// within BrokerTTL (at once on Close or when ctx ends, which revoke the
// lease). If the lease is lost (e.g. etcd was unreachable for longer than the
// TTL) the registration is re-created. A registration left by an earlier,
// dead incarnation of the same node id is taken over.
func (s *Store) RegisterBroker(ctx context.Context, b BrokerInfo) error {
	_, err := s.RegisterBrokerSession(ctx, b, BrokerTTL)
	return err
}

// RegisterBrokerSession is RegisterBroker with an explicit session timeout
// (ttl, rounded up to whole seconds, at least 2 s). Keep-alives are sent every
// third of the TTL. The returned session tells how long the broker may assume
// its registration is still valid (ValidUntil).
func (s *Store) RegisterBrokerSession(ctx context.Context, b BrokerInfo, ttl time.Duration) (*BrokerSession, error) {
	b.Incarnation, b.Revision = 0, 0
	val, err := json.Marshal(encodeBroker(b))
	if err != nil {
		return nil, fmt.Errorf("metastore: encode broker %d: %w", b.NodeID, err)
	}
	bs := &BrokerSession{s: s, nodeID: b.NodeID, ttl: time.Duration(leaseSeconds(ttl)) * time.Second, info: b,
		lost: make(chan struct{}), done: make(chan struct{})}
	start := time.Now()
	lease, rev, err := s.putBroker(ctx, b.NodeID, val, bs.ttl)
	if err != nil {
		return nil, err
	}
	bs.lease, bs.revision = lease, rev
	bs.validUntil = start.Add(bs.ttl - time.Second)

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errors.New("metastore: register broker: store closed")
	}
	s.leases = append(s.leases, lease)
	s.wg.Add(1)
	s.mu.Unlock()

	// Keep alive until ctx or the store is done.
	kctx, cancel := context.WithCancel(s.ctx)
	stop := context.AfterFunc(ctx, cancel)
	go func() {
		defer s.wg.Done()
		defer close(bs.done)
		defer cancel()
		defer stop()
		bs.keep(kctx)
	}()
	return bs, nil
}

// putBroker grants a fresh lease and writes the registration on it,
// returning the lease and the revision of the put.
func (s *Store) putBroker(ctx context.Context, nodeID int32, val []byte, ttl time.Duration) (clientv3.LeaseID, int64, error) {
	grant, err := s.cli.Grant(ctx, leaseSeconds(ttl))
	if err != nil {
		return 0, 0, fmt.Errorf("metastore: register broker %d: grant lease: %w", nodeID, err)
	}
	resp, err := s.cli.Put(ctx, s.brokerKey(nodeID), string(val), clientv3.WithLease(grant.ID))
	if err != nil {
		return 0, 0, fmt.Errorf("metastore: register broker %d: %w", nodeID, err)
	}
	return grant.ID, resp.Header.Revision, nil
}

// Revision is the etcd revision of this session's latest registration put:
// the one that started the current incarnation (the first registration, or
// the re-registration after a lost lease). SetShuttingDown does not change
// it. A partition state last written before this revision was written for
// an earlier incarnation of the broker.
func (bs *BrokerSession) Revision() int64 {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return bs.revision
}

// Incarnation is the lease id the current registration is attached to (see
// BrokerInfo.Incarnation).
func (bs *BrokerSession) Incarnation() int64 {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return int64(bs.lease)
}

// ValidUntil is the last keep-alive acknowledgement time plus the TTL minus
// one second: after it the broker must assume its registration may have
// expired (and a controller may have moved its leaderships away).
func (bs *BrokerSession) ValidUntil() time.Time {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return bs.validUntil
}

// TTL is the session timeout in effect (whole seconds).
func (bs *BrokerSession) TTL() time.Duration { return bs.ttl }

// Lost returns a channel closed the next time the session's lease is lost
// (the registration is then re-created on a new lease).
func (bs *BrokerSession) Lost() <-chan struct{} {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return bs.lost
}

// Done is closed once the session has ended (its context was cancelled or the
// store closed).
func (bs *BrokerSession) Done() <-chan struct{} { return bs.done }

// SetShuttingDown re-publishes the registration with ShuttingDown set, on the
// same lease, so the controller starts a controlled shutdown of this broker.
func (bs *BrokerSession) SetShuttingDown(ctx context.Context) error {
	bs.mu.Lock()
	bs.info.ShuttingDown = true
	info, lease := bs.info, bs.lease
	bs.mu.Unlock()
	val, err := json.Marshal(encodeBroker(info))
	if err != nil {
		return fmt.Errorf("metastore: encode broker %d: %w", info.NodeID, err)
	}
	if _, err := bs.s.cli.Put(ctx, bs.s.brokerKey(info.NodeID), string(val), clientv3.WithLease(lease)); err != nil {
		return fmt.Errorf("metastore: broker %d shutting down: %w", info.NodeID, err)
	}
	return nil
}

func (bs *BrokerSession) value() []byte {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	val, _ := json.Marshal(encodeBroker(bs.info)) // cannot fail: was encoded before
	return val
}

// keep keeps the lease alive, re-registering on a new lease if it is lost,
// until ctx is done. When ctx ends because the caller's ctx ended (not Close),
// the lease is revoked so the broker disappears promptly.
func (bs *BrokerSession) keep(ctx context.Context) {
	s := bs.s
	lease := bs.lease
	for attempt := 0; ; {
		ch, err := s.cli.KeepAlive(ctx, lease)
		if err == nil {
			for range ch {
				attempt = 0
				bs.mu.Lock()
				bs.validUntil = time.Now().Add(bs.ttl - time.Second)
				bs.mu.Unlock()
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
		bs.mu.Lock()
		close(bs.lost)
		bs.lost = make(chan struct{})
		bs.mu.Unlock()
		s.logger.Warn("broker registration lease lost; re-registering", "node", bs.nodeID, "err", err)
		if err := backoff(ctx, min(attempt*100, 1000)); err != nil {
			continue // ctx done: handled at the top of the next round
		}
		attempt++
		start := time.Now()
		if newLease, rev, err := s.putBroker(ctx, bs.nodeID, bs.value(), bs.ttl); err == nil {
			s.replaceLease(lease, newLease)
			lease = newLease
			bs.mu.Lock()
			bs.lease, bs.revision = newLease, rev
			bs.validUntil = start.Add(bs.ttl - time.Second)
			bs.mu.Unlock()
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
	brokers, _, err := s.listBrokers(ctx)
	return brokers, err
}

func (s *Store) listBrokers(ctx context.Context) ([]BrokerInfo, int64, error) {
	resp, err := s.cli.Get(ctx, s.brokersPrefix(), clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("metastore: list brokers: %w", err)
	}
	out := make([]BrokerInfo, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		b, err := decodeBroker(kv)
		if err != nil {
			return nil, 0, fmt.Errorf("metastore: list brokers: %w", err)
		}
		out = append(out, b)
	}
	sortBrokers(out)
	return out, resp.Header.Revision, nil
}

func sortBrokers(bs []BrokerInfo) {
	slices.SortFunc(bs, func(a, b BrokerInfo) int { return cmp.Compare(a.NodeID, b.NodeID) })
}

// WatchBrokers calls fn with the full registration list, sorted by node id,
// once at start and again after every change, until ctx is done or the store
// is closed (then it returns nil). Calls are sequential.
func (s *Store) WatchBrokers(ctx context.Context, fn func([]BrokerInfo)) error {
	byKey := map[string]BrokerInfo{}
	report := func() {
		out := make([]BrokerInfo, 0, len(byKey))
		for _, b := range byKey {
			out = append(out, b)
		}
		sortBrokers(out)
		fn(out)
	}
	relist := func(ctx context.Context) (int64, error) {
		brokers, rev, err := s.listBrokers(ctx)
		if err != nil {
			return 0, err
		}
		clear(byKey)
		for _, b := range brokers {
			byKey[s.brokerKey(b.NodeID)] = b
		}
		report()
		return rev, nil
	}
	onEvents := func(evs []*clientv3.Event) {
		for _, ev := range evs {
			key := string(ev.Kv.Key)
			if ev.Type == clientv3.EventTypeDelete {
				delete(byKey, key)
				continue
			}
			b, err := decodeBroker(ev.Kv)
			if err != nil {
				s.logger.Error("skipping undecodable broker registration", "key", key, "err", err)
				continue
			}
			byKey[key] = b
		}
		report()
	}
	return s.watchPrefix(ctx, "brokers", s.brokersPrefix(), relist, onEvents)
}
