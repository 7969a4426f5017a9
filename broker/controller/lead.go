package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/strata-io/strata/metastore"
)

// errLeadershipLost ends a tenure.
var errLeadershipLost = errors.New("controller: leadership lost")

// retryDelay is how long reconcile waits after a failed write before trying
// again (a conflicting write usually means the watch is about to deliver a
// newer state).
const retryDelay = 300 * time.Millisecond

// controller is one tenure as controller.
type controller struct {
	cfg Config
	l   *metastore.Leadership
	m   *metrics

	mu                              sync.Mutex
	view                            *view
	haveBrokers, haveTopics, haveSt bool
	epochFloor                      map[metastore.PartitionID]int32 // stored leaderepochs seen above a state's epoch

	kick chan struct{}
}

func (c *controller) poke() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// lead reconciles until the leadership is lost (errLeadershipLost) or ctx is
// done (nil).
func (c *controller) lead(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	c.kick = make(chan struct{}, 1)
	wg.Go(func() {
		select {
		case <-c.l.Done():
			cancel()
		case <-ctx.Done():
		}
	})
	store, log := c.cfg.Store, c.cfg.Logger
	wg.Go(func() {
		watchRetry(ctx, log, "brokers", func(ctx context.Context) error {
			return store.WatchBrokers(ctx, c.onBrokers)
		})
	})
	wg.Go(func() {
		watchRetry(ctx, log, "topics", func(ctx context.Context) error { return store.WatchTopics(ctx, c.onTopics) })
	})
	wg.Go(func() {
		watchRetry(ctx, log, "partition states", func(ctx context.Context) error {
			return store.WatchPartitionStates(ctx, c.onStates)
		})
	})

	var tick <-chan time.Time
	if iv := c.cfg.LeaderRebalanceInterval; iv > 0 {
		t := time.NewTicker(iv)
		defer t.Stop()
		tick = t.C
	}
	rebalance := false
	for {
		select {
		case <-ctx.Done():
			if parent.Err() != nil {
				return nil
			}
			return errLeadershipLost
		case <-c.kick:
		case <-tick:
			rebalance = true
		}
		c.mu.Lock()
		ready := c.haveBrokers && c.haveTopics && c.haveSt
		c.mu.Unlock()
		if !ready {
			continue
		}
		err := c.reconcile(ctx, rebalance)
		switch {
		case err == nil:
			rebalance = false
		case errors.Is(err, errLeadershipLost):
			return err
		case ctx.Err() != nil:
		default:
			log.Info("controller reconcile incomplete; retrying", "err", err)
			time.AfterFunc(retryDelay, c.poke)
		}
	}
}

func (c *controller) onBrokers(list []metastore.BrokerInfo) {
	c.mu.Lock()
	prev, first := c.view.brokers, !c.haveBrokers
	c.view.brokers = brokers{}
	for _, b := range list {
		c.view.brokers[b.NodeID] = b
	}
	// Incarnations: the first view of a tenure is accepted as known (see
	// restart.go); later, a live broker with a new incarnation restarted.
	for id, old := range prev {
		b, ok := c.view.brokers[id]
		switch {
		case !ok:
			c.view.pending.forgetBroker(id)
		case !first && b.Incarnation != old.Incarnation:
			c.view.pending.forgetBroker(id)
			n := c.view.pending.add(c.view.states, id, b.Incarnation)
			c.m.restarts.Inc()
			c.cfg.Logger.Warn("broker restarted (new incarnation); handling as failed and returned",
				"broker", id, "old_incarnation", old.Incarnation, "incarnation", b.Incarnation, "partitions", n)
		}
	}
	c.haveBrokers = true
	c.mu.Unlock()
	c.poke()
}

func (c *controller) onTopics(list []metastore.Topic) {
	c.mu.Lock()
	c.view.topics = make(map[[16]byte]metastore.Topic, len(list))
	for _, t := range list {
		c.view.topics[t.ID] = t
	}
	c.haveTopics = true
	c.mu.Unlock()
	c.poke()
}

func (c *controller) onStates(changed []metastore.PartitionState, deleted []metastore.PartitionID) {
	c.mu.Lock()
	for _, st := range changed {
		if cur, ok := c.view.states[st.ID()]; ok && cur.Revision >= st.Revision {
			continue // our own write, already applied
		}
		c.view.states[st.ID()] = st
	}
	for _, id := range deleted {
		delete(c.view.states, id)
		delete(c.view.pending, id)
		delete(c.epochFloor, id)
	}
	c.haveSt = true
	c.mu.Unlock()
	c.poke()
}

// reconcile plans and writes one round of changes.
func (c *controller) reconcile(ctx context.Context, rebalance bool) error {
	c.mu.Lock()
	res := plan(c.view, rebalance)
	for _, h := range res.handled {
		c.view.pending.resolve(h.id, h.restarts)
	}
	for i := range res.updates {
		ch := &res.updates[i]
		floor, ok := c.epochFloor[ch.next.ID()]
		if !ok {
			continue
		}
		if ch.next.LeaderEpoch != ch.old.LeaderEpoch {
			ch.next.LeaderEpoch = max(ch.next.LeaderEpoch, floor+1)
		} else if floor > ch.next.LeaderEpoch {
			ch.next.LeaderEpoch = floor
		}
	}
	c.mu.Unlock()

	var firstErr error
	keep := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	if err := c.deleteOrphans(ctx, res.orphans); err != nil {
		if errors.Is(err, errLeadershipLost) {
			return err
		}
		keep(err)
	}
	for i := range res.creates {
		ch := &res.creates[i]
		e, err := c.cfg.Store.PartitionEpoch(ctx, ch.next.TopicID, ch.next.Partition)
		switch {
		case errors.Is(err, metastore.ErrNotFound):
			ch.next.LeaderEpoch = 0
		case err != nil:
			return wrap("read leader epoch", err)
		default:
			ch.next.LeaderEpoch = e + 1
		}
	}
	changes := append(res.creates, res.updates...)
	step := c.cfg.Store.MaxPartitionStatesPerTxn()
	for lo := 0; lo < len(changes); lo += step {
		batch := changes[lo:min(lo+step, len(changes))]
		if err := c.write(ctx, batch); err != nil {
			if errors.Is(err, errLeadershipLost) {
				return err
			}
			keep(err)
		}
	}
	return firstErr
}

// write stores one batch of changes with the leadership fence and applies
// the result to the view.
func (c *controller) write(ctx context.Context, batch []change) error {
	states := make([]metastore.PartitionState, len(batch))
	for i, ch := range batch {
		states[i] = ch.next
		states[i].Revision = ch.old.Revision
	}
	written, err := c.cfg.Store.PutPartitionStatesAs(ctx, c.l, states)
	if errorsIsFenced(err) {
		if c.lost(ctx) {
			return errLeadershipLost
		}
		// A leader epoch moved past a state's (e.g. raised by a single-node
		// broker): remember it so the next round writes above it.
		for _, st := range states {
			if e, eerr := c.cfg.Store.PartitionEpoch(ctx, st.TopicID, st.Partition); eerr == nil && e > st.LeaderEpoch {
				c.mu.Lock()
				c.epochFloor[st.ID()] = e
				c.mu.Unlock()
			}
		}
		return wrap("write partition states", err)
	}
	if err != nil {
		return wrap("write partition states", err)
	}
	c.mu.Lock()
	for i, st := range written {
		if cur, ok := c.view.states[st.ID()]; !ok || cur.Revision < st.Revision {
			c.view.states[st.ID()] = st
		}
		c.view.pending.resolve(st.ID(), batch[i].restarts)
	}
	c.mu.Unlock()
	for i, ch := range batch {
		c.logChange(ch, written[i])
	}
	return nil
}

func (c *controller) logChange(ch change, st metastore.PartitionState) {
	args := []any{"topic_id", fmt.Sprintf("%x", st.TopicID), "partition", st.Partition, "replicas", st.Replicas,
		"isr", st.ISR, "epoch", st.LeaderEpoch, "reason", ch.reason}
	switch {
	case ch.old.Revision == 0:
		c.cfg.Logger.Info("partition assigned", append(args, "leader", st.Leader)...)
	case ch.old.Leader != st.Leader || ch.old.LeaderEpoch != st.LeaderEpoch:
		c.m.elections.Inc()
		c.cfg.Logger.Info("partition leadership changed", append(args, "old_leader", ch.old.Leader, "new_leader", st.Leader)...)
	default:
		c.cfg.Logger.Info("partition state changed", append(args, "leader", st.Leader, "target_replicas", st.TargetReplicas)...)
	}
}

// lost reports whether this tenure is over.
func (c *controller) lost(ctx context.Context) bool {
	select {
	case <-c.l.Done():
		return true
	default:
	}
	id, err := c.cfg.Store.Controller(ctx)
	return err == nil && id != c.cfg.NodeID
}

// deleteOrphans removes states of topics that are gone, after confirming
// with a fresh topic listing (the topic watch may lag behind a creation).
func (c *controller) deleteOrphans(ctx context.Context, orphans []metastore.PartitionID) error {
	if len(orphans) == 0 {
		return nil
	}
	topics, err := c.cfg.Store.ListTopics(ctx)
	if err != nil {
		return wrap("list topics", err)
	}
	exists := map[[16]byte]bool{}
	for _, t := range topics {
		exists[t.ID] = true
	}
	var gone []metastore.PartitionID
	for _, id := range orphans {
		if !exists[id.TopicID] {
			gone = append(gone, id)
		}
	}
	for lo := 0; lo < len(gone); lo += 64 {
		batch := gone[lo:min(lo+64, len(gone))]
		if err := c.cfg.Store.DeletePartitionStatesAs(ctx, c.l, batch); err != nil {
			if errorsIsFenced(err) {
				return errLeadershipLost
			}
			return wrap("delete partition states", err)
		}
		c.cfg.Logger.Info("deleted partition states of deleted topics", "count", len(batch))
	}
	return nil
}
