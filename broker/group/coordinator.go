package group

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// ErrClosed is returned to store-write completions queued after Close.
var ErrClosed = errors.New("group coordinator closed")

// Coordinator serves the classic group protocol for every group it owns.
type Coordinator struct {
	cfg   Config
	store Store
	log   *slog.Logger

	ctx    context.Context // lives until Close; parent of every store call
	cancel context.CancelFunc

	mu      sync.RWMutex // guards groups, closed, place and loading; never held while taking a group lock
	groups  map[string]*group
	closed  bool
	place   placement
	loading chan struct{} // closed when the current load of gained groups ends; nil when none runs
	loadGen uint64
	loadMu  sync.Mutex  // serialises loads
	fenced  atomic.Bool // the fence failed since the last Place: memory may be stale

	qmu     sync.Mutex // guards queues and qclosed
	queues  map[string]*writeQueue
	qclosed bool
	workers sync.WaitGroup
}

// New builds a coordinator and loads every saved group and committed offset
// from store. Members of loaded groups must heartbeat within their session
// timeout or they are removed.
func New(ctx context.Context, cfg Config, store Store) (*Coordinator, error) {
	cfg = cfg.withDefaults()
	c := &Coordinator{
		cfg:    cfg,
		store:  store,
		log:    cfg.Logger,
		groups: make(map[string]*group),
		queues: make(map[string]*writeQueue),
	}
	c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := c.load(ctx); err != nil {
		c.cancel()
		return nil, err
	}
	return c, nil
}

func (c *Coordinator) load(ctx context.Context) error {
	states, err := c.store.LoadGroups(ctx)
	if err != nil {
		return fmt.Errorf("load groups: %w", err)
	}
	offs, err := c.store.AllOffsets(ctx)
	if err != nil {
		return fmt.Errorf("load offsets: %w", err)
	}
	for name, raw := range states {
		g := newGroup(c, name)
		if err := g.restore(raw); err != nil {
			return fmt.Errorf("load group %q: %w", name, err)
		}
		c.groups[name] = g
	}
	for k, o := range offs {
		g := c.groups[k.Group]
		if g == nil {
			g = newGroup(c, k.Group)
			c.groups[k.Group] = g
		}
		g.offsets[tp{k.Topic, k.Partition}] = o
	}
	for _, g := range c.groups {
		g.mu.Lock()
		for _, m := range g.members {
			g.heartbeat(m)
		}
		g.unlock()
	}
	return nil
}

// Close stops every timer, answers requests still waiting in a rebalance with
// NOT_COORDINATOR, waits for queued store writes and releases resources.
// Requests arriving after Close get COORDINATOR_NOT_AVAILABLE.
func (c *Coordinator) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	gs := make([]*group, 0, len(c.groups))
	for _, g := range c.groups {
		gs = append(gs, g)
	}
	c.mu.Unlock()
	for _, g := range gs {
		g.mu.Lock()
		g.shutdown()
		g.unlock()
	}
	c.qmu.Lock()
	c.qclosed = true
	c.qmu.Unlock()
	c.workers.Wait()
	c.cancel()
}

func (c *Coordinator) isClosed() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.closed
}

// lockGroup returns the named group locked, creating it (Empty) when create is
// set. Without a group it returns a code: COORDINATOR_NOT_AVAILABLE after
// Close, NOT_COORDINATOR for a group another node owns,
// COORDINATOR_LOAD_IN_PROGRESS while gained groups are still loading, or 0
// when the group does not exist and create is not set. The caller must
// g.unlock().
func (c *Coordinator) lockGroup(name string, create bool) (*group, int16) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, kerr.CoordinatorNotAvailable.Code
		}
		if !c.ownsLocked(name) {
			c.mu.Unlock()
			return nil, kerr.NotCoordinator.Code
		}
		if c.fenced.Load() && c.place.set {
			// The fence failed and recovered without a new placement: what is
			// in memory may be stale, so reload it.
			c.fenced.Store(false)
			dropped := c.dropLocked(true)
			c.startLoadLocked()
			gen, ch := c.loadGen, c.loading
			c.mu.Unlock()
			c.shutdownDropped(dropped)
			go c.loadOwned(gen, ch)
			continue
		}
		g := c.groups[name]
		if g == nil && c.loading != nil {
			c.mu.Unlock()
			if !c.awaitLoad() {
				return nil, kerr.CoordinatorLoadInProgress.Code
			}
			continue
		}
		if g == nil && c.place.set {
			// Placed among nodes: a group comes into memory only claimed
			// first, then read from the store.
			c.mu.Unlock()
			found, err := c.acquire(name, create)
			if err != nil {
				c.log.Warn("taking over group failed", "group", name, "err", err)
				return nil, kerr.CoordinatorNotAvailable.Code
			}
			if !found {
				return nil, 0
			}
			continue
		}
		if g == nil {
			if !create {
				c.mu.Unlock()
				return nil, 0
			}
			g = newGroup(c, name)
			c.groups[name] = g
		}
		c.mu.Unlock()
		g.mu.Lock()
		if g.state != stateDead {
			return g, 0
		}
		// Deleted or dropped between the lookup and the lock: look again.
		g.unlock()
	}
}

// removeGroup drops a (Dead) group from the map; called with g.mu held.
func (c *Coordinator) removeGroup(g *group) {
	c.mu.Lock()
	if c.groups[g.name] == g {
		delete(c.groups, g.name)
	}
	c.mu.Unlock()
}

// snapshotGroups returns the current groups (unlocked).
func (c *Coordinator) snapshotGroups() []*group {
	c.mu.RLock()
	defer c.mu.RUnlock()
	gs := make([]*group, 0, len(c.groups))
	for _, g := range c.groups {
		gs = append(gs, g)
	}
	return gs
}

// CommittedOffsets returns a copy of the committed offsets of every group.
func (c *Coordinator) CommittedOffsets() map[OffsetKey]Offset {
	out := make(map[OffsetKey]Offset)
	for _, g := range c.snapshotGroups() {
		g.mu.Lock()
		if g.state != stateDead {
			for k, o := range g.offsets {
				out[OffsetKey{Group: g.name, Topic: k.Topic, Partition: k.Partition}] = o
			}
		}
		g.unlock()
	}
	return out
}

// TopicDeleted forgets (in memory and in the store) every committed offset of topic.
func (c *Coordinator) TopicDeleted(topic string) {
	for _, g := range c.snapshotGroups() {
		g.mu.Lock()
		var keys []OffsetKey
		for k := range g.offsets {
			if k.Topic == topic {
				keys = append(keys, OffsetKey{Group: g.name, Topic: k.Topic, Partition: k.Partition})
				delete(g.offsets, k)
			}
		}
		if len(keys) > 0 && g.state != stateDead {
			name := g.name
			c.enqueue(g, func(ctx context.Context, rev int64) error {
				return c.store.DeleteOffsets(ctx, name, rev, keys)
			}, func(err error) {
				if err != nil {
					c.log.Warn("delete offsets of deleted topic", "group", name, "topic", topic, "err", err)
				}
			})
		}
		g.unlock()
	}
}

// writeQueue runs one group's store writes in order.
type writeQueue struct {
	ops []writeOp
}

type writeOp struct {
	g      *group
	run    func(ctx context.Context, rev int64) error
	finish func(err error)
}

// enqueue schedules a store write for group g after every earlier one of the
// same group name; run gets g's claim revision to fence the write with.
// finish is called with run's result from the queue's goroutine, without any
// lock held. Safe to call with a group lock held.
func (c *Coordinator) enqueue(g *group, run func(ctx context.Context, rev int64) error, finish func(err error)) {
	name := g.name
	c.qmu.Lock()
	if c.qclosed {
		c.qmu.Unlock()
		go finish(ErrClosed)
		return
	}
	q := c.queues[name]
	if q == nil {
		q = &writeQueue{}
		c.queues[name] = q
		c.workers.Add(1)
		go c.drain(name, q)
	}
	q.ops = append(q.ops, writeOp{g: g, run: run, finish: finish})
	c.qmu.Unlock()
}

func (c *Coordinator) drain(name string, q *writeQueue) {
	defer c.workers.Done()
	for {
		c.qmu.Lock()
		if len(q.ops) == 0 {
			delete(c.queues, name)
			c.qmu.Unlock()
			return
		}
		op := q.ops[0]
		q.ops[0] = writeOp{}
		q.ops = q.ops[1:]
		c.qmu.Unlock()

		var err error
		if c.ownsGroup(name) {
			ctx, cancel := context.WithTimeout(c.ctx, c.cfg.StoreTimeout)
			var rev int64
			if rev, err = c.claimFor(ctx, op.g); err == nil {
				err = op.run(ctx, rev)
			}
			cancel()
		} else {
			// Another node owns the group now: writing could overwrite what
			// it committed.
			err = ErrNotCoordinator
		}
		if errors.Is(err, ErrFenced) {
			// Another claim replaced this copy's: the group lives elsewhere
			// (or must be read afresh here).
			c.dropCopy(op.g)
		}
		op.finish(err)
	}
}

func millis(ms int32) time.Duration { return time.Duration(ms) * time.Millisecond }
