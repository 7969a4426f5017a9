package metastore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Leadership is this process's tenure as cluster controller: an etcd
// election key on a session lease. Writes made with it (PutPartitionStatesAs,
// DeletePartitionStatesAs) fail with ErrFenced once the tenure is over.
type Leadership struct {
	nodeID   int32
	session  *concurrency.Session
	election *concurrency.Election
	key      string
	rev      int64 // create revision of key
}

// NodeID is the controller's broker id.
func (l *Leadership) NodeID() int32 { return l.nodeID }

// Done is closed when the leadership is lost: the session lease expired or
// was revoked, or Resign was called.
func (l *Leadership) Done() <-chan struct{} { return l.session.Done() }

// Resign gives up the leadership (deleting the election key so another
// candidate takes over at once) and ends the session.
func (l *Leadership) Resign(ctx context.Context) error {
	err := l.election.Resign(ctx)
	if cerr := l.session.Close(); err == nil && cerr != nil && !errors.Is(cerr, context.Canceled) {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("metastore: resign controller %d: %w", l.nodeID, err)
	}
	return nil
}

func (l *Leadership) guard() *writeGuard { return &writeGuard{key: l.key, createRev: l.rev} }

// Campaign blocks until this node is elected controller (or ctx is done), on
// a session whose lease TTL is BrokerTTL.
func (s *Store) Campaign(ctx context.Context, nodeID int32) (*Leadership, error) {
	return s.CampaignTTL(ctx, nodeID, BrokerTTL)
}

// CampaignTTL is Campaign with an explicit session timeout (whole seconds,
// at least 2 s): if this process stops keeping the session alive for that
// long, it loses the leadership.
func (s *Store) CampaignTTL(ctx context.Context, nodeID int32, ttl time.Duration) (*Leadership, error) {
	// The session lives until Resign or Close, not just this call's ctx.
	sess, err := concurrency.NewSession(s.cli, concurrency.WithTTL(int(leaseSeconds(ttl))), concurrency.WithContext(s.ctx))
	if err != nil {
		return nil, fmt.Errorf("metastore: controller campaign of %d: session: %w", nodeID, err)
	}
	el := concurrency.NewElection(sess, s.controllerPrefix())
	if err := el.Campaign(ctx, strconv.Itoa(int(nodeID))); err != nil {
		_ = sess.Close()
		return nil, fmt.Errorf("metastore: controller campaign of %d: %w", nodeID, err)
	}
	return &Leadership{nodeID: nodeID, session: sess, election: el, key: el.Key(), rev: el.Rev()}, nil
}

// Controller returns the current controller's node id, or -1 if there is
// none.
func (s *Store) Controller(ctx context.Context) (int32, error) {
	resp, err := s.cli.Get(ctx, s.controllerPrefix(), clientv3.WithFirstCreate()...)
	if err != nil {
		return -1, fmt.Errorf("metastore: get controller: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return -1, nil
	}
	id, err := strconv.ParseInt(string(resp.Kvs[0].Value), 10, 32)
	if err != nil {
		return -1, fmt.Errorf("metastore: decode controller %q: %w", resp.Kvs[0].Value, err)
	}
	return int32(id), nil
}

// PutPartitionStatesAs writes states in one transaction that also checks l is
// still the controller: each state is compared on its Revision (0: create,
// must not exist). It returns the written states with their new Revision, or
// ErrConflict (a state changed or exists), ErrNotFound, or ErrFenced (l is no
// longer controller, or a leader epoch would go down). At most
// MaxPartitionStatesPerTxn states per call.
func (s *Store) PutPartitionStatesAs(ctx context.Context, l *Leadership, states []PartitionState) ([]PartitionState, error) {
	return s.writePartitionStates(ctx, "controller put partition states", states, l.guard(), ErrConflict)
}

// DeletePartitionStatesAs deletes the given partition states (absent ones are
// ignored) in one transaction that checks l is still the controller
// (ErrFenced otherwise).
func (s *Store) DeletePartitionStatesAs(ctx context.Context, l *Leadership, ids []PartitionID) error {
	if len(ids) == 0 {
		return nil
	}
	if len(ids) > s.maxTxnOps {
		return fmt.Errorf("metastore: delete %d partition states in one transaction, at most %d", len(ids), s.maxTxnOps)
	}
	ops := make([]clientv3.Op, len(ids))
	for i, id := range ids {
		ops[i] = clientv3.OpDelete(s.partitionKey(id.TopicID, id.Partition))
	}
	resp, err := s.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(l.key), "=", l.rev)).Then(ops...).Commit()
	if err != nil {
		return fmt.Errorf("metastore: delete partition states: %w", err)
	}
	if !resp.Succeeded {
		return fmt.Errorf("metastore: delete partition states: controller leadership lost: %w", ErrFenced)
	}
	return nil
}
